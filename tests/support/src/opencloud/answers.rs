//! The bodies OpenCloud answers with (API-NOTES §1; docs/opencloud-behaviour.md, "Answer
//! shapes"): Graph's odata errors and JSON, reva's Sabre-style XML errors for WebDAV, the proxy's
//! 401, and the OCS envelope of the capabilities.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

pub(crate) use crate::standin::answers::Answer;

use super::{expiry, ids};

fn with_body(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut answer = Response::new(Full::new(body.into()));
    *answer.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    answer
}

pub(crate) fn empty(status: u16) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::new()));
    *answer.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer
}

/// JSON as Go's encoder writes it (chi's `render.JSON`): `<`, `>`, `&`, U+2028 and U+2029
/// escaped, a newline at the end (docs/opencloud-behaviour.md, "Answer shapes").
pub(crate) fn json(status: u16, value: &Value) -> Answer {
    let mut text = String::new();
    for c in value.to_string().chars() {
        match c {
            '<' => text.push_str("\\u003c"),
            '>' => text.push_str("\\u003e"),
            '&' => text.push_str("\\u0026"),
            '\u{2028}' => text.push_str("\\u2028"),
            '\u{2029}' => text.push_str("\\u2029"),
            c => text.push(c),
        }
    }
    text.push('\n');
    with_body(status, "application/json", text)
}

/// The odata error code the Graph service uses for a status (API-NOTES §1 "Code to status").
pub(crate) fn odata_code(status: u16) -> &'static str {
    match status {
        400 => "invalidRequest",
        401 => "unauthenticated",
        403 => "accessDenied",
        404 => "itemNotFound",
        405 => "notAllowed",
        409 => "nameAlreadyExists",
        412 => "preconditionFailed",
        423 => "itemIsLocked",
        501 => "notSupported",
        _ => "generalException",
    }
}

/// A request id as the proxy's (chi's) `RequestID` middleware makes them: `<host>/<10
/// letters>-<counter, 6 digits>`, e.g. `vm/Ze8i4MYYW3-000225` (docs/opencloud-behaviour.md,
/// "Answer shapes"); the host is `standin`, the letters fixed per process.
pub(crate) fn request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| format!("standin/{}", ids::letters(10)));
    format!("{prefix}-{:06}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A Graph error: `{"error":{"code","message","innererror":{"date","request-id"}}}` (API-NOTES
/// §1 "Graph error body"; docs/opencloud-behaviour.md, "Answer shapes").
pub(crate) fn odata(status: u16, message: &str) -> Answer {
    json(
        status,
        &json!({"error": {
            "code": odata_code(status),
            "message": message,
            "innererror": {
                "date": expiry::format_utc(expiry::now_unix()),
                "request-id": request_id(),
            },
        }}),
    )
}

/// Sabre's exception class for a status, as reva's `ocdav/errors` maps them ("" where it has
/// none, as for 500) (API-NOTES §1; docs/opencloud-behaviour.md, "Answer shapes").
pub(crate) fn sabre_exception(status: u16) -> &'static str {
    match status {
        400 => "Sabre\\DAV\\Exception\\BadRequest",
        401 => "Sabre\\DAV\\Exception\\NotAuthenticated",
        402 => "Sabre\\DAV\\Exception\\PaymentRequired",
        403 => "Sabre\\DAV\\Exception\\Forbidden",
        404 => "Sabre\\DAV\\Exception\\NotFound",
        405 => "Sabre\\DAV\\Exception\\MethodNotAllowed",
        409 => "Sabre\\DAV\\Exception\\Conflict",
        411 => "Sabre\\DAV\\Exception\\LengthRequired",
        412 => "Sabre\\DAV\\Exception\\PreconditionFailed",
        415 => "Sabre\\DAV\\Exception\\UnsupportedMediaType",
        416 => "Sabre\\DAV\\Exception\\RequestedRangeNotSatisfiable",
        423 => "Sabre\\DAV\\Exception\\Locked",
        501 => "Sabre\\DAV\\Exception\\NotImplemented",
        503 => "Sabre\\DAV\\Exception\\ServiceUnavailable",
        507 => "Sabre\\DAV\\Exception\\InsufficientStorage",
        _ => "",
    }
}

/// Text as Go's `encoding/xml` escapes it (`EscapeText`: also tab, newline and carriage
/// return).
pub(crate) fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
        .replace('"', "&#34;")
        .replace('\t', "&#x9;")
        .replace('\n', "&#xA;")
        .replace('\r', "&#xD;")
}

/// reva's WebDAV error: `<d:error>` with the exception, the message and an error code, as its
/// `errors.Marshal` writes it (`xmlns:d="DAV"`, sic), served as Go sniffs it: `text/xml`
/// (API-NOTES §1 "WebDAV errors"; docs/opencloud-behaviour.md, "Answer shapes").
pub(crate) fn sabre_coded(status: u16, message: &str, error_code: &str) -> Answer {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:error xmlns:d=\"DAV\" xmlns:s=\"http://sabredav.org/ns\"><s:exception>{}</s:exception><s:message>{}</s:message><s:errorcode>{}</s:errorcode></d:error>",
        sabre_exception(status),
        xml_text(message),
        xml_text(error_code),
    );
    with_body(status, "text/xml; charset=utf-8", body)
}

pub(crate) fn sabre(status: u16, message: &str) -> Answer {
    sabre_coded(status, message, "")
}

