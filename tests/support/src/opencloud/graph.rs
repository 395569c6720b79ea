//! The Graph API's drives and items: the personal drive (`me/drive`, `me/drives`), an item's
//! children, and the item DELETE that refuses personal items (API-NOTES §3.1, §3.3, §6;
//! docs/opencloud-behaviour.md, "The personal drive", "Listing children", "Deleting the folder").

use serde_json::{Value, json};

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, Route};
use super::drive::{Drive, Entry, Node};
use super::expiry::format_utc;
use super::ids::{self, ParsedId, SHARE_JAIL_ID};

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
            // Graph's item DELETE only unmounts shares; a personal item is refused (API-NOTES
            // §6; docs/opencloud-behaviour.md, "Deleting the folder").
            (Route::Item { .. }, "DELETE") => {
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

    /// The personal drive (API-NOTES §3.1; docs/opencloud-behaviour.md, "The personal drive"):
    /// `id`, `driveType`, `root.id` (the drive id) and `root.webDavUrl` as OpenCloud writes them;
    /// name, alias, owner and quota are illustrative [I].
    fn personal_drive(&self, drive: &Drive) -> Value {
        let id = drive.drive_id();
        let (web_dav_url, web_url) = self.drive_urls(&id);
        let user = &self.shared.options.username;
        let used = drive.size("");
        let modified = drive.get("").map_or(0, |root| root.modified);
        json!({
            "id": id,
            "name": user,
            "driveType": "personal",
            "driveAlias": format!("personal/{user}"),
            "lastModifiedDateTime": format_utc(modified),
            // A personal space's id is its owner's user id [I] (API-NOTES §3.1: values
            // illustrative; docs/opencloud-behaviour.md, "The personal drive").
            "owner": {"user": {"id": drive.space_id, "displayName": user}},
            "quota": {"remaining": 1_000_000_000_000_usize.saturating_sub(used), "state": "normal", "total": 0, "used": used},
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
        if !item_id.in_space(&drive.space_id) {
            return answers::odata(404, "Item does not exist");
        }
        let opaque = if item_id.opaque.is_empty() {
            drive.space_id.as_str()
        } else {
            item_id.opaque.as_str()
        };
        let Some(path) = drive.path_of(opaque) else {
            return answers::odata(404, "item not found");
        };
        let parent_id = ids::graph_item_id(&drive.space_id, opaque);
        let value: Vec<Value> = drive
            .children(&path)
            .into_iter()
            .map(|(child_path, entry)| drive_item(drive, child_path, entry, &parent_id))
            .collect();
        // A file has no children; an empty folder answers an empty list [I] (API-NOTES
        // §3.3; docs/opencloud-behaviour.md, "Listing children").
        answers::json(200, &json!({"value": value}))
    }
}

/// A `driveItem` (API-NOTES §3.3): `id` and `name` as OpenCloud writes them, the rest
/// illustrative [I].
fn drive_item(drive: &Drive, path: &str, entry: &Entry, parent_id: &str) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut item = json!({
        "id": ids::graph_item_id(&drive.space_id, &entry.opaque),
        "name": name,
        "eTag": etag(Some(entry)),
        "lastModifiedDateTime": format_utc(entry.modified),
        "size": drive.size(path),
        "parentReference": {"driveId": drive.drive_id(), "driveType": "personal", "id": parent_id},
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
