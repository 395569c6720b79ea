//! Public links through the Graph API: `createLink`, and an item's `permissions` listed and
//! deleted (API-NOTES §3.5, §3.7, §4, §6; docs/opencloud-behaviour.md, "Creating a link",
//! "Password rules", "Expiry", "Listing and deleting links").

use serde_json::{Map, Value, json};

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, Route};
use super::drive::Link;
use super::expiry::{self, Written};
use super::faults::LinkType;
use super::ids::{self, ParsedId};
use super::password_policy::BCRYPT_MAX_BYTES;

/// A Graph refusal: its status and message (an odata error once answered).
type Refusal = (u16, &'static str);

/// What every permissions listing carries, links or not: the actions and the link roles
/// (docs/opencloud-behaviour.md, "Listing and deleting links"; recording `130`).
const ALLOWED_VALUES: &str = r#"{"@libre.graph.permissions.actions.allowedValues":["libre.graph/driveItem/permissions/create","libre.graph/driveItem/children/create","libre.graph/driveItem/standard/delete","libre.graph/driveItem/path/read","libre.graph/driveItem/quota/read","libre.graph/driveItem/content/read","libre.graph/driveItem/upload/create","libre.graph/driveItem/permissions/read","libre.graph/driveItem/children/read","libre.graph/driveItem/versions/read","libre.graph/driveItem/deleted/read","libre.graph/driveItem/path/update","libre.graph/driveItem/permissions/delete","libre.graph/driveItem/deleted/delete","libre.graph/driveItem/versions/update","libre.graph/driveItem/deleted/update","libre.graph/driveItem/basic/read","libre.graph/driveItem/permissions/update","libre.graph/driveItem/permissions/deny"],"@libre.graph.permissions.roles.allowedValues":[{"@libre.graph.weight":1,"description":"View and download.","displayName":"Can view","id":"b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5"},{"@libre.graph.weight":2,"description":"View, download and upload.","displayName":"Can upload","id":"1c996275-f1c9-4e71-abdf-a42f6495e960"},{"@libre.graph.weight":3,"description":"View, download, upload, edit, add and delete.","displayName":"Can edit","id":"fb6c3e19-e378-47e5-b277-9732f9de6e21"}]}"#;

/// A `driveItemCreateLink` body, decoded.
#[derive(Debug, Default)]
struct CreateLink {
    link_type: Option<LinkType>,
    password: Option<String>,
    display_name: Option<String>,
    expiration: Option<Written>,
    quick_link: bool,
}

/// Decodes a `driveItemCreateLink` as the Graph service's `StrictJSONUnmarshal` does (API-NOTES
/// §3.5; docs/opencloud-behaviour.md, "Creating a link"): the first JSON value of the body; an
/// unknown field, a value of the wrong type, a type outside the enum or a date that is not RFC
/// 3339 is refused. Field names match without regard to case and `null` is no value, as Go's
/// `encoding/json` decodes [I].
fn decode(body: &[u8]) -> Option<CreateLink> {
    let first = serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let fields = match first {
        Value::Null => Map::new(),
        Value::Object(fields) => fields,
        _ => return None,
    };
    let text = |value: Value| -> Result<Option<String>, ()> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            _ => Err(()),
        }
    };
    let mut request = CreateLink::default();
    for (name, value) in fields {
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        if is("type") {
            request.link_type = match text(value).ok()? {
                None => None,
                Some(t) => Some(LinkType::parse(&t)?),
            };
        } else if is("password") {
            request.password = text(value).ok()?;
        } else if is("displayName") {
            request.display_name = text(value).ok()?;
        } else if is("expirationDateTime") {
            request.expiration = match text(value).ok()? {
                None => None,
                Some(t) => Some(Written::parse(&t)?),
            };
        } else if is("@libre.graph.quickLink") {
            request.quick_link = match value {
                Value::Null => false,
                Value::Bool(b) => b,
                _ => return None,
            };
        } else {
            // Unknown fields are refused (API-NOTES §3.5: DisallowUnknownFields; docs/opencloud-behaviour.md,
            // "Creating a link").
            return None;
        }
    }
    Some(request)
}

