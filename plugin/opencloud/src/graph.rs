//! OpenCloud's libre-graph API: the personal drive, and public links — made, listed and
//! deleted — on an item.
//!
//! Answers are JSON; a refusal is an odata error,
//! `{"error":{"code":"invalidRequest","message":"…","innererror":{…}}}` (API-NOTES §1 [V],
//! "Answer shapes"), whose `message` is passed on. The proxy's 401 has no body on Graph paths,
//! except for a DELETE, which it counts as WebDAV and answers with Sabre-style XML, its tags
//! capitalised (`<s:Message>`; docs/opencloud-behaviour.md, "Authentication"): both are read.

use alloc::collections::BTreeMap;
use serde::{Deserialize, Serialize};

use crate::errors::{self, Error};
use crate::http::{Request, Response};
use crate::ids::{self, DriveId, ItemId, LinkId};
use crate::prelude::*;
use crate::settings::Settings;
use provider_kit::expiry::Date;
use provider_kit::{dav, expiry, json};

/// How errors name the storage.
pub const STORAGE: &str = "OpenCloud";

/// The two kinds of link a room gets (`sharingLinkType`, API-NOTES §3.5 [V]; "Creating a
/// link"): on a folder, `edit` reads, writes and deletes, `view` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The read-write link, for moderators.
    Edit,
    /// The read-only link, for everyone.
    View,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Edit => "edit",
            Kind::View => "view",
        }
    }

    /// The link's `displayName`: how the account's owner tells the two apart in OpenCloud, and
    /// how [`find`] recognises a link whose creation lost its answer.
    pub fn display_name(self) -> &'static str {
        match self {
            Kind::Edit => "Shared folder (read-write)",
            Kind::View => "Shared folder (read-only)",
        }
    }
}

fn get(path: String) -> Request {
    // OpenTalk's client sends `Accept: application/json` on every request (API-NOTES §1 [V]).
    Request::new("GET", path).header("accept", "application/json")
}

/// `GET {base}/graph/v1.0/me/drive`: the account's personal drive (API-NOTES §3.1 [V], "The
/// personal drive"). `me/drives` would list the virtual "Shares" drive first (API-NOTES §6).
pub fn my_drive(settings: &Settings) -> Request {
    get(format!("{}/graph/v1.0/me/drive", settings.origin.base_path))
}

#[derive(Deserialize)]
struct Drive {
    id: Option<String>,
    #[serde(rename = "driveType")]
    drive_type: Option<String>,
}

/// The drive's id from `me/drive`'s answer: one drive object whose `driveType` is `personal`
/// (API-NOTES §3.1 [V]). 404 is a drive that does not exist ("drive not found").
pub fn drive(response: &Response) -> Result<DriveId, Error> {
    if response.status != 200 {
        return Err(error(response));
    }
    let drive: Drive = json::parse(&response.body)
        .ok_or_else(|| Error::Protocol("me/drive did not answer with a drive".into()))?;
    if drive.drive_type.as_deref() != Some("personal") {
        return Err(Error::Protocol(format!(
            "me/drive answered with a drive of type {:?}, not the personal drive",
            drive.drive_type.as_deref().unwrap_or("(none)")
        )));
    }
    let id = drive.id.unwrap_or_default();
    DriveId::parse(&id).ok_or_else(|| ids::unreadable("the personal drive's id", &id))
}

/// `{base}/graph/v1beta1/drives/{d}/items/{i}`, ids escaped as [`ids::encode`] does.
fn item_path(settings: &Settings, drive: &DriveId, item: &ItemId) -> String {
    format!(
        "{}/graph/v1beta1/drives/{}/items/{}",
        settings.origin.base_path,
        ids::encode(drive.as_str()),
        ids::encode(item.as_str())
    )
}

