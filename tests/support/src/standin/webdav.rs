//! WebDAV of the account: MKCOL, PUT, GET, PROPFIND and DELETE below
//! `/remote.php/dav/files/<user>/` (docs/nextcloud-behaviour.md, "Folders and files over WebDAV";
//! recordings `01`–`03`).

use rand::Rng;

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, decode_segments};
use super::storage::{self, Node};

pub(super) const DAV_FILES: &str = "/remote.php/dav/files/";

impl Call<'_> {
    pub(super) fn account_dav(&self, world: &mut World, rest: &str) -> Answer {
        if !self.authenticated {
            return answers::dav_unauthenticated();
        }
        let mut segments = decode_segments(rest);
        let user = if segments.is_empty() {
            String::new()
        } else {
            segments.remove(0)
        };
        let path = segments.join("/");
        if user != self.shared.options.username {
            // Another user's namespace does not exist for this account
            // (docs/nextcloud-behaviour.md, "Requests and authentication"; recording `01 [16]`).
            return answers::sabre(
                409,
                "Sabre\\DAV\\Exception\\Conflict",
                "Parent node does not exist",
            );
        }
        let storage = &mut world.storage;
        match self.method.as_str() {
            "MKCOL" => {
                // A body is refused (docs/nextcloud-behaviour.md, "Folders and files over WebDAV").
                if !self.body.is_empty() {
                    return answers::sabre(
                        415,
                        "Sabre\\DAV\\Exception\\UnsupportedMediaType",
                        "The request body for the MKCOL method must have an xml Content-Type",
                    );
                }
                match storage.mkcol(&path) {
                    Ok(()) => answers::status(201),
                    Err(error) => answers::tree_error(error, &path),
                }
            }
            "DELETE" => {
                // Locked while a share of it is deleted (docs/nextcloud-behaviour.md, "Locking";
                // recordings `15`, `23 (d)`).
                let unlucky = self.shared.options.lock_rate > 0.0
                    && rand::rng().random_bool(self.shared.options.lock_rate.min(1.0));
                if self.conflicted || unlucky {
                    world.locks.locked_answers += 1;
                    return answers::file_locked(&path);
                }
                match self.remove(&mut world.storage, &path) {
                    Ok(()) => answers::status(204),
                    Err(error) => answers::tree_error(error, &path),
                }
            }
            "PUT" => match storage.put(&path, self.body.to_vec()) {
                Ok(true) => answers::status(201),
                Ok(false) => answers::status(204),
                Err(error) => answers::tree_error(error, &path),
            },
            "GET" => match storage.get(&path) {
                Some(Node::File(content)) => answers::file(content.clone()),
                Some(Node::Folder) => answers::empty(200),
                None => answers::not_located(&path),
            },
            "PROPFIND" => {
                let base = format!("{}{DAV_FILES}{user}", self.shared.options.base_path);
                // Hrefs name the whole path below the user's root (docs/nextcloud-behaviour.md,
                // "Folders and files over WebDAV"; recording `02 [3]`).
                self.propfind(storage, &path, &base, "")
            }
            _ => answers::status(405),
        }
    }

    pub(super) fn propfind(
        &self,
        storage: &storage::Storage,
        path: &str,
        href_base: &str,
        relative_to: &str,
    ) -> Answer {
        let Some(node) = storage.get(path) else {
            return answers::not_located(path);
        };
        let href = |p: &str| {
            let rel = p.strip_prefix(relative_to).unwrap_or(p).trim_matches('/');
            format!("{href_base}/{}", answers::href_path(rel))
        };
        // A folder's href ends with `/`, a file's does not.
        let entry = |p: &str, n: &Node| match n {
            Node::Folder => {
                let href = href(p);
                let href = if href.ends_with('/') {
                    href
                } else {
                    href + "/"
                };
                (href, true, 0)
            }
            Node::File(c) => (href(p), false, c.len()),
        };
        let mut entries = vec![entry(path, node)];
        let depth = self
            .headers
            .get("depth")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("1");
        if depth != "0" && *node == Node::Folder {
            entries.extend(storage.children(path).iter().map(|(p, n)| entry(p, n)));
        }
        answers::multistatus(&entries)
    }
}