/// The link type a `createLink` body asks for, if it decodes: the step's key for faults.
pub(super) fn requested_link_type(body: &[u8]) -> Option<LinkType> {
    decode(body)?.link_type
}

/// Whether OpenCloud makes this type of link on a folder or a file: `blocksDownload` is not
/// handled by this server version, `upload` and `createOnly` only exist for folders (API-NOTES
/// §3.5; OC `linktype.go`).
fn makes(link_type: LinkType, folder: bool) -> bool {
    match link_type {
        LinkType::Internal | LinkType::View | LinkType::Edit => true,
        LinkType::Upload | LinkType::CreateOnly => folder,
        LinkType::BlocksDownload => false,
    }
}

/// A link as the Graph API writes it: one `permission` object (API-NOTES §3.5;
/// docs/opencloud-behaviour.md, "Creating a link"), `expirationDateTime` only when set.
fn permission(link: &Link) -> Value {
    let mut permission = json!({
        "id": link.id,
        "hasPassword": link.password.is_some(),
        "createdDateTime": link.created,
        "link": {
            "type": link.link_type,
            "webUrl": link.web_url,
            "preventsDownload": false,
            "@libre.graph.displayName": link.display_name,
            "@libre.graph.quickLink": link.quick_link,
        },
    });
    if let Some(expiration) = &link.expiration {
        permission["expirationDateTime"] = json!(expiration);
    }
    permission
}

