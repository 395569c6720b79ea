//! The bodies NextCloud answers with (docs/nextcloud-behaviour.md, "Answer shapes", and the section
//! of each call).

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

use super::storage::TreeError;

pub type Answer = Response<Full<Bytes>>;

fn with_body(status: u16, content_type: &str, body: impl Into<Bytes>) -> Answer {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body.into()))
        .unwrap_or_default()
}

pub fn empty(status: u16) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::new()));
    *answer.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer
}

/// JSON as PHP's `json_encode` writes it, as NextCloud sends it: every `/` escaped as `\/`, every
/// non-ASCII character as `\uXXXX`, and one outside the Basic Multilingual Plane as its UTF-16
/// surrogate pair (`\ud83d\ude00`) (docs/nextcloud-behaviour.md, "JSON text"; recordings `04`,
/// `16 [1]`). Both characters only occur inside strings.
pub fn php_json(value: &Value) -> String {
    let mut text = String::new();
    for c in value.to_string().chars() {
        match c {
            '/' => text.push_str("\\/"),
            c if c.is_ascii() => text.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    text.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    text
}

fn ocs_json(status: u16, body: Value) -> Answer {
    with_body(status, "application/json; charset=utf-8", php_json(&body))
}

/// OCS v2 success: HTTP 200, `statuscode` 200 (docs/nextcloud-behaviour.md, "Answer shapes";
/// recording `04`).
pub fn ocs_ok(data: Value) -> Answer {
    ocs_json(
        200,
        json!({"ocs": {"meta": {"status": "ok", "statuscode": 200, "message": "OK"}, "data": data}}),
    )
}

/// OCS v2 failure: the HTTP status and `statuscode` agree, `data` is `[]`
/// (docs/nextcloud-behaviour.md, "Answer shapes"; recording `05`); 401 carries statuscode 997
/// ("Requests and authentication"; recording `05 [13]`).
pub fn ocs_error(status: u16, message: &str) -> Answer {
    let code = if status == 401 { 997 } else { status };
    ocs_json(
        status,
        json!({"ocs": {"meta": {"status": "failure", "statuscode": code, "message": message}, "data": []}}),
    )
}

/// An OCS v1-style failure: HTTP 200, the error only in `statuscode` (docs/nextcloud-behaviour.md,
/// "Answer shapes"; recording `06 [3]`).
pub fn ocs_v1_error(statuscode: u16, message: &str) -> Answer {
    ocs_json(
        200,
        json!({"ocs": {"meta": {"status": "failure", "statuscode": statuscode, "message": message, "totalitems": "", "itemsperpage": ""}, "data": []}}),
    )
}

/// NextCloud's HTML "Page not found" (404, `text/html`): a share DELETE that lost the race to its
/// folder's DELETE gets it, not an OCS envelope (docs/nextcloud-behaviour.md, "Answer shapes" and
/// "Locking"; recordings `15`, `23 (d)`).
pub fn page_not_found() -> Answer {
    with_body(
        404,
        "text/html; charset=UTF-8",
        "<!DOCTYPE html>\n<html class=\"ng-csp\" data-placeholder-focus=\"false\" lang=\"en\">\n<head><title>Nextcloud</title></head>\n<body id=\"body-login\">\n<div class=\"guest-box\"><h2>Page not found</h2>\n<p class=\"infogroup\">The page could not be found on the server or you may not be allowed to view it.</p></div>\n</body>\n</html>\n",
    )
}

/// 423 Locked with Sabre's `FileLocked` body (docs/nextcloud-behaviour.md, "Locking"; recording
/// `15`).
pub fn file_locked(path: &str) -> Answer {
    sabre(
        423,
        "OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked",
        &format!("\"/{path}\" is locked"),
    )
}

/// The trash bin's PROPFIND (Depth 1) answer: the trash itself (its trashbin properties in a 404
/// propstat), then each entry with its name, original location and time of deletion
/// (docs/nextcloud-behaviour.md, "Trash bin"; recording `19 [2]`). `base` is the trash's href,
/// ending in `/`.
pub fn trash_listing(base: &str, entries: &[super::storage::TrashEntry]) -> Answer {
    let mut body = String::from(
        "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">",
    );
    body.push_str(&format!(
        "<d:response><d:href>{}</d:href><d:propstat><d:prop><nc:trashbin-filename/><nc:trashbin-original-location/><nc:trashbin-deletion-time/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>",
        xml_escape(base)
    ));
    for entry in entries {
        let folder = matches!(entry.nodes.get(""), Some(super::storage::Node::Folder));
        // Escaped as NextCloud writes its hrefs: all but RFC 3986's unreserved characters,
        // in lower-case hex (docs/nextcloud-behaviour.md, "Trash bin"; recording `16 [2]`).
        const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let name = lower_case_escapes(
            &percent_encoding::utf8_percent_encode(&entry.name, UNRESERVED).to_string(),
        );
        let file_name = entry
            .original_location
            .rsplit('/')
            .next()
            .unwrap_or_default();
        body.push_str(&format!(
            "<d:response><d:href>{}{name}{}</d:href><d:propstat><d:prop><nc:trashbin-filename>{}</nc:trashbin-filename><nc:trashbin-original-location>{}</nc:trashbin-original-location><nc:trashbin-deletion-time>{}</nc:trashbin-deletion-time></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
            xml_escape(base),
            if folder { "/" } else { "" },
            xml_escape(file_name),
            xml_escape(&entry.original_location),
            entry.deleted_at,
        ));
    }
    body.push_str("</d:multistatus>");
    with_body(207, "application/xml; charset=utf-8", body)
}

/// ownCloud's trash bin listing (docs/owncloud-behaviour.md, "Trash bin"): the bin itself
/// (its properties in a 404 propstat), then each entry as `<base><file id>` (`/` after a
/// folder's) with `oc:trashbin-original-location`. `base` ends in `/`.
pub fn owncloud_trash_listing(base: &str, entries: &[super::storage::TrashEntry]) -> Answer {
    let mut body = String::from(
        "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\">",
    );
    body.push_str(&format!(
        "<d:response><d:href>{}</d:href><d:propstat><d:prop><oc:trashbin-original-location/><oc:trashbin-original-filename/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>",
        xml_escape(base)
    ));
    // Listed by stored name, not newest first.
    let mut sorted: Vec<&super::storage::TrashEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for entry in sorted {
        let folder = matches!(entry.nodes.get(""), Some(super::storage::Node::Folder));
        let file_name = entry
            .original_location
            .rsplit('/')
            .next()
            .unwrap_or_default();
        body.push_str(&format!(
            "<d:response><d:href>{}{}{}</d:href><d:propstat><d:prop><oc:trashbin-original-location>{}</oc:trashbin-original-location><oc:trashbin-original-filename>{}</oc:trashbin-original-filename></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
            xml_escape(base),
            entry.id,
            if folder { "/" } else { "" },
            xml_escape(&entry.original_location),
            xml_escape(file_name),
        ));
    }
    body.push_str("</d:multistatus>");
    with_body(207, "application/xml; charset=utf-8", body)
}

/// The reason phrase NextCloud's error bodies carry for a status (docs/nextcloud-behaviour.md,
/// "Failures the tests inject").
pub fn reason(status: u16) -> &'static str {
    match status {
        401 => "Unauthorised",
        403 => "Forbidden",
        404 => "Not found",
        423 => "Locked",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// The Sabre exception class of a status (docs/nextcloud-behaviour.md, "Failures the tests inject";
/// recordings `01`, `09 [19]`).
pub fn sabre_exception(status: u16) -> &'static str {
    match status {
        401 => "Sabre\\DAV\\Exception\\NotAuthenticated",
        403 => "Sabre\\DAV\\Exception\\Forbidden",
        404 => "Sabre\\DAV\\Exception\\NotFound",
        503 => "Sabre\\DAV\\Exception\\ServiceUnavailable",
        _ => "Sabre\\DAV\\Exception",
    }
}

/// Without `OCS-APIRequest: true` (docs/nextcloud-behaviour.md, "Answer shapes" and "Requests and
/// authentication"; recording `05 [15]`).
pub fn csrf_failed() -> Answer {
    with_body(
        412,
        "application/json; charset=utf-8",
        r#"{"message":"CSRF check failed"}"#,
    )
}

/// A Sabre error body (docs/nextcloud-behaviour.md, "Answer shapes"; recordings `01`, `09`).
pub fn sabre(status: u16, exception: &str, message: &str) -> Answer {
    let message = if message.is_empty() {
        "  <s:message/>".to_owned()
    } else {
        format!("  <s:message>{}</s:message>", xml_escape(message))
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">\n  <s:exception>{exception}</s:exception>\n{message}\n</d:error>\n"
    );
    with_body(status, "application/xml; charset=utf-8", body)
}

/// WebDAV's 401, with `WWW-Authenticate` (docs/nextcloud-behaviour.md, "Requests and
/// authentication"; recording `01 [14]`).
pub fn dav_unauthenticated() -> Answer {
    let mut answer = sabre(
        401,
        "Sabre\\DAV\\Exception\\NotAuthenticated",
        "No public access to this resource., AppAPIAuth has not passed, This request is not for a federated calendar, Username or password was incorrect",
    );
    answer.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Basic realm=\"Nextcloud\", charset=\"UTF-8\""),
    );
    answer
}