/// reva's 404 message, mimicking ownCloud 10: "Resource not found" (API-NOTES §1 "WebDAV
/// errors"; reva `ocdav`; docs/opencloud-behaviour.md, "Answer shapes").
pub(crate) fn not_found() -> Answer {
    sabre(404, "Resource not found")
}

/// The methods the proxy counts as WebDAV: their 401 has an XML body (API-NOTES §6; ocis/OpenCloud
/// proxy `webdav.IsWebdavRequest`).
fn is_webdav_method(method: &Method) -> bool {
    matches!(
        method.as_str(),
        "PROPFIND" | "DELETE" | "PROPPATCH" | "MKCOL" | "COPY" | "MOVE" | "LOCK" | "UNLOCK"
    )
}

/// The proxy's 401 for missing or wrong account credentials: two challenges, `Bearer` and
/// `Basic`, with the request's host as realm; an empty body, except for WebDAV methods (even on
/// a Graph path), which get the proxy's own XML error — its element names capitalised, unlike
/// reva's, and without `s:errorcode` (API-NOTES §1, §6; docs/opencloud-behaviour.md,
/// "Authentication").
pub(crate) fn unauthenticated(method: &Method, host: &str) -> Answer {
    let mut answer = if is_webdav_method(method) {
        with_body(
            401,
            "text/xml; charset=utf-8",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:error xmlns:d=\"DAV\" xmlns:s=\"http://sabredav.org/ns\"><s:Exception>Sabre\\DAV\\Exception\\PermissionDenied</s:Exception><s:Message>Authentication error</s:Message></d:error>",
        )
    } else {
        empty(401)
    };
    for scheme in ["Bearer", "Basic"] {
        let challenge = format!("{scheme} realm=\"{host}\", charset=\"UTF-8\"");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            answer.headers_mut().append(header::WWW_AUTHENTICATE, value);
        }
    }
    answer
}

/// ocdav's 401 below `/dav/public-files/` (without `/remote.php`), whatever the method and the
/// password: no body, no challenge (docs/opencloud-behaviour.md, "Public links").
pub(crate) fn public_files_outside_remote_php() -> Answer {
    empty(401)
}

/// A 207 Multi-Status with its body as ocdav serves it: `application/xml; charset=utf-8` and
/// the `Dav` header (docs/opencloud-behaviour.md, "Answer shapes").
pub(crate) fn multistatus(body: String) -> Answer {
    let mut answer = with_body(207, "application/xml; charset=utf-8", body);
    answer
        .headers_mut()
        .insert("dav", HeaderValue::from_static("1, 3, extended-mkcol"));
    answer
}

/// `/status.php` (and `/status`): what OpenCloud 0.1.0 answered, pretty-printed with 4 spaces,
/// without a newline at the end (docs/opencloud-behaviour.md, "Telling OpenCloud apart").
pub(crate) fn status_php() -> Answer {
    with_body(
        200,
        "application/json",
        "{\n    \"installed\": true,\n    \"maintenance\": false,\n    \"needsDbUpgrade\": false,\n    \"version\": \"0.1.0.0\",\n    \"versionstring\": \"0.1.0\",\n    \"edition\": \"Community\",\n    \"productname\": \"OpenCloud\",\n    \"product\": \"OpenCloud\",\n    \"productversion\": \"0.1.0+ebba861\"\n}",
    )
}

/// Go's `http.Error(w, "Not Implemented", 501)`: what reva's space handler answers to a method
/// it does not serve (not in API-NOTES; reva `ocdav/spaces.go`; docs/opencloud-behaviour.md, "Folders over WebDAV").
pub(crate) fn not_implemented() -> Answer {
    with_body(501, "text/plain; charset=utf-8", "Not Implemented\n")
}

/// Go's `http.NotFound`, chi's answer to a path it does not route [I] (not in API-NOTES; docs/opencloud-behaviour.md,
/// "Answer shapes").
pub(crate) fn page_not_found() -> Answer {
    with_body(404, "text/plain; charset=utf-8", "404 page not found\n")
}

/// An OCS v1 answer: `{"ocs":{"meta":{"status","statuscode","message"},"data":…}}`, 100 meaning
/// success, with `Ocs-Api-Version: 1` (API-NOTES §3.4; docs/opencloud-behaviour.md, "Answer
/// shapes" and "Capabilities").
pub(crate) fn ocs_v1(http_status: u16, statuscode: u16, message: &str, data: Value) -> Answer {
    ocs(
        "1",
        http_status,
        statuscode,
        statuscode == 100,
        message,
        data,
    )
}

/// OCS v2's: the same, 200 meaning success, with `Ocs-Api-Version: 2`.
pub(crate) fn ocs_v2(http_status: u16, statuscode: u16, message: &str, data: Value) -> Answer {
    ocs(
        "2",
        http_status,
        statuscode,
        statuscode == 200,
        message,
        data,
    )
}

fn ocs(
    api_version: &'static str,
    http_status: u16,
    statuscode: u16,
    ok: bool,
    message: &str,
    data: Value,
) -> Answer {
    let body = json!({"ocs": {
        "meta": {"status": if ok { "ok" } else { "failure" }, "statuscode": statuscode, "message": message},
        "data": data,
    }});
    let mut answer = json(http_status, &body);
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert("ocs-api-version", HeaderValue::from_static(api_version));
    answer
}

/// A status's reason phrase, the message of injected failures (docs/opencloud-behaviour.md,
/// "Failures the tests inject").
pub(crate) fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}
