//! WebDAV of the personal drive, `/dav/spaces/{driveId}/…` (also below `/remote.php`): MKCOL,
//! HEAD, PROPFIND, PUT, GET, and DELETE into the trash bin (API-NOTES §1, §3.2, §3.3, §3.8; reva
//! `ocdav` `spaces.go`, `mkcol.go`, `head.go`, `delete.go`; docs/opencloud-behaviour.md,
//! "Folders over WebDAV" and "Deleting the folder"). The same methods serve a public link's
//! folder (`public_link`).

use http::{HeaderValue, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::World;
use super::answers::{self, Answer, xml_text};
use super::call::Call;
use super::drive::{Drive, Entry, Node, TreeError, parent};
use super::expiry;
use super::graph::etag;
use super::ids::ParsedId;

/// What Go's `url.PathEscape` keeps in a path segment: RFC 3986's unreserved characters and
/// `$&+:=@`; everything else, `!` and space included, is escaped (ocdav's hrefs:
/// docs/opencloud-behaviour.md, "Folders over WebDAV": `a%20b%21$`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b':')
    .remove(b'=')
    .remove(b'@');

/// A path, each segment escaped for an href.
pub(super) fn escape_path(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, PATH_SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The folder a space reference (`<storage>$<space>`, or an item id `…!<opaque>`, which ocdav
/// also takes) points to: `""` for the space's root; `None` for another space or a missing item
/// (API-NOTES §1).
pub(super) fn resolve(drive: &Drive, space: &str) -> Option<String> {
    let id = ParsedId::parse(space)?;
    if !drive.owns(&id) {
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

/// `path` relative to the folder `root` (`""` for `root` itself).
fn relative<'p>(path: &'p str, root: &str) -> &'p str {
    if root.is_empty() {
        path
    } else {
        path.strip_prefix(root)
            .unwrap_or_default()
            .trim_start_matches('/')
    }
}

/// Where a WebDAV request works: below which folder, named by which hrefs, for whom.
pub(super) struct Place<'a> {
    /// The folder paths are relative to: the space's root (`""`), the item a space reference
    /// names, or a public link's folder.
    pub root: String,
    /// What the hrefs start with, without a trailing slash: `/dav/spaces/<drive>` or
    /// `/remote.php/dav/public-files/<token>`.
    pub href_base: String,
    /// Through a public link: its type and token (docs/opencloud-behaviour.md, "Public links").
    pub link: Option<(&'a str, &'a str)>,
}

/// The message of a MKCOL's 409, as decomposedfs' `CreateDir` words it after its walk to the
/// parent (docs/opencloud-behaviour.md, "Folders over WebDAV"): a missing folder above the parent
/// is "not found" by its name; the parent itself missing is a failed precondition on its path,
/// relative to the reference (the space's root).
fn no_parent(drive: &Drive, root: &str, relative_path: &str) -> String {
    let parent_path = parent(relative_path);
    let segments: Vec<&str> = parent_path.split('/').collect();
    let mut walked = root.to_owned();
    for (i, segment) in segments.iter().enumerate() {
        walked = join(&walked, segment);
        if drive.get(&walked).is_none() && i + 1 < segments.len() {
            return format!(
                "create container: error: precondition failed: error: not found: {segment}"
            );
        }
    }
    format!("create container: error: precondition failed: {parent_path}")
}

impl Call<'_> {
    pub(super) fn space_dav(&self, world: &mut World, space: &str, rest: &str) -> Answer {
        let head = self.method.as_str() == "HEAD";
        let Some(root) = resolve(&world.drive, space) else {
            // An unknown space or item: NOT_FOUND, "Resource not found"; HEAD has no body (API-NOTES
            // §1, §3.3; docs/opencloud-behaviour.md, "Folders over WebDAV").
            return if head {
                answers::empty(404)
            } else {
                answers::not_found()
            };
        };
        let path = join(&root, rest);
        // Hrefs name the space as it was asked for, with the `$` of its id literal
        // (docs/opencloud-behaviour.md, "Folders over WebDAV").
        let place = Place {
            href_base: format!("{}/spaces/{}", self.dav_root(), escape_path(space)),
            root,
            link: None,
        };
        self.dav(world, &path, &place)
    }

    /// A WebDAV method on `path`, inside `place`.
    pub(super) fn dav(&self, world: &mut World, path: &str, place: &Place<'_>) -> Answer {
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
                    // no parent, in the storage's words (docs/opencloud-behaviour.md, "Folders
                    // over WebDAV").
                    Ok(()) => answers::empty(201),
                    Err(TreeError::Exists | TreeError::Root) => {
                        answers::sabre(405, "The resource you tried to create already exists")
                    }
                    Err(_) => answers::sabre(
                        409,
                        &no_parent(drive, &place.root, relative(&path, &place.root)),
                    ),
                }
            }
            "HEAD" => self.head(drive, &path),
            "PROPFIND" => self.propfind(drive, &path, place),
            "PUT" => match drive.put(&path, self.body.to_vec()) {
                Ok(new) => {
                    let mut answer = answers::empty(if new { 201 } else { 204 });
                    with_ids(&mut answer, drive, &path);
                    with_last_modified(&mut answer, drive.get(&path));
                    answer
                }
                // A missing parent: 409 without a body (docs/opencloud-behaviour.md, "Folders
                // over WebDAV"); the space's root, a folder in the way [I].
                Err(TreeError::ParentMissing | TreeError::ParentNotFolder) => answers::empty(409),
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
                // A folder: 200 with an empty body (docs/opencloud-behaviour.md, "Folders over
                // WebDAV").
                Some(Node::Folder) => answers::empty(200),
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
        with_last_modified(&mut answer, Some(entry));
        let headers = answer.headers_mut();
        let mime = match entry.node {
            Node::Folder => "httpd/unix-directory",
            Node::File(_) => mime_type(path),
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        headers.insert(header::CONTENT_LENGTH, drive.size(path).into());
        if matches!(entry.node, Node::File(_)) {
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        }
        answer
    }

    /// A 207 of the node (Depth 0) or the node and its children (Depth 1, the default), each
    /// with the asked properties, or without a body ocdav's set (docs/opencloud-behaviour.md,
    /// "Folders over WebDAV", "Public links").
    fn propfind(&self, drive: &Drive, path: &str, place: &Place<'_>) -> Answer {
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
        let asked = requested_properties(&self.body);
        // No `<?xml?>` declaration; the namespaces in the order s, d, oc; no newline at the end.
        let mut body = String::from(
            "<d:multistatus xmlns:s=\"http://sabredav.org/ns\" xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">",
        );
        for (node_path, entry) in nodes {
            let node = NodeView {
                drive,
                path: &node_path,
                entry,
                place,
                display_name: &self.shared.options.display_name,
            };
            let relative = relative(&node_path, &place.root);
            let mut href = format!("{}/{}", place.href_base, escape_path(relative));
            if node.is_folder() && !href.ends_with('/') {
                href.push('/');
            }
            body.push_str(&format!("<d:response><d:href>{}</d:href>", xml_text(&href)));
            let (found, missing): (Vec<String>, Vec<String>) = match &asked {
                None => {
                    let found = node
                        .allprop()
                        .iter()
                        .filter_map(|(ns, name)| node.property(ns, name))
                        .collect();
                    let missing = ["audio", "location", "image", "photo"]
                        .iter()
                        .map(|name| format!("<oc:{name}></oc:{name}>"))
                        .collect();
                    (found, missing)
                }
                Some(asked) => {
                    let mut found = Vec::new();
                    let mut missing = Vec::new();
                    for (ns, name) in asked {
                        match node.property(ns, name) {
                            Some(property) => found.push(property),
                            None => missing.push(empty_element(ns, name)),
                        }
                    }
                    (found, missing)
                }
            };
            if !found.is_empty() {
                body.push_str(&propstat(&found.concat(), "200 OK"));
            }
            if !missing.is_empty() {
                body.push_str(&propstat(&missing.concat(), "404 Not Found"));
            }
            body.push_str("</d:response>");
        }
        body.push_str("</d:multistatus>");
        answers::multistatus(body)
    }
}

pub(super) fn propstat(props: &str, status: &str) -> String {
    format!(
        "<d:propstat><d:prop>{props}</d:prop><d:status>HTTP/1.1 {status}</d:status></d:propstat>"
    )
}

pub(super) const DAV_NS: &str = "DAV:";
pub(super) const OC_NS: &str = "http://owncloud.org/ns";

/// An element for a property that has no value here, in a 404 propstat.
pub(super) fn empty_element(ns: &str, name: &str) -> String {
    match ns {
        DAV_NS => format!("<d:{name}></d:{name}>"),
        OC_NS => format!("<oc:{name}></oc:{name}>"),
        _ => format!("<{name} xmlns=\"{}\"></{name}>", xml_text(ns)),
    }
}

/// A node as a PROPFIND shows it.
struct NodeView<'a> {
    drive: &'a Drive,
    path: &'a str,
    entry: &'a Entry,
    place: &'a Place<'a>,
    display_name: &'a str,
}

