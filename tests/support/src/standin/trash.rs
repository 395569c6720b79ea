//! The trash bin: `/remote.php/dav/trashbin/<user>/trash/` listed and emptied, and what a WebDAV
//! DELETE puts into it (docs/nextcloud-behaviour.md, "Trash bin"; recordings `16 [2]`, `19`).

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, decode_segments};
use super::storage::{self, TreeError};

pub(super) const DAV_TRASH: &str = "/remote.php/dav/trashbin/";

impl Call<'_> {
    pub(super) fn trash_dav(&self, world: &mut World, rest: &str) -> Answer {
        if !self.authenticated {
            return answers::dav_unauthenticated();
        }
        let segments = decode_segments(rest);
        let user = &self.shared.options.username;
        if segments.first() != Some(user) {
            let name = segments.first().map_or("", String::as_str);
            return answers::sabre(
                404,
                "Sabre\\DAV\\Exception\\NotFound",
                &format!("Principal with name {name} not found"),
            );
        }
        // ownCloud keeps its trash elsewhere (docs/owncloud-behaviour.md, "Trash bin").
        if !self.shared.options.trash_bin
            || self.shared.options.flavour == super::Flavour::OwnCloud
            || segments.get(1).map(String::as_str) != Some("trash")
        {
            return answers::sabre(
                404,
                "Sabre\\DAV\\Exception\\NotFound",
                "File not found: trashbin in 'root'",
            );
        }
        let trash = &mut world.storage.trash;
        match (self.method.as_str(), segments.get(2)) {
            ("PROPFIND", None) => {
                let base = format!(
                    "{}{DAV_TRASH}{}/trash/",
                    self.shared.options.base_path,
                    percent_encoding::utf8_percent_encode(user, percent_encoding::NON_ALPHANUMERIC)
                );
                answers::trash_listing(&base, trash)
            }
            ("DELETE", None) => {
                trash.clear();
                answers::status(204)
            }
            ("DELETE", Some(name)) => {
                let before = trash.len();
                trash.retain(|entry| entry.name != *name);
                if trash.len() < before {
                    answers::status(204)
                } else {
                    answers::sabre(404, "Sabre\\DAV\\Exception\\NotFound", "")
                }
            }
            _ => answers::status(405),
        }
    }

    /// Deletes `path` as WebDAV does: into the trash bin, or for good without one.
    pub(super) fn remove(
        &self,
        storage: &mut storage::Storage,
        path: &str,
    ) -> Result<(), TreeError> {
        if self.shared.options.trash_bin {
            storage.move_to_trash(path, now_unix())
        } else {
            storage.delete(path)
        }
    }
}

pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
