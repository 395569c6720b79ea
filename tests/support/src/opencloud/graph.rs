//! The Graph API's drives and items: the personal drive (`me/drive`, `me/drives`), an item's
//! children, and the item DELETE that refuses personal items (API-NOTES §3.1, §3.3, §6;
//! docs/opencloud-behaviour.md, "The personal drive", "Listing children", "Deleting the folder").

use serde_json::{Value, json};

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, Route};
use super::drive::{Drive, Entry, Node, parent};
use super::expiry::format_utc;
use super::ids::{ParsedId, SHARE_JAIL_ID};

impl Call<'_> {
    pub(super) fn graph(&self, world: &mut World) -> Answer {
        let drive = &world.drive;
        match (&self.route, self.method.as_str()) {
            (Route::MyDrive, "GET") => answers::json(200, &self.personal_drive(drive)),
            // The share jail first: clients filter on driveType (API-NOTES §6; docs/opencloud-behaviour.md, "The
            // personal drive").
            (Route::MyDrives, "GET") => answers::json(
                200,
                &json!({"value": [self.share_jail(), self.personal_drive(drive)]}),
            ),
            (Route::Children { drive: d, item }, "GET") => self.children(drive, d, item),
            (Route::MyRootChildren, "GET") => {
                let id = drive.drive_id();
                self.children(drive, &id, &id)
            }
            // Graph's item DELETE only unmounts shares; a personal item is refused, and so is a
            // GET of it (API-NOTES §6; docs/opencloud-behaviour.md, "Deleting the folder").
            (Route::Item { .. }, "DELETE" | "GET") => {
                answers::odata(400, "id does not belong to a share jail")
            }
            // chi's answer to a known path with another method [I] (not in API-NOTES; docs/opencloud-behaviour.md,
            // "What the stand-in leaves out").
            _ => answers::empty(405),
        }
    }

    /// `{base}/dav/spaces/{id}` and `{base}/f/{id}`, the `$` left as it is (API-NOTES §3.1:
    /// `root.webDavUrl` = `OC_URL + "/dav/spaces/" + driveId`).
    fn drive_urls(&self, drive_id: &str) -> (String, String) {
        let base = &self.shared.base_url;
        (
            format!("{base}/dav/spaces/{drive_id}"),
            format!("{base}/f/{drive_id}"),
        )
    }

    /// The personal drive as OpenCloud 0.1.0 answered it (docs/opencloud-behaviour.md, "The
    /// personal drive"): named by the account's display name, the owner's `displayName` empty,
    /// without a quota (`remaining` 2^63−1, `total` 0).
    fn personal_drive(&self, drive: &Drive) -> Value {
        let id = drive.drive_id();
        let (web_dav_url, web_url) = self.drive_urls(&id);
        let options = &self.shared.options;
        let used = drive.size("");
        let modified = drive.get("").map_or(0, |root| root.modified);
        json!({
            "id": id,
            "name": options.display_name,
            "driveType": "personal",
            "driveAlias": format!("personal/{}", options.username),
            "lastModifiedDateTime": format_utc(modified),
            // A personal space's id is its owner's user id (docs/opencloud-behaviour.md, "IDs").
            "owner": {"user": {"id": drive.space_id, "displayName": ""}},
            "quota": {"remaining": i64::MAX, "state": "normal", "total": 0, "used": used},
            "root": {"id": id, "webDavUrl": web_dav_url, "eTag": etag(drive.get(""))},
            "webUrl": web_url,
        })
    }

    /// The virtual "Shares" drive, the share jail, listed first by `me/drives` (API-NOTES §6).
    fn share_jail(&self) -> Value {
        let id = format!("{SHARE_JAIL_ID}${SHARE_JAIL_ID}");
        let (web_dav_url, web_url) = self.drive_urls(&id);
        json!({
            "id": id,
            "name": "Shares",
            "driveType": "virtual",
            "driveAlias": "virtual/shares",
            "root": {"id": id, "webDavUrl": web_dav_url},
            "webUrl": web_url,
        })
    }

    /// `{"value":[driveItem…]}`, unpaginated; an item without `!` is the space's root; a drive and
    /// item of different spaces answer 404 "Item does not exist" (API-NOTES §3.3;
    /// docs/opencloud-behaviour.md, "Listing children").
    fn children(&self, drive: &Drive, drive_param: &str, item_param: &str) -> Answer {
        let Some(drive_id) = ParsedId::parse(drive_param) else {
            return answers::odata(400, "invalid driveID");
        };
        let Some(item_id) = ParsedId::parse(item_param) else {
            return answers::odata(400, "invalid itemID");
        };
        if drive_id.storage != item_id.storage || drive_id.space != item_id.space {
            return answers::odata(404, "Item does not exist");
        }
        if !drive.owns(&item_id) {
            return answers::odata(404, "Item does not exist");
        }
        let opaque = if item_id.opaque.is_empty() {
            drive.space_id.as_str()
        } else {
            item_id.opaque.as_str()
        };
        // An unknown item: the storage's words, with their trailing space
        // (docs/opencloud-behaviour.md, "Listing children").
        let Some(path) = drive.path_of(opaque) else {
            return answers::odata(404, "list container: error: not found: ");
        };
        let value: Vec<Value> = drive
            .children(&path)
            .into_iter()
            .map(|(child_path, entry)| drive_item(drive, child_path, entry))
            .collect();
        // A file has no children; an empty folder answers an empty list [I] (API-NOTES
        // §3.3; docs/opencloud-behaviour.md, "Listing children").
        answers::json(200, &json!({"value": value}))
    }
}

/// A `driveItem` of a children listing (API-NOTES §3.3; docs/opencloud-behaviour.md, "Listing
/// children"): its `parentReference` has the parent's full item id (`<drive>!<space>` for the
/// root), an empty `driveType`, the parent's `name` (`/` for the root) and `path`.
fn drive_item(drive: &Drive, path: &str, entry: &Entry) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    let parent_path = parent(path);
    let parent_id = drive.item_id(parent_path).unwrap_or_default();
    let (parent_name, parent_location) = if parent_path.is_empty() {
        ("/", "/".to_owned())
    } else {
        (
            parent_path.rsplit('/').next().unwrap_or(parent_path),
            format!("/{parent_path}"),
        )
    };
    let mut item = json!({
        "id": drive.graph_item_id(&entry.opaque),
        "name": name,
        "eTag": etag(Some(entry)),
        "lastModifiedDateTime": format_utc(entry.modified),
        "size": drive.size(path),
        "parentReference": {
            "driveId": drive.drive_id(),
            "driveType": "",
            "id": parent_id,
            "name": parent_name,
            "path": parent_location,
        },
    });
    match &entry.node {
        Node::Folder => item["folder"] = json!({}),
        Node::File(_) => item["file"] = json!({"mimeType": "application/octet-stream"}),
    }
    item
}

/// A quoted entity tag, new with each change of the node [I].
pub(super) fn etag(entry: Option<&Entry>) -> String {
    entry.map_or_else(String::new, |e| {
        let short: String = e.opaque.chars().filter(|c| *c != '-').take(8).collect();
        format!("\"{short}{:x}\"", e.modified)
    })
}