impl NodeView<'_> {
    fn is_folder(&self) -> bool {
        self.entry.node == Node::Folder
    }

    /// The properties ocdav sends without a body (docs/opencloud-behaviour.md, "Folders over
    /// WebDAV", "Public links"): a folder's tree size and the favourite flag only to the owner.
    fn allprop(&self) -> Vec<(&'static str, &'static str)> {
        let mut names = vec![
            (OC_NS, "id"),
            (OC_NS, "fileid"),
            (OC_NS, "spaceid"),
            (OC_NS, "file-parent"),
            (OC_NS, "name"),
            (DAV_NS, "displayname"),
            (DAV_NS, "getetag"),
            (OC_NS, "permissions"),
            (DAV_NS, "resourcetype"),
        ];
        let owner = self.place.link.is_none();
        if !self.is_folder() {
            names.extend([(DAV_NS, "getcontentlength"), (DAV_NS, "getcontenttype")]);
        } else if owner {
            names.push((OC_NS, "size"));
        }
        names.extend([(DAV_NS, "getlastmodified"), (OC_NS, "tags")]);
        if owner {
            names.push((OC_NS, "favorite"));
        }
        names
    }

    /// The name it is shown with: a public link's folder is named by the token; the space's
    /// root by the account's display name [I] (docs/opencloud-behaviour.md, "Public links").
    fn name(&self) -> &str {
        match self.place.link {
            Some((_, token)) if self.path == self.place.root => token,
            _ if self.path.is_empty() => self.display_name,
            _ => self.path.rsplit('/').next().unwrap_or_default(),
        }
    }

    /// `oc:permissions`: the owner's, or what the link's type allows (docs/opencloud-behaviour.md,
    /// "Folders over WebDAV", "Public links"; a file's for the owner, `upload` and `createOnly`
    /// [I]).
    fn permissions(&self) -> &'static str {
        match (
            self.place.link.map(|(link_type, _)| link_type),
            self.is_folder(),
        ) {
            (None, true) => "RDNVCKZP",
            (None, false) => "RDNVWZP",
            (Some("edit"), true) => "DNVCKZ",
            (Some("edit"), false) => "DNVWZ",
            (Some("upload"), true) => "CKZ",
            (Some("createOnly"), true) => "CK",
            (Some("createOnly"), false) => "",
            (Some(_), _) => "Z",
        }
    }

    /// A property as an element, or `None` where it has no value.
    fn property(&self, ns: &str, name: &str) -> Option<String> {
        let text = |prefix: &str, value: &str| {
            Some(format!(
                "<{prefix}:{name}>{}</{prefix}:{name}>",
                xml_text(value)
            ))
        };
        let item_id = || self.drive.item_id_of(&self.entry.opaque);
        let file = match &self.entry.node {
            Node::File(content) => Some(content.len()),
            Node::Folder => None,
        };
        match (ns, name) {
            (OC_NS, "id" | "fileid") => text("oc", &item_id()),
            (OC_NS, "spaceid") => text("oc", &self.drive.drive_id()),
            (OC_NS, "file-parent") if !self.path.is_empty() => text(
                "oc",
                &self.drive.item_id(parent(self.path)).unwrap_or_default(),
            ),
            (OC_NS, "name") => text("oc", self.name()),
            (DAV_NS, "displayname") => text("d", self.name()),
            (DAV_NS, "getetag") => text("d", &etag(Some(self.entry))),
            (OC_NS, "permissions") => text("oc", self.permissions()),
            (DAV_NS, "resourcetype") if self.is_folder() => {
                Some("<d:resourcetype><d:collection/></d:resourcetype>".to_owned())
            }
            (DAV_NS, "resourcetype") => Some("<d:resourcetype></d:resourcetype>".to_owned()),
            (OC_NS, "size") => text("oc", &self.drive.size(self.path).to_string()),
            (DAV_NS, "getcontentlength") => text("d", &file?.to_string()),
            (DAV_NS, "getcontenttype") => {
                file?;
                text("d", mime_type(self.path))
            }
            (DAV_NS, "getlastmodified") => {
                text("d", &expiry::format_http_date(self.entry.modified))
            }
            (OC_NS, "tags") => text("oc", ""),
            (OC_NS, "favorite") => text("oc", "0"),
            _ => None,
        }
    }
}

