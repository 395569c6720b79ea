//! Public links: a share's folder over WebDAV at `/public.php/dav/files/<token>/…`, with the
//! share's password, within the share's permissions (docs/nextcloud-behaviour.md, "Public links
//! over WebDAV"; recording `09`).

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, decode_segments};
use super::storage::{CREATE, DELETE, Node, READ, UPDATE};

pub(super) const PUBLIC_DAV: &str = "/public.php/dav/files/";

impl Call<'_> {
    pub(super) fn public_dav(&self, world: &mut World, rest: &str) -> Answer {
        let mut segments = decode_segments(rest);
        let token = if segments.is_empty() {
            String::new()
        } else {
            segments.remove(0)
        };
        let Some(share) = world.storage.share_by_token(&token).cloned() else {
            return match self.basic_password {
                Some(_) => answers::public_unauthenticated(),
                None => answers::sabre(404, "Sabre\\DAV\\Exception\\NotFound", ""),
            };
        };
        if let Some(password) = &share.password
            && self.basic_password.as_ref() != Some(password)
        {
            return answers::public_unauthenticated();
        }
        let inner = segments.join("/");
        let path = if inner.is_empty() {
            share.path.clone()
        } else {
            format!("{}/{inner}", share.path)
        };
        let storage = &mut world.storage;
        let allowed = |bit: u32| share.can(bit);
        match self.method.as_str() {
            "PROPFIND" if allowed(READ) => {
                let base = format!("{}{PUBLIC_DAV}{token}", self.shared.options.base_path);
                self.propfind(storage, &path, &base, &share.path)
            }
            "GET" if allowed(READ) => match storage.get(&path) {
                Some(Node::File(content)) => answers::file(content.clone()),
                Some(Node::Folder) => answers::empty(200),
                None => answers::not_located(&path),
            },
            "PUT" => {
                let exists = storage.get(&path).is_some();
                if !allowed(if exists { UPDATE } else { CREATE }) {
                    return answers::forbidden();
                }
                match storage.put(&path, self.body.to_vec()) {
                    Ok(true) => answers::status(201),
                    Ok(false) => answers::status(204),
                    Err(error) => answers::tree_error(error, &path),
                }
            }
            "MKCOL" if allowed(CREATE) => match storage.mkcol(&path) {
                Ok(()) => answers::status(201),
                Err(error) => answers::tree_error(error, &path),
            },
            "DELETE" if allowed(DELETE) && !inner.is_empty() => match self.remove(storage, &path) {
                Ok(()) => answers::status(204),
                Err(error) => answers::tree_error(error, &path),
            },
            "PROPFIND" | "GET" | "MKCOL" | "DELETE" => answers::forbidden(),
            _ => answers::status(405),
        }
    }
}