/// `driveItemCreateLink`, exactly the fields OpenCloud knows: it refuses an unknown one
/// (strict JSON: API-NOTES §3.5 [V], "Creating a link" step 2).
#[derive(Serialize)]
struct CreateLink<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    password: &'a str,
    #[serde(rename = "displayName")]
    display_name: &'a str,
    /// Left out without an expiry, as OpenTalk does (API-NOTES §3.5 [V]).
    #[serde(rename = "expirationDateTime", skip_serializing_if = "Option::is_none")]
    expiration: Option<&'a str>,
}

/// `POST …/items/{i}/createLink` with `Content-Type: application/json` (API-NOTES §3.5 [V]).
pub fn create_link(
    settings: &Settings,
    drive: &DriveId,
    item: &ItemId,
    kind: Kind,
    password: &str,
    expiration: Option<&str>,
) -> Request {
    let body = CreateLink {
        kind: kind.as_str(),
        password,
        display_name: kind.display_name(),
        expiration,
    };
    // Only a body over 1 MiB fails to encode; an empty one is refused by the server.
    let json = json::encode(&body).unwrap_or_default();
    Request::new(
        "POST",
        format!("{}/createLink", item_path(settings, drive, item)),
    )
    .header("accept", "application/json")
    .json_body(json)
}

/// `expirationDateTime` for links that expire on `date`: 23:59:59 UTC that day. OpenCloud
/// replaces the time of day by 23:59:59 of the date in the offset given (`parseAndFillUpTime`:
/// API-NOTES §3.5 [V], "Expiry"), so this is what it stores either way.
pub fn expiration(date: Date) -> String {
    format!("{}T23:59:59Z", expiry::iso_date(date))
}

/// A permission as Graph writes it, as far as it is read here (API-NOTES §3.5 [V], "Creating a
/// link"): links carry a `link` facet.
#[derive(Deserialize)]
struct Permission {
    id: Option<String>,
    #[serde(rename = "createdDateTime")]
    created: Option<String>,
    #[serde(rename = "hasPassword")]
    has_password: Option<bool>,
    link: Option<LinkFacet>,
}

#[derive(Deserialize)]
struct LinkFacet {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "webUrl")]
    web_url: Option<String>,
    #[serde(rename = "@libre.graph.displayName")]
    display_name: Option<String>,
}

/// A link that exists: its id (to delete it) and its public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: LinkId,
    pub url: String,
}

fn web_url(url: Option<String>) -> Option<String> {
    url.filter(|url| url.starts_with("https://") || url.starts_with("http://"))
}

/// The link `createLink` made: 200 with **one** permission object, not a list (API-NOTES §3.5
/// [V]: the spec's examples are wrong there), whose `link.type` is what was asked for and whose
/// `link.webUrl` is the public URL. A link said to have no password is refused (the clean-up
/// then deletes it): it would be open to anyone.
pub fn created_link(response: &Response, kind: Kind) -> Result<Link, Error> {
    if !(200..300).contains(&response.status) {
        return Err(error(response));
    }
    let unexpected = |what: &str| Error::Protocol(format!("createLink answered {what}"));
    let permission: Permission =
        json::parse(&response.body).ok_or_else(|| unexpected("with no permission object"))?;
    let id = permission.id.unwrap_or_default();
    let id = LinkId::parse(&id).ok_or_else(|| ids::unreadable("the new link's id", &id))?;
    let link = permission
        .link
        .ok_or_else(|| unexpected("with a permission that is not a link"))?;
    if link.kind.as_deref() != Some(kind.as_str()) {
        return Err(unexpected(&format!(
            "with a link of type {:?}, not {:?}",
            link.kind.as_deref().unwrap_or("(none)"),
            kind.as_str()
        )));
    }
    if permission.has_password == Some(false) {
        return Err(unexpected("with a link that has no password"));
    }
    let url = web_url(link.web_url).ok_or_else(|| unexpected("without the link's webUrl"))?;
    Ok(Link { id, url })
}

/// `GET …/items/{i}/permissions`: the item's permissions, links among them (API-NOTES §3.7
/// [V], "Listing and deleting links").
pub fn list_permissions(settings: &Settings, drive: &DriveId, item: &ItemId) -> Request {
    get(format!("{}/permissions", item_path(settings, drive, item)))
}

