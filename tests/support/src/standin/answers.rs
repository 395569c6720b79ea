//! The bodies NextCloud answers with, as recorded in `../shared/nextcloud/recordings/`.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

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

/// OCS v2 success: HTTP 200, `statuscode` 200 (`04-ocs-share-create.txt`).
pub fn ocs_ok(data: Value) -> Answer {
    let body = json!({"ocs": {"meta": {"status": "ok", "statuscode": 200, "message": "OK"}, "data": data}});
    with_body(200, "application/json; charset=utf-8", body.to_string())
}

/// OCS v2 failure: the HTTP status and `statuscode` agree, `data` is `[]`
/// (`05-ocs-share-create-errors.txt`); 401 carries statuscode 997 (`05…` [13]).
pub fn ocs_error(status: u16, message: &str) -> Answer {
    let code = if status == 401 { 997 } else { status };
    let body = json!({"ocs": {"meta": {"status": "failure", "statuscode": code, "message": message}, "data": []}});
    with_body(status, "application/json; charset=utf-8", body.to_string())
}

/// An OCS v1-style failure: HTTP 200, the error only in `statuscode` (`06-ocs-v1-vs-v2.txt` [3]).
pub fn ocs_v1_error(statuscode: u16, message: &str) -> Answer {
    let body = json!({"ocs": {"meta": {"status": "failure", "statuscode": statuscode, "message": message, "totalitems": "", "itemsperpage": ""}, "data": []}});
    with_body(200, "application/json; charset=utf-8", body.to_string())
}

/// The reason phrase NextCloud's error bodies carry for a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        401 => "Unauthorised",
        403 => "Forbidden",
        404 => "Not found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// The Sabre exception class of a status (`01-…`, `09-…` [19]).
pub fn sabre_exception(status: u16) -> &'static str {
    match status {
        401 => "Sabre\\DAV\\Exception\\NotAuthenticated",
        403 => "Sabre\\DAV\\Exception\\Forbidden",
        404 => "Sabre\\DAV\\Exception\\NotFound",
        503 => "Sabre\\DAV\\Exception\\ServiceUnavailable",
        _ => "Sabre\\DAV\\Exception",
    }
}

/// Without `OCS-APIRequest: true` (`05-ocs-share-create-errors.txt` [15]).
pub fn csrf_failed() -> Answer {
    with_body(
        412,
        "application/json; charset=utf-8",
        r#"{"message":"CSRF check failed"}"#,
    )
}

/// A Sabre error body (`01-webdav-mkcol.txt`, `09-public-webdav-access.txt`).
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

pub fn public_unauthenticated() -> Answer {
    sabre(
        401,
        "Sabre\\DAV\\Exception\\NotAuthenticated",
        "Username or password was incorrect",
    )
}

pub fn forbidden() -> Answer {
    sabre(403, "Sabre\\DAV\\Exception\\Forbidden", "")
}

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

/// A 207 listing of `entries` (href, is-folder, size).
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

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
