//! Public links: a share's folder over WebDAV, with the share's password, within the share's
//! permissions (docs/nextcloud-behaviour.md, "Public links over WebDAV"; recording `09`), in
//! both forms NextCloud serves: `/public.php/dav/files/<token>/…` (any user name; from
//! NextCloud 29 on) and `/public.php/webdav/…` with the token as the user name (28 to 34, and
//! ownCloud 10: docs/owncloud-behaviour.md, "Public links over WebDAV").

use super::World;
use super::answers::{self, Answer};
use super::call::{Call, decode_segments};
use super::storage::{CREATE, DELETE, Node, READ, UPDATE};

pub(super) const PUBLIC_DAV: &str = "/public.php/dav/files/";
/// The older form: the share is named by the Basic user name.
pub(super) const PUBLIC_WEBDAV: &str = "/public.php/webdav";

/// Whether `path` (below the base path) is a public link's, authenticated by a share password.
pub(super) fn is_public(path: &str) -> bool {
    path.starts_with(PUBLIC_DAV) || public_webdav_rest(path).is_some()
}

/// The encoded path below `/public.php/webdav`, when `path` is in it.
pub(super) fn public_webdav_rest(path: &str) -> Option<&str> {
    path.strip_prefix(PUBLIC_WEBDAV)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Call<'_> {
    /// `/public.php/dav/files/<token>/<rest…>`.
    pub(super) fn public_dav(&self, world: &mut World, rest: &str) -> Answer {
        let mut segments = decode_segments(rest);
        let token = if segments.is_empty() {
            String::new()
        } else {
            segments.remove(0)
        };
        let base = format!("{}{PUBLIC_DAV}{token}", self.shared.options.base_path);
        self.public_share(world, &token, &segments, &base)
    }

    /// `/public.php/webdav/<rest…>`, the share named by the Basic user name.
    pub(super) fn public_webdav(&self, world: &mut World, rest: &str) -> Answer {
        let token = self.basic_user.clone().unwrap_or_default();
        let base = format!("{}{PUBLIC_WEBDAV}", self.shared.options.base_path);
        self.public_share(world, &token, &decode_segments(rest), &base)
    }

    /// A request for `segments` inside the folder the share `token` opens; `base` is the
    /// share's root as its hrefs name it.
    pub(super) fn public_share(
        &self,
        world: &mut World,
        token: &str,
        segments: &[String],
        base: &str,
    ) -> Answer {
        let Some(share) = world.storage.share_by_token(token).cloned() else {
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
            "PROPFIND" if allowed(READ) => self.propfind(storage, &path, base, &share.path),
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
