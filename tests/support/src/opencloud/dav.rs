//! WebDAV of the personal drive, `/dav/spaces/{driveId}/…` (also below `/remote.php`): MKCOL,
//! HEAD, PROPFIND, PUT, GET, and DELETE into the trash bin (API-NOTES §1, §3.2, §3.3, §3.8; reva
//! `ocdav` `spaces.go`, `mkcol.go`, `head.go`, `delete.go`; docs/opencloud-behaviour.md,
//! "Folders over WebDAV" and "Deleting the folder").

use http::{HeaderValue, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::World;
use super::answers::{self, Answer};
use super::call::Call;
use super::drive::{Drive, Node, TreeError};
use super::expiry;
use super::graph::etag;
use super::ids::ParsedId;

/// What a path segment keeps unescaped in an href: RFC 3986's unreserved characters [I].
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path, each segment escaped for an href.
pub(super) fn escape_path(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The folder a space reference (`<storage>$<space>`, or an item id `…!<opaque>`, which ocdav
/// also takes) points to: `""` for the space's root; `None` for another space or a missing item
/// (API-NOTES §1).
pub(super) fn resolve(drive: &Drive, space: &str) -> Option<String> {
    let id = ParsedId::parse(space)?;
    if !id.in_space(&drive.space_id) {
        return None;
    }
    if id.opaque.is_empty() {
        return Some(String::new());
    }
    drive.path_of(&id.opaque)
}

pub(super) fn join(base: &str, path: &str) -> String {
    match (base.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => base.to_owned(),
        (false, false) => format!("{base}/{path}"),
    }
}

/// reva's 409 when a MKCOL's parent is missing or a file: the message the path handler writes
/// (reva `mkcol.go`) [I: the spaces handler passes the storage's message on].
const NO_PARENT: &str = "intermediate collection does not exist";

impl Call<'_> {
    pub(super) fn space_dav(&self, world: &mut World, space: &str, rest: &str) -> Answer {
        let head = self.method.as_str() == "HEAD";
        let Some(base) = resolve(&world.drive, space) else {
            // An unknown space or item: NOT_FOUND, "Resource not found"; HEAD has no body (API-NOTES
            // §1, §3.3; docs/opencloud-behaviour.md, "Folders over WebDAV").
            return if head {
                answers::empty(404)
            } else {
                answers::not_found()
            };
        };
        let path = join(&base, rest);
        let href_base = format!(
            "{}/dav/spaces/{}",
            self.shared.options.base_path.trim_end_matches('/'),
            escape_path(&world.drive.drive_id())
        );
        self.dav(world, &path, &href_base, &base)
    }

    /// A WebDAV method on `path`, below the folder `root` that `href_base` names (the space's
    /// root, or a public link's folder).
    pub(super) fn dav(&self, world: &mut World, path: &str, href_base: &str, root: &str) -> Answer {
        let path = path.to_owned();
        let drive = &mut world.drive;
        match self.method.as_str() {
            "MKCOL" => {
                // API-NOTES §3.2: a body → 415 (docs/opencloud-behaviour.md, "Folders over WebDAV").
                if !self.body.is_empty() {
                    return answers::sabre(415, "extended-mkcol not supported");
                }
                match drive.mkcol(&path) {
                    // API-NOTES §3.2: 201 with an empty body and no OC-FileId; 405 exists; 409
                    // no parent (docs/opencloud-behaviour.md, "Folders over WebDAV").
                    Ok(()) => answers::empty(201),
                    Err(TreeError::Exists | TreeError::Root) => {
                        answers::sabre(405, "The resource you tried to create already exists")
                    }
                    Err(_) => answers::sabre(409, NO_PARENT),
                }
            }
            "HEAD" => self.head(drive, &path),
            "PROPFIND" => self.propfind(drive, &path, href_base, root),
            "PUT" => match drive.put(&path, self.body.to_vec()) {
                Ok(new) => {
                    let mut answer = answers::empty(if new { 201 } else { 204 });
                    with_ids(&mut answer, drive, &path);
                    answer
                }
                // A missing parent, a file as parent, a folder in the way [I] (not in
                // API-NOTES; docs/opencloud-behaviour.md, "Folders over WebDAV").
                Err(TreeError::Root) => answers::sabre(405, ""),
                Err(_) => answers::sabre(409, ""),
            },
            "GET" => match drive.get(&path).map(|e| &e.node) {
                Some(Node::File(content)) => {
                    let mut answer = answers::empty(200);
                    *answer.body_mut() = content.clone().into();
                    with_ids(&mut answer, drive, &path);
                    answer
                }
                // No download of a folder [I] (not in API-NOTES; docs/opencloud-behaviour.md, "Folders over WebDAV").
                Some(Node::Folder) => answers::not_implemented(),
                None => answers::not_found(),
            },
            "DELETE" => {
                // A body → 415 (not in API-NOTES; reva `delete.go`; docs/opencloud-behaviour.md, "Deleting the folder").
                if !self.body.is_empty() {
                    return answers::sabre(415, "body must be empty");
                }
                // API-NOTES §3.8: recursive, into the trash bin; 404 missing; 405 for the space's
                // root (docs/opencloud-behaviour.md, "Deleting the folder").
                match drive.trash_path(&path, expiry::now_unix()) {
                    Ok(()) => answers::empty(204),
                    Err(TreeError::Root) => {
                        answers::sabre(405, "deleting spaces via dav is not allowed")
                    }
                    Err(_) => answers::not_found(),
                }
            }
            // Any other method: 501 (not in API-NOTES; reva `spaces.go`; docs/opencloud-behaviour.md, "Folders over
            // WebDAV").
            _ => answers::not_implemented(),
        }
    }

    /// HEAD: 200 with the node's headers, `OC-FileId` among them; 404 without a body (API-NOTES
    /// §3.3; reva `head.go`).
    fn head(&self, drive: &Drive, path: &str) -> Answer {
        let Some(entry) = drive.get(path) else {
            return answers::empty(404);
        };
        let mut answer = answers::empty(200);
        with_ids(&mut answer, drive, path);
        let headers = answer.headers_mut();
        let mime = match entry.node {
            Node::Folder => "httpd/unix-directory",
            Node::File(_) => "application/octet-stream",
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        headers.insert(header::CONTENT_LENGTH, drive.size(path).into());
        if let Ok(value) = HeaderValue::from_str(&expiry::format_rfc1123z(entry.modified)) {
            headers.insert(header::LAST_MODIFIED, value);
        }
        if matches!(entry.node, Node::File(_)) {
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        }
        answer
    }

    /// A 207 of the node (Depth 0) or the node and its children (Depth 1, the default), each
    /// with `oc:fileid` (API-NOTES §3.3 [I]); hrefs below `href_base`, relative to `root`.
    fn propfind(&self, drive: &Drive, path: &str, href_base: &str, root: &str) -> Answer {
        let Some(entry) = drive.get(path) else {
            return answers::not_found();
        };
        let mut nodes = vec![(path.to_owned(), entry)];
        if self.header("depth") != Some("0") && entry.node == Node::Folder {
            nodes.extend(
                drive
                    .children(path)
                    .into_iter()
                    .map(|(p, e)| (p.clone(), e)),
            );
        }
        let mut body = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\">",
        );
        for (node_path, entry) in nodes {
            let relative = if root.is_empty() {
                node_path.as_str()
            } else {
                node_path
                    .strip_prefix(root)
                    .unwrap_or_default()
                    .trim_start_matches('/')
            };
            let folder = entry.node == Node::Folder;
            let mut href = format!("{href_base}/{}", escape_path(relative));
            if folder && !href.ends_with('/') {
                href.push('/');
            }
            let name = node_path.rsplit('/').next().unwrap_or_default();
            let id = drive.item_id(&node_path).unwrap_or_default();
            let size = drive.size(&node_path);
            let kind = if folder {
                "<d:resourcetype><d:collection/></d:resourcetype>".to_owned()
            } else {
                format!("<d:resourcetype/><d:getcontentlength>{size}</d:getcontentlength>")
            };
            body.push_str(&format!(
                "<d:response><d:href>{}</d:href><d:propstat><d:prop><oc:id>{id}</oc:id><oc:fileid>{id}</oc:fileid><oc:name>{}</oc:name>{kind}<oc:size>{size}</oc:size><d:getetag>{}</d:getetag><d:getlastmodified>{}</d:getlastmodified></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
                xml(&href),
                xml(name),
                xml(&etag(Some(entry))),
                expiry::format_rfc1123z(entry.modified),
            ));
        }
        body.push_str("</d:multistatus>");
        let mut answer = answers::empty(207);
        answer.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        );
        *answer.body_mut() = body.into();
        answer
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `OC-FileId`, `ETag` and `OC-ETag` of the node at `path` (reva `head.go`).
fn with_ids(answer: &mut Answer, drive: &Drive, path: &str) {
    let headers = answer.headers_mut();
    if let Some(value) = drive
        .item_id(path)
        .and_then(|id| HeaderValue::from_str(&id).ok())
    {
        headers.insert("oc-fileid", value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag(drive.get(path))) {
        headers.insert(header::ETAG, value.clone());
        headers.insert("oc-etag", value);
    }
}