/// A public link's 401: a wrong share password (docs/nextcloud-behaviour.md, "Public links over
/// WebDAV"; recording `09 [4]`).
pub fn public_unauthenticated() -> Answer {
    sabre(
        401,
        "Sabre\\DAV\\Exception\\NotAuthenticated",
        "Username or password was incorrect",
    )
}

/// Sabre's answer to a tree operation that did not happen (docs/nextcloud-behaviour.md, "Folders
/// and files over WebDAV"; recordings `01`, `03`).
pub fn tree_error(error: TreeError, path: &str) -> Answer {
    match error {
        TreeError::Exists => sabre(
            405,
            "Sabre\\DAV\\Exception\\MethodNotAllowed",
            "The resource you tried to create already exists",
        ),
        TreeError::ParentMissing => sabre(
            409,
            "Sabre\\DAV\\Exception\\Conflict",
            "Parent node does not exist",
        ),
        TreeError::ParentNotFolder => sabre(
            409,
            "Sabre\\DAV\\Exception\\Conflict",
            "Parent node is not a collection",
        ),
        TreeError::Missing => not_located(path),
    }
}

/// What a link's permissions do not allow (docs/nextcloud-behaviour.md, "Public links over WebDAV";
/// recording `09 [8]`).
pub fn forbidden() -> Answer {
    sabre(403, "Sabre\\DAV\\Exception\\Forbidden", "")
}