/// The properties a PROPFIND body asks for, by namespace and name, in its order; `None` for
/// all of them (no body, `<d:allprop/>`, or a body this reading does not understand). A small
/// reading of XML: every `xmlns` declaration counts for the whole document.
pub(super) fn requested_properties(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut namespaces: Vec<(String, String)> = Vec::new();
    let mut tags = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        let closing = tag.starts_with('/');
        let empty = tag.ends_with('/');
        let tag = tag.trim_start_matches('/').trim_end_matches('/');
        let mut parts = tag.split_whitespace();
        let name = parts.next().unwrap_or_default().to_owned();
        for attribute in parts {
            if let Some((key, value)) = attribute.split_once('=') {
                let value = value.trim_matches(|c| c == '"' || c == '\'');
                if key == "xmlns" {
                    namespaces.push((String::new(), value.to_owned()));
                } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                    namespaces.push((prefix.to_owned(), value.to_owned()));
                }
            }
        }
        tags.push((name, closing, empty));
    }
    let resolve = |name: &str| -> (String, String) {
        let (prefix, local) = name.split_once(':').unwrap_or(("", name));
        let ns = namespaces
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map_or_else(String::new, |(_, ns)| ns.clone());
        (ns, local.to_owned())
    };
    let mut asked = Vec::new();
    let mut in_prop = false;
    let mut depth = 0;
    for (name, closing, empty) in tags {
        let (ns, local) = resolve(&name);
        if ns == DAV_NS && local == "allprop" {
            return None;
        }
        if !in_prop {
            if ns == DAV_NS && local == "prop" && !closing && !empty {
                in_prop = true;
            }
            continue;
        }
        if closing {
            if depth == 0 {
                in_prop = false;
            } else {
                depth -= 1;
            }
        } else {
            if depth == 0 {
                asked.push((ns, local));
            }
            if !empty {
                depth += 1;
            }
        }
    }
    (!asked.is_empty()).then_some(asked)
}