/// `{"value":[permission…]}`; without any, no `value` at all (API-NOTES §6 [V]).
#[derive(Deserialize)]
struct Permissions {
    value: Option<Vec<Permission>>,
}

/// One link of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: LinkId,
    pub kind: Option<String>,
    pub display_name: Option<String>,
    pub url: Option<String>,
    /// `hasPassword`, when the listing says.
    pub has_password: Option<bool>,
    /// `createdDateTime` (RFC 3339, UTC), when the listing says.
    pub created: Option<String>,
}

impl Listed {
    /// The link's kind and URL if it is a password-protected link of either kind, whoever made
    /// it (`list-folders`, `recover`).
    pub fn protected(&self) -> Option<(Kind, &str)> {
        (self.has_password == Some(true)).then_some(())?;
        let kind = [Kind::View, Kind::Edit]
            .into_iter()
            .find(|kind| self.kind.as_deref() == Some(kind.as_str()))?;
        Some((kind, self.url.as_deref()?))
    }
}

/// The oldest password-protected link of `kind` among `links`, with its URL: by
/// `createdDateTime` (RFC 3339 in UTC, so compared as text; a link without one last), then id.
/// OpenCloud lists an item's links in no stable order (docs/opencloud-behaviour.md, "Listing
/// the rooms' folders and their links").
pub fn oldest(links: &[Listed], kind: Kind) -> Option<(&Listed, &str)> {
    links
        .iter()
        .filter_map(|link| {
            let (found, url) = link.protected()?;
            (found == kind).then_some((link, url))
        })
        .min_by_key(|(link, _)| {
            (
                link.created.is_none(),
                link.created.as_deref(),
                link.id.as_str(),
            )
        })
}

#[derive(Serialize)]
struct SetPassword<'a> {
    password: &'a str,
}

/// `POST …/items/{i}/permissions/{p}/setPassword` (docs/opencloud-behaviour.md, "Changing a
/// link's password"): the link keeps its id and URL.
pub fn set_password(
    settings: &Settings,
    drive: &DriveId,
    item: &ItemId,
    link: &LinkId,
    password: &str,
) -> Request {
    // Only a body over 1 MiB fails to encode; an empty one is refused by the server.
    let json = json::encode(&SetPassword { password }).unwrap_or_default();
    Request::new(
        "POST",
        format!(
            "{}/permissions/{}/setPassword",
            item_path(settings, drive, item),
            ids::encode(link.as_str())
        ),
    )
    .header("accept", "application/json")
    .json_body(json)
}

/// Whether a password change was taken: 200 with the permission.
pub fn password_set(response: &Response) -> Result<(), Error> {
    match response.status {
        200..=299 => Ok(()),
        _ => Err(error(response)),
    }
}

/// The links among an item's permissions (those with a `link` facet); none when the item is
/// gone (404).
pub fn links(response: &Response) -> Result<Vec<Listed>, Error> {
    match response.status {
        200 => {}
        404 => return Ok(Vec::new()),
        _ => return Err(error(response)),
    }
    let listing: Permissions = json::parse(&response.body)
        .ok_or_else(|| Error::Protocol("the permissions listing is not readable".into()))?;
    listed(listing.value.unwrap_or_default())
}

/// The links among `permissions` (those with a `link` facet).
fn listed(permissions: Vec<Permission>) -> Result<Vec<Listed>, Error> {
    let mut links = Vec::new();
    for permission in permissions {
        let Some(link) = permission.link else {
            continue;
        };
        let id = permission.id.unwrap_or_default();
        links.push(Listed {
            id: LinkId::parse(&id).ok_or_else(|| ids::unreadable("a listed link's id", &id))?,
            kind: link.kind,
            display_name: link.display_name,
            url: web_url(link.web_url),
            has_password: permission.has_password,
            created: permission.created,
        });
    }
    Ok(links)
}