/// A missing node, `path` below the user's root (docs/nextcloud-behaviour.md, "Folders and files
/// over WebDAV"; recordings `02 [6]`, `03 [6]`).
pub fn not_located(path: &str) -> Answer {
    sabre(
        404,
        "Sabre\\DAV\\Exception\\NotFound",
        &format!("File with name /{path} could not be located"),
    )
}

pub fn status(status: u16) -> Answer {
    empty(status)
}

/// A 207 listing of `entries` (href, is-folder, size) (docs/nextcloud-behaviour.md, "Folders and
/// files over WebDAV"; recording `02`).
/// A path for an href as NextCloud writes it: each segment percent-encoded (everything but
/// letters, digits and `-._~`), the escapes in lower-case hex, `/` kept
/// (docs/nextcloud-behaviour.md, "Listing the rooms' folders and their links").
pub fn href_path(path: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    lower_case_escapes(&percent_encoding::utf8_percent_encode(path, UNRESERVED).to_string())
}

pub fn multistatus(entries: &[(String, bool, usize)]) -> Answer {
    let mut body = String::from(
        "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">",
    );
    for (href, folder, size) in entries {
        let kind = if *folder {
            "<d:resourcetype><d:collection/></d:resourcetype>".to_owned()
        } else {
            format!("<d:resourcetype/><d:getcontentlength>{size}</d:getcontentlength>")
        };
        body.push_str(&format!(
            "<d:response><d:href>{}</d:href><d:propstat><d:prop>{kind}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
            xml_escape(href)
        ));
    }
    body.push_str("</d:multistatus>");
    with_body(207, "application/xml; charset=utf-8", body)
}

pub fn file(content: Vec<u8>) -> Answer {
    with_body(200, "application/octet-stream", content)
}

pub fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` with the hex digits of its `%XX` escapes in lower case, and nothing else changed:
/// NextCloud writes `%c3%a4` but keeps a name's own capitals (docs/nextcloud-behaviour.md,
/// "Trash bin").
fn lower_case_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut escape_digits = 0;
    for c in text.chars() {
        if escape_digits > 0 {
            out.push(c.to_ascii_lowercase());
            escape_digits -= 1;
        } else {
            if c == '%' {
                escape_digits = 2;
            }
            out.push(c);
        }
    }
    out
}