impl Call<'_> {
    pub(super) fn links(&self, world: &mut World) -> Answer {
        match (&self.route, self.method.as_str()) {
            (Route::CreateLink { drive, item }, "POST") => self.create_link(world, drive, item),
            (Route::Permissions { drive, item }, "GET") => {
                self.list_permissions(world, drive, item)
            }
            (
                Route::Permission {
                    drive,
                    item,
                    permission,
                },
                "DELETE",
            ) => self.delete_permission(world, drive, item, permission),
            (
                Route::SetPassword {
                    drive,
                    item,
                    permission,
                },
                "POST",
            ) => self.set_password(world, drive, item, permission),
            (Route::SharedByMe, "GET") => shared_by_me(world),
            _ => answers::empty(405),
        }
    }

    /// The ids of a `/drives/{d}/items/{i}/…` path checked as the Graph service's
    /// `GetDriveAndItemIDParam` does (API-NOTES §3.7, §6; docs/opencloud-behaviour.md, "IDs"):
    /// an item id without `!` is refused ("invalid itemID"), a drive and item of different
    /// spaces are not found.
    fn item_param(&self, drive: &str, item: &str) -> Result<ParsedId, Refusal> {
        let drive = ParsedId::parse(drive).ok_or((400, "invalid driveID"))?;
        let item = ParsedId::parse(item).ok_or((400, "invalid itemID"))?;
        if item.opaque.is_empty() {
            return Err((400, "invalid itemID"));
        }
        if drive.storage != item.storage || drive.space != item.space {
            return Err((404, "driveID and itemID do not match"));
        }
        Ok(item)
    }

    /// The path of an item that exists in the drive, or Graph's 404 in the storage's words,
    /// with their trailing space (docs/opencloud-behaviour.md, "Creating a link", "Listing and
    /// deleting links").
    fn stat(&self, world: &World, item: &ParsedId) -> Result<String, Refusal> {
        world
            .drive
            .owns(item)
            .then(|| world.drive.path_of(&item.opaque))
            .flatten()
            .ok_or((404, "stat: error: not found: "))
    }

    /// `createLink`, its checks in the server's order (API-NOTES §3.5, §4, §6; OC
    /// `api_driveitem_permissions_links.go`, reva `publicshareprovider.go`;
    /// docs/opencloud-behaviour.md, "Creating a link").
    fn create_link(&self, world: &mut World, drive: &str, item: &str) -> Answer {
        let item = match self.item_param(drive, item) {
            Ok(item) => item,
            Err((status, message)) => return answers::odata(status, message),
        };
        // API-NOTES §3.5: unknown fields, a bad enum value or a bad date → 400 "invalid body
        // schema definition" (docs/opencloud-behaviour.md, "Creating a link").
        let Some(request) = decode(&self.body) else {
            return answers::odata(400, "invalid body schema definition");
        };
        let path = match self.stat(world, &item) {
            Ok(path) => path,
            Err((status, message)) => return answers::odata(status, message),
        };
        let folder = world.drive.is_folder(&path);
        // API-NOTES §3.5: a missing type, `blocksDownload`, or `upload`/`createOnly` on a file
        // → 400 "invalid link type" (docs/opencloud-behaviour.md, "Creating a link").
        let link_type = match request.link_type {
            Some(link_type) if makes(link_type, folder) => link_type,
            _ => return answers::odata(400, "invalid link type"),
        };
        let internal = link_type == LinkType::Internal;
        let password = request.password.unwrap_or_default();
        // An internal link takes no password (not in API-NOTES; OC
        // `api_driveitem_permissions_links.go`; docs/opencloud-behaviour.md, "Creating a link").
        if internal && !password.is_empty() {
            return answers::odata(400, "password is redundant for the internal link");
        }
        // API-NOTES §3.5 "Expiry rounding": 23:59:59 of the written date, in its offset;
        // Go's zero time → 400 (docs/opencloud-behaviour.md, "Expiry").
        let expires = match request.expiration {
            Some(written) if written.is_zero() => {
                return answers::odata(400, "invalid expiration date");
            }
            Some(written) => Some(written.filled_up()),
            None => None,
        };
        // API-NOTES §2: without CreatePublicLinkPermission, PERMISSION_DENIED → 403 (docs/opencloud-behaviour.md,
        // "Creating a link").
        if !internal && !self.shared.options.may_create_links {
            return answers::odata(403, "no permission to create public links");
        }
        // API-NOTES §6: the root as `<drive>!<spaceid>` → 400 (docs/opencloud-behaviour.md, "Creating a link").
        if item.opaque == world.drive.space_id {
            return answers::odata(400, "cannot create link on personal space root");
        }
        // A quick link is made once per item: asking again returns it (not in API-NOTES;
        // reva `publicshareprovider.go`; docs/opencloud-behaviour.md, "Creating a link").
        if request.quick_link
            && let Some(existing) = world
                .drive
                .links_on(&item.opaque)
                .into_iter()
                .find(|link| link.quick_link)
        {
            return answers::json(200, &permission(existing));
        }
        let now = expiry::now_unix();
        // API-NOTES §3.5: the rounded expiry in the past → 400 (docs/opencloud-behaviour.md, "Expiry").
        if let Some(expires) = expires
            && expires < now
        {
            return answers::odata(
                400,
                &format!(
                    "expiration date is in the past: {}",
                    expiry::format_utc(expires)
                ),
            );
        }
        // API-NOTES §3.5, §4: every link but an internal one needs a password (the default
        // OC_SHARING_PUBLIC_SHARE_MUST_HAVE_PASSWORD=true; docs/opencloud-behaviour.md, "Creating a link").
        if !internal && password.is_empty() {
            return answers::odata(400, "password protection is enforced");
        }
        // API-NOTES §4: the policy's messages, joined with newlines (docs/opencloud-behaviour.md, "Password
        // rules").
        if !password.is_empty()
            && let Some(refusal) = self.shared.options.password_policy.refusal(&password)
        {
            return answers::odata(400, &refusal);
        }
        // API-NOTES §6: bcrypt refuses more than 72 bytes when the link is stored (docs/opencloud-behaviour.md,
        // "Password rules").
        if password.len() > BCRYPT_MAX_BYTES {
            return answers::odata(
                500,
                "error persisting public share:could not hash share password: bcrypt: password length exceeds 72 bytes",
            );
        }
        let token = ids::letters(15);
        let link = Link {
            id: ids::letters(15),
            link_type: link_type.as_str().to_owned(),
            password: (!password.is_empty()).then_some(password),
            // API-NOTES §3.5: webUrl = OC_URL + "/s/" + token (docs/opencloud-behaviour.md, "Creating a link").
            web_url: format!("{}/s/{token}", self.shared.base_url),
            display_name: request.display_name.unwrap_or_default(),
            expiration: expires.map(expiry::format_utc),
            token,
            item_id: world.drive.item_id_of(&item.opaque),
            created: expiry::format_utc(now),
            quick_link: request.quick_link,
        };
        let answer = answers::json(200, &permission(&link));
        world.drive.links.push(link);
        answer
    }

    /// An item's links after the allowed actions and roles; without links, no `value` key at
    /// all (API-NOTES §3.7, §6; docs/opencloud-behaviour.md, "Listing and deleting links").
    fn list_permissions(&self, world: &World, drive: &str, item: &str) -> Answer {
        let item = match self.item_param(drive, item) {
            Ok(item) => item,
            Err((status, message)) => return answers::odata(status, message),
        };
        if let Err((status, message)) = self.stat(world, &item) {
            return answers::odata(status, message);
        }
        let links: Vec<Value> = world
            .drive
            .links_on(&item.opaque)
            .into_iter()
            .map(permission)
            .collect();
        let mut listing: Value = serde_json::from_str(ALLOWED_VALUES).unwrap_or_default();
        if !links.is_empty() {
            listing["value"] = Value::Array(links);
        }
        let mut answer = answers::json(200, &listing);
        answer
            .headers_mut()
            .insert("content-language", http::HeaderValue::from_static(""));
        answer
    }

    /// Deletes a link: 204, whether its item exists or not; an unknown one 404 naming its id,
    /// one of another item 400 (API-NOTES §3.7; docs/opencloud-behaviour.md, "Listing and
    /// deleting links").
    fn delete_permission(
        &self,
        world: &mut World,
        drive: &str,
        item: &str,
        permission_id: &str,
    ) -> Answer {
        let item = match self.item_param(drive, item) {
            Ok(item) => item,
            Err((status, message)) => return answers::odata(status, message),
        };
        let links = &mut world.drive.links;
        let Some(index) = links.iter().position(|link| link.id == permission_id) else {
            return answers::odata(
                404,
                &format!("error: not found: opaque_id:\"{permission_id}\""),
            );
        };
        if ParsedId::parse(&links[index].item_id).as_ref() != Some(&item) {
            return answers::odata(400, "permissionID and itemID do not match");
        }
        links.remove(index);
        answers::empty(204)
    }
}