/// `GET {base}/graph/v1beta1/me/drive/sharedByMe`: every item of the account that has a link,
/// at any depth, each with its links (docs/opencloud-behaviour.md, "Listing the rooms' folders
/// and their links"). Folders whose links were all deleted are not in it.
pub fn shared_by_me(settings: &Settings) -> Request {
    get(format!(
        "{}/graph/v1beta1/me/drive/sharedByMe",
        settings.origin.base_path
    ))
    .limit(crate::http::MAX_LISTING)
}

#[derive(Deserialize)]
struct SharedItems {
    value: Option<Vec<SharedItem>>,
}

#[derive(Deserialize)]
struct SharedItem {
    id: Option<String>,
    folder: Option<serde::de::IgnoredAny>,
    permissions: Option<Vec<Permission>>,
}

/// From `sharedByMe`'s answer, every folder that has links, by its item id (as OpenCloud
/// wrote it, as the PROPFIND's `oc:fileid` names it too), with its links.
pub fn shared_folders(response: &Response) -> Result<BTreeMap<String, Vec<Listed>>, Error> {
    if response.status != 200 {
        return Err(error(response));
    }
    let items: SharedItems = json::parse(&response.body)
        .ok_or_else(|| Error::Protocol("the sharedByMe listing is not readable".into()))?;
    let mut found = BTreeMap::new();
    for item in items.value.unwrap_or_default() {
        let (Some(id), Some(_)) = (item.id, item.folder) else {
            continue;
        };
        found.insert(id, listed(item.permissions.unwrap_or_default())?);
    }
    Ok(found)
}

/// The link of `kind` that this provider made, recognised by its type and `displayName`, if a
/// listing has one with its URL.
pub fn find(links: &[Listed], kind: Kind) -> Option<Link> {
    links.iter().find_map(|link| {
        let ours = link.kind.as_deref() == Some(kind.as_str())
            && link.display_name.as_deref() == Some(kind.display_name());
        if !ours {
            return None;
        }
        Some(Link {
            id: link.id.clone(),
            url: link.url.clone()?,
        })
    })
}

/// `DELETE …/items/{i}/permissions/{p}` (API-NOTES §3.7 [V]): the item id is required, the
/// drive alone is not enough.
pub fn delete_link(settings: &Settings, drive: &DriveId, item: &ItemId, link: &LinkId) -> Request {
    Request::new(
        "DELETE",
        format!(
            "{}/permissions/{}",
            item_path(settings, drive, item),
            ids::encode(link.as_str())
        ),
    )
    .header("accept", "application/json")
}

/// Whether a link's DELETE left it gone: 204 now, or 404 — unknown, already deleted
/// (API-NOTES §3.7 [V]: OpenTalk counts it as done; "Listing and deleting links").
pub fn link_removed(response: &Response) -> Result<(), Error> {
    match response.status {
        200 | 204 | 404 => Ok(()),
        _ => Err(error(response)),
    }
}

#[derive(Deserialize)]
struct Odata {
    error: OdataError,
}

#[derive(Deserialize)]
struct OdataError {
    message: Option<String>,
}

/// The message of an odata error body, if the body is one.
pub fn odata_message(body: &[u8]) -> Option<String> {
    json::parse::<Odata>(body)?
        .error
        .message
        .filter(|message| !message.trim().is_empty())
}

