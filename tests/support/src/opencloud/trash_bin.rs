//! The personal space's trash bin over WebDAV, `/remote.php/dav/spaces/trash-bin/{driveId}/`
//! (also without `/remote.php`, and as `/dav/trash-bin/{username}/`): listed with PROPFIND, an
//! entry purged with `DELETE …/{key}`, the whole bin emptied with `DELETE …/`
//! (docs/opencloud-behaviour.md, "Trash bin"; reva `ocdav/trashbin.go`). Restoring (MOVE) is
//! left out ("What the stand-in leaves out").

use super::World;
use super::answers::{self, Answer, xml_text};
use super::call::Call;
use super::dav::{DAV_NS, OC_NS, empty_element, escape_path, propstat, requested_properties};
use super::drive::{Node, TrashEntry};
use super::expiry;
use super::ids::ParsedId;

/// The properties of an entry without a body, in ocdav's order (recording `166`).
/// A file has `d:getcontentlength` where a folder has `oc:size` [I].
const ALLPROP: [(&str, &str); 8] = [
    (OC_NS, "trashbin-original-filename"),
    (OC_NS, "trashbin-original-location"),
    (OC_NS, "trashbin-delete-timestamp"),
    (OC_NS, "trashbin-delete-datetime"),
    (DAV_NS, "resourcetype"),
    (OC_NS, "size"),
    (DAV_NS, "getcontentlength"),
    (OC_NS, "spaceid"),
];

/// The bin's own response, whatever was asked (recordings `166`, `210`).
const BIN_PROPS: &str = "<d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><oc:trashbin-original-filename></oc:trashbin-original-filename><oc:trashbin-original-location></oc:trashbin-original-location><oc:trashbin-delete-datetime></oc:trashbin-delete-datetime><d:getcontentlength></d:getcontentlength></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>";

impl Call<'_> {
    /// `bin` is the drive id (or, `by_user`, the user name), `key` an entry's key.
    pub(super) fn trash_bin(
        &self,
        world: &mut World,
        bin: &str,
        by_user: bool,
        key: Option<&str>,
        rest: &str,
    ) -> Answer {
        let drive = &mut world.drive;
        let known = if by_user {
            bin == self.shared.options.username
        } else {
            ParsedId::parse(bin).is_some_and(|id| id.opaque.is_empty() && drive.owns(&id))
        };
        // Another space or user [I: 404 "Resource not found"].
        if !known {
            return answers::not_found();
        }
        match (self.method.as_str(), key) {
            ("PROPFIND", None) => {
                // The hrefs name the bin as it was asked for, the `$` of a drive id literal.
                let base = if by_user {
                    format!("{}/trash-bin/{}", self.dav_root(), escape_path(bin))
                } else {
                    format!(
                        "{}/spaces/trash-bin/{}",
                        self.dav_root(),
                        escape_path(&drive.drive_id())
                    )
                };
                self.trash_listing(&base, &drive.space_id, &drive.trash)
            }
            // Purged: 204; an unknown key (or anything below an entry [I]): 409.
            ("DELETE", Some(key)) => {
                if rest.is_empty() && drive.purge_trash_entry(key) {
                    answers::empty(204)
                } else {
                    answers::sabre(409, &format!("key {key} not found"))
                }
            }
            ("DELETE", None) => {
                drive.trash.clear();
                answers::empty(204)
            }
            // Restoring (MOVE) and anything else [I].
            _ => answers::empty(405),
        }
    }

    /// The 207 of the bin: with an `<?xml?>` declaration and the namespaces in the order d, s,
    /// oc, unlike the files'; the bin itself, then each entry, newest first, with the asked
    /// properties (and an empty 404 propstat), or without a body all of them
    /// (docs/opencloud-behaviour.md, "Answer shapes", "Trash bin").
    fn trash_listing(&self, base: &str, space_id: &str, trash: &[TrashEntry]) -> Answer {
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\"><d:response><d:href>{}/</d:href>{BIN_PROPS}</d:response>",
            xml_text(base)
        );
        // Depth 0: the bin alone [I].
        let entries = if self.header("depth") == Some("0") {
            &[][..]
        } else {
            trash
        };
        let asked = requested_properties(&self.body);
        for entry in entries {
            let mut href = format!("{base}/{}", escape_path(entry.key()));
            if entry.is_folder() {
                href.push('/');
            }
            body.push_str(&format!("<d:response><d:href>{}</d:href>", xml_text(&href)));
            match &asked {
                None => {
                    let found: String = ALLPROP
                        .iter()
                        .filter_map(|(ns, name)| trash_property(entry, space_id, ns, name))
                        .collect();
                    body.push_str(&propstat(&found, "200 OK"));
                }
                Some(asked) => {
                    let mut found = String::new();
                    let mut missing = String::new();
                    for (ns, name) in asked {
                        match trash_property(entry, space_id, ns, name) {
                            Some(property) => found.push_str(&property),
                            None => missing.push_str(&empty_element(ns, name)),
                        }
                    }
                    body.push_str(&propstat(&found, "200 OK"));
                    body.push_str(&propstat(&missing, "404 Not Found"));
                }
            }
            body.push_str("</d:response>");
        }
        body.push_str("</d:multistatus>");
        answers::multistatus(body)
    }
}

/// A property of a trash entry (recording `166`): the location without a leading slash, the
/// deletion as Unix seconds and as RFC 1123 with `+0000`, a folder's size 4096, the space id
/// alone; a file's size as `d:getcontentlength` [I].
fn trash_property(entry: &TrashEntry, space_id: &str, ns: &str, name: &str) -> Option<String> {
    let text = |prefix: &str, value: &str| {
        Some(format!(
            "<{prefix}:{name}>{}</{prefix}:{name}>",
            xml_text(value)
        ))
    };
    let file_size = match entry.nodes.get("") {
        Some(Node::File(content)) => Some(content.len()),
        _ => None,
    };
    match (ns, name) {
        (OC_NS, "trashbin-original-filename") => text("oc", entry.name()),
        (OC_NS, "trashbin-original-location") => text("oc", &entry.original_location),
        (OC_NS, "trashbin-delete-timestamp") => text("oc", &entry.deleted_at.to_string()),
        (OC_NS, "trashbin-delete-datetime") => {
            text("oc", &expiry::format_rfc1123z(entry.deleted_at))
        }
        (DAV_NS, "resourcetype") if entry.is_folder() => {
            Some("<d:resourcetype><d:collection/></d:resourcetype>".to_owned())
        }
        (DAV_NS, "resourcetype") => Some("<d:resourcetype></d:resourcetype>".to_owned()),
        (OC_NS, "size") if entry.is_folder() => text("oc", "4096"),
        (OC_NS, "size") => None,
        (DAV_NS, "getcontentlength") => text("d", &file_size?.to_string()),
        (OC_NS, "spaceid") => text("oc", space_id),
        _ => None,
    }
}