/// `sharedByMe`: every item of the drive that has a link, at any depth, with its links inline
/// and where it is (`parentReference`); an item whose links were all deleted is not in it
/// (docs/opencloud-behaviour.md, "Listing the rooms' folders and their links").
fn shared_by_me(world: &World) -> Answer {
    let drive = &world.drive;
    let mut items: Vec<(String, Vec<&Link>)> = Vec::new();
    for link in &drive.links {
        match items.iter_mut().find(|(id, _)| *id == link.item_id) {
            Some((_, links)) => links.push(link),
            None => items.push((link.item_id.clone(), vec![link])),
        }
    }
    let value: Vec<Value> = items
        .into_iter()
        .filter_map(|(id, links)| {
            let opaque = ParsedId::parse(&id)?.opaque;
            let path = drive.path_of(&opaque)?;
            let parent = super::drive::parent(&path).to_owned();
            let parent_opaque = drive.get(&parent)?.opaque.clone();
            let mut item = json!({
                "id": id,
                "name": path.rsplit('/').next().unwrap_or_default(),
                "parentReference": {
                    "driveId": drive.drive_id(),
                    "driveType": "personal",
                    "id": drive.graph_item_id(&parent_opaque),
                    "path": format!("/{parent}"),
                },
                "permissions": links.into_iter().map(permission).collect::<Vec<_>>(),
            });
            if drive.is_folder(&path) {
                item["folder"] = json!({});
            } else {
                item["file"] = json!({});
            }
            Some(item)
        })
        .collect();
    answers::json(200, &json!({ "value": value }))
}