/// The error a refused Graph request reports: 401 as refused credentials, 404 as not found,
/// the rest as OpenCloud's own error, with the odata message (or, for a DELETE's 401, the XML
/// one).
pub fn error(response: &Response) -> Error {
    let message = odata_message(&response.body)
        .or_else(|| dav::sabre_message(&response.body).map(ToOwned::to_owned));
    errors::refusal(response.status, message.as_deref(), STORAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, kind: &str, created: Option<&str>, password: bool) -> Listed {
        Listed {
            id: LinkId::parse(id).unwrap(),
            kind: Some(kind.into()),
            display_name: None,
            url: Some(format!("https://cloud.example.com/s/{id}")),
            has_password: Some(password),
            created: created.map(str::to_owned),
        }
    }

    #[test]
    fn the_oldest_protected_link_of_a_kind_is_chosen_whatever_the_listing_order() {
        let links = [
            listed("newer", "view", Some("2026-12-07T12:19:09Z"), true),
            listed("edit", "edit", Some("2026-12-01T00:00:00Z"), true),
            listed("open", "view", Some("2026-01-01T00:00:00Z"), false),
            listed("older", "view", Some("2026-12-07T12:19:08Z"), true),
            listed("undated", "view", None, true),
        ];
        let (link, url) = oldest(&links, Kind::View).unwrap();
        assert_eq!(link.id.as_str(), "older");
        assert_eq!(url, "https://cloud.example.com/s/older");
        assert_eq!(oldest(&links, Kind::Edit).unwrap().0.id.as_str(), "edit");
        assert!(
            oldest(&links[2..3], Kind::View).is_none(),
            "a link without a password"
        );
    }
    use provider_kit::settings::{Origin, Scheme};
    use provider_kit::testing::minimal;

    const DRIVE: &str = "storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157";
    const ITEM: &str = "storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157!4c510ada-c86b";

    fn settings() -> Settings {
        crate::settings::read(&minimal("https://cloud.example.org/oc/")).unwrap()
    }

    fn ids() -> (DriveId, ItemId) {
        let drive = DriveId::parse(DRIVE).unwrap();
        let item = ItemId::parse_in(&drive, ITEM).unwrap();
        (drive, item)
    }

    fn answer(status: u16, body: &str) -> Response {
        Response::new(status, body.as_bytes())
    }

    fn body(request: &Request) -> &str {
        core::str::from_utf8(request.body.as_deref().unwrap_or_default()).unwrap()
    }

    #[test]
    fn the_personal_drive_is_read() {
        // API-NOTES §3.1 [V] (values illustrative).
        let body = r#"{"id":"storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157","name":"Alan Turing","driveType":"personal","driveAlias":"personal/alan","root":{"id":"storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157","webDavUrl":"https://cloud.example.org/dav/spaces/storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157"},"webUrl":"https://cloud.example.org/f/storage-users-1$1284d238","quota":{"remaining":999999999,"state":"normal","total":0,"used":1},"owner":{"user":{"id":"1284d238","displayName":"alan"}}}
"#;
        assert_eq!(drive(&answer(200, body)).unwrap().as_str(), DRIVE);
        assert_eq!(my_drive(&settings()).path, "/oc/graph/v1.0/me/drive");
    }

    #[test]
    fn anything_but_a_personal_drive_is_refused() {
        for body in [
            r#"{"id":"a0ca6a90$a0ca6a90","driveType":"virtual"}"#,
            r#"{"id":"storage-users-1$x"}"#,
            r#"{"driveType":"personal"}"#,
            r#"{"id":"no-dollar","driveType":"personal"}"#,
            r#"{"value":[{"id":"storage-users-1$x","driveType":"personal"}]}"#,
            "<html>",
        ] {
            assert!(
                matches!(drive(&answer(200, body)), Err(Error::Protocol(_))),
                "{body}"
            );
        }
        let missing = r#"{"error":{"code":"itemNotFound","message":"drive not found","innererror":{"date":"2026-07-01T10:00:00Z","request-id":"b4ad"}}}"#;
        assert!(
            matches!(drive(&answer(404, missing)), Err(Error::NotFound(m)) if m == "drive not found")
        );
        // The proxy's 401 on a Graph GET: no body (API-NOTES §6 [V]).
        assert!(matches!(
            drive(&answer(401, "")),
            Err(Error::Unauthorized(m)) if m == "OpenCloud refused the account's credentials"
        ));
    }

    #[test]
    fn create_link_sends_exactly_the_known_fields() {
        let (drive, item) = ids();
        let request = create_link(
            &settings(),
            &drive,
            &item,
            Kind::Edit,
            "pw!#$%&()*+,-./:;<=>?@[]^_{|}~",
            Some("2026-12-31T23:59:59Z"),
        );
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path,
            "/oc/graph/v1beta1/drives/storage-users-1%241284d238-aa92-42ce-bdc4-0b0000009157/items/storage-users-1%241284d238-aa92-42ce-bdc4-0b0000009157!4c510ada-c86b/createLink"
        );
        assert_eq!(
            body(&request),
            r#"{"type":"edit","password":"pw!#$%&()*+,-./:;<=>?@[]^_{|}~","displayName":"Shared folder (read-write)","expirationDateTime":"2026-12-31T23:59:59Z"}"#
        );
        assert!(
            request
                .headers
                .contains(&("content-type", "application/json".into()))
        );
        let request = create_link(&settings(), &drive, &item, Kind::View, "p", None);
        assert_eq!(
            body(&request),
            r#"{"type":"view","password":"p","displayName":"Shared folder (read-only)"}"#
        );
    }

    #[test]
    fn the_expiry_is_the_days_last_second_in_utc() {
        let date = expiry::date_after(1_795_348_800, 10).unwrap();
        assert_eq!(expiration(date), "2026-12-02T23:59:59Z");
        // 2024-02-28T23:59:59Z + 1 day: a leap day.
        let date = expiry::date_after(1_709_164_799, 1).unwrap();
        assert_eq!(expiration(date), "2024-02-29T23:59:59Z");
    }

    // API-NOTES §3.5 [V]: the single permission object createLink answers.
    const CREATED: &str = r#"{"id":"kTjNbZpQwLhXyRc","hasPassword":true,"createdDateTime":"2026-07-01T10:00:00Z","expirationDateTime":"2026-12-31T23:59:59Z","link":{"type":"edit","webUrl":"https://cloud.example.org/s/AbCdEfGhIjKlMnO","preventsDownload":false,"@libre.graph.displayName":"Shared folder (read-write)","@libre.graph.quickLink":false}}