/// A file's type by its extension, as reva's `mime` package guesses it (a few of them [I]).
fn mime_type(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" => "text/plain",
        "md" => "text/markdown",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
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

/// `Last-Modified` as reva writes it, `+0000` (docs/opencloud-behaviour.md, "Folders over
/// WebDAV").
fn with_last_modified(answer: &mut Answer, entry: Option<&Entry>) {
    if let Some(value) =
        entry.and_then(|e| HeaderValue::from_str(&expiry::format_rfc1123z(e.modified)).ok())
    {
        answer.headers_mut().insert(header::LAST_MODIFIED, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_escape_as_go_does() {
        assert_eq!(escape_path("a b!$/a\\b"), "a%20b%21$/a%5Cb");
        assert_eq!(
            escape_path("räum-😀-会议"),
            "r%C3%A4um-%F0%9F%98%80-%E4%BC%9A%E8%AE%AE"
        );
    }

    #[test]
    fn propfind_bodies_name_their_properties() {
        assert_eq!(requested_properties(b""), None);
        assert_eq!(
            requested_properties(
                br#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/><oc:id /><d:getetag></d:getetag></d:prop></d:propfind>"#
            ),
            Some(vec![
                (OC_NS.to_owned(), "fileid".to_owned()),
                (OC_NS.to_owned(), "id".to_owned()),
                (DAV_NS.to_owned(), "getetag".to_owned()),
            ])
        );
        assert_eq!(
            requested_properties(br#"<propfind xmlns="DAV:"><allprop/></propfind>"#),
            None
        );
    }

    #[test]
    fn mkcol_conflicts_name_what_is_missing() {
        let mut drive = Drive::new();
        drive.mkcol("oc-check").unwrap();
        assert_eq!(
            no_parent(&drive, "", "oc-check/nope/r6"),
            "create container: error: precondition failed: oc-check/nope"
        );
        assert_eq!(
            no_parent(&drive, "", "x/meetings/room-1"),
            "create container: error: precondition failed: error: not found: x"
        );
        assert_eq!(
            no_parent(&drive, "", "oc-check/a/b/c"),
            "create container: error: precondition failed: error: not found: a"
        );
    }
}