/// `setPassword`'s body: `{"password": "…"}`, nothing else.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPassword {
    password: String,
}

impl Call<'_> {
    /// A link's new password, in place: its id, token and URL stay; the policy and bcrypt's
    /// limit apply as at `createLink` (API-NOTES §3.7, §4; docs/opencloud-behaviour.md,
    /// "Changing a link's password").
    fn set_password(
        &self,
        world: &mut World,
        drive: &str,
        item: &str,
        permission_id: &str,
    ) -> Answer {
        let item = match self.item_param(drive, item) {
            Ok(item) => item,
            Err((status, message)) => return answers::odata(status, message),
        };
        if let Err((status, message)) = self.stat(world, &item) {
            return answers::odata(status, message);
        }
        let Ok(SetPassword { password }) = serde_json::from_slice(&self.body) else {
            return answers::odata(400, "invalid body schema definition");
        };
        let Some(link) = world
            .drive
            .links
            .iter_mut()
            .find(|link| link.id == permission_id)
        else {
            return answers::odata(
                404,
                &format!("error: not found: no shares found by id:opaque_id:\"{permission_id}\""),
            );
        };
        if ParsedId::parse(&link.item_id).as_ref() != Some(&item) {
            return answers::odata(400, "permissionID and itemID do not match");
        }
        if password.is_empty() {
            return answers::odata(400, "password protection is enforced");
        }
        if let Some(refusal) = self.shared.options.password_policy.refusal(&password) {
            return answers::odata(400, &refusal);
        }
        if password.len() > BCRYPT_MAX_BYTES {
            return answers::odata(
                500,
                "error persisting public share:could not hash share password: bcrypt: password length exceeds 72 bytes",
            );
        }
        link.password = Some(password);
        answers::json(200, &permission(link))
    }
}

/// Whether a link's type lets a participant do this in its folder (docs/opencloud-behaviour.md,
/// "Public links"): `view` reads; `upload` reads and adds; `createOnly` only adds; `edit` does
/// everything (API-NOTES §3.5 for edit, upload and createOnly on a folder; the rest [I]).
pub(super) fn link_allows(link_type: &str, action: Action) -> bool {
    matches!(
        (link_type, action),
        ("edit", _) | ("view" | "upload", Action::Read) | ("upload" | "createOnly", Action::Create)
    )
}

/// What a request through a public link does to the link's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Read,
    /// A new file or folder.
    Create,
    /// An existing file written again.
    Overwrite,
    Delete,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_link_bodies_decode_strictly() {
        let ok = decode(br#"{"type":"edit","password":"x","displayName":"d","expirationDateTime":"2026-12-31T10:00:00Z"}"#).unwrap();
        assert_eq!(ok.link_type, Some(LinkType::Edit));
        assert!(decode(br#"{"type":"edit","role":"x"}"#).is_none());
        assert!(decode(br#"{"type":"nope"}"#).is_none());
        assert!(decode(br#"{"type":"view","expirationDateTime":"2026-12-31"}"#).is_none());
        assert!(decode(br#"{"type":"view","password":1}"#).is_none());
        assert!(decode(b"").is_none());
        assert!(decode(b"[]").is_none());
        // Go's decoder: names without regard to case, null as no value, the first value only.
        let loose = decode(br#"{"Type":"view","password":null} trailing"#).unwrap();
        assert_eq!(
            (loose.link_type, loose.password),
            (Some(LinkType::View), None)
        );
        assert_eq!(
            requested_link_type(br#"{"type":"upload"}"#),
            Some(LinkType::Upload)
        );
    }
}