"#;

    #[test]
    fn a_created_link_is_read() {
        let link = created_link(&answer(200, CREATED), Kind::Edit).unwrap();
        assert_eq!(link.id.as_str(), "kTjNbZpQwLhXyRc");
        assert_eq!(link.url, "https://cloud.example.org/s/AbCdEfGhIjKlMnO");
        // Go escapes `&` and friends (\u0026): still one URL.
        let escaped = CREATED.replace("/s/AbCd", "/s/A\\u0026bCd");
        assert_eq!(
            created_link(&answer(200, &escaped), Kind::Edit)
                .unwrap()
                .url,
            "https://cloud.example.org/s/A&bCdEfGhIjKlMnO"
        );
    }

    #[test]
    fn a_created_link_of_another_shape_is_refused() {
        for body in [
            // The spec's example, a list (API-NOTES §3.5 [V]: not what the server writes).
            format!("[{CREATED}]"),
            CREATED.replace("\"type\":\"edit\"", "\"type\":\"view\""),
            CREATED.replace("\"hasPassword\":true", "\"hasPassword\":false"),
            CREATED.replace("\"webUrl\":\"https:", "\"webUrl\":\"ftp:"),
            CREATED.replace("\"id\":\"kTjNbZpQwLhXyRc\",", ""),
            r#"{"id":"x","roles":["viewer"]}"#.to_owned(),
            String::new(),
        ] {
            assert!(
                matches!(
                    created_link(&answer(200, &body), Kind::Edit),
                    Err(Error::Protocol(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn odata_refusals_keep_their_message() {
        let refusal = |status, message: &str| {
            let body = format!(
                r#"{{"error":{{"code":"invalidRequest","message":"{message}","innererror":{{"date":"2026-07-01T10:00:00Z","request-id":"5e1b"}}}}}}"#
            );
            created_link(&answer(status, &body), Kind::View).unwrap_err()
        };
        assert!(matches!(
            refusal(400, "password protection is enforced"),
            Error::Remote(r) if r.status == 400 && r.message == "password protection is enforced"
        ));
        assert!(matches!(
            refusal(403, "no permission to create public links"),
            Error::Remote(r) if r.status == 403
        ));
        assert!(
            matches!(refusal(404, "item not found"), Error::NotFound(m) if m == "item not found")
        );
        assert!(matches!(
            created_link(&answer(502, "Bad Gateway"), Kind::View),
            Err(Error::Remote(r)) if r.status == 502 && r.message == "no message"
        ));
    }

    #[test]
    fn a_listing_gives_the_links_and_finds_ours() {
        // API-NOTES §3.7 [V]: `value`, and the roles OpenCloud adds.
        let listing = format!(
            r#"{{"value":[{{"id":"u1","roles":["b1f0"],"grantedToV2":{{"user":{{"id":"x"}}}}}},{},{}],"@libre.graph.permissions.roles.allowedValues":[{{"id":"b1f0"}}]}}"#,
            CREATED.trim(),
            CREATED
                .trim()
                .replace("kTjNbZpQwLhXyRc", "ViewViewViewVie")
                .replace("\"type\":\"edit\"", "\"type\":\"view\"")
                .replace("(read-write)", "(read-only)")
        );
        let listed = links(&answer(200, &listing)).unwrap();
        assert_eq!(listed.len(), 2, "the user share is not a link");
        let edit = find(&listed, Kind::Edit).unwrap();
        assert_eq!(edit.id.as_str(), "kTjNbZpQwLhXyRc");
        assert_eq!(
            find(&listed, Kind::View).unwrap().id.as_str(),
            "ViewViewViewVie"
        );
        // Someone else's link of the same type is not ours.
        let foreign = listing.replace("(read-only)", "(mine)");
        assert_eq!(
            find(&links(&answer(200, &foreign)).unwrap(), Kind::View),
            None
        );
        // No links: no `value` (API-NOTES §6 [V]).
        assert!(links(&answer(200, "{}\n")).unwrap().is_empty());
        assert!(links(&answer(404, "")).unwrap().is_empty());
        assert!(matches!(
            links(&answer(200, "{\"value\":{}}")),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(
            links(&answer(401, "")),
            Err(Error::Unauthorized(_))
        ));
    }

    #[test]
    fn a_link_is_removed_when_deleted_now_or_gone_before() {
        let (drive, item) = ids();
        let link = LinkId::parse("kTjNbZpQwLhXyRc").unwrap();
        let request = delete_link(&settings(), &drive, &item, &link);
        assert_eq!(request.method, "DELETE");
        assert!(
            request
                .path
                .ends_with("!4c510ada-c86b/permissions/kTjNbZpQwLhXyRc")
        );
        assert!(link_removed(&answer(204, "")).is_ok());
        assert!(
            link_removed(&answer(
                404,
                r#"{"error":{"code":"itemNotFound","message":"permission not found"}}"#
            ))
            .is_ok()
        );
        let other = r#"{"error":{"code":"invalidRequest","message":"permissionID and itemID do not match"}}"#;
        assert!(matches!(
            link_removed(&answer(400, other)),
            Err(Error::Remote(r)) if r.message == "permissionID and itemID do not match"
        ));
        // The proxy's 401 for a DELETE: XML with capitalised tags (seen on a real OpenCloud
        // 0.1.0: docs/opencloud-behaviour.md, "Authentication").
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<d:error xmlns:d="DAV" xmlns:s="http://sabredav.org/ns"><s:Exception>Sabre\DAV\Exception\PermissionDenied</s:Exception><s:Message>Authentication error</s:Message></d:error>"#;
        assert!(matches!(
            link_removed(&answer(401, xml)),
            Err(Error::Unauthorized(m)) if m == "Authentication error"
        ));
    }

    #[test]
    fn requests_go_to_the_base_path() {
        let mut settings = settings();
        settings.origin = Origin {
            scheme: Scheme::Http,
            authority: "127.0.0.1:9200".into(),
            base_path: String::new(),
        };
        let (drive, item) = ids();
        assert_eq!(
            list_permissions(&settings, &drive, &item).path,
            format!(
                "/graph/v1beta1/drives/{}/items/{}/permissions",
                DRIVE.replace('$', "%24"),
                ITEM.replace('$', "%24")
            )
        );
    }
}
