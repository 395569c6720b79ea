//! NextCloud's OCS API (v2, JSON): public-link shares and the password policy's generator.
//!
//! Every answer is an envelope `{"ocs":{"meta":{"status","statuscode","message"},"data":…}}`
//! (recordings `04-ocs-share-create.txt`, `05-ocs-share-create-errors.txt`). Success needs both
//! a 2xx HTTP status and `meta.statuscode` 200 (or v1's 100): the HTTP status alone is not
//! trusted (`06-ocs-v1-vs-v2.txt`).

use crate::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use crate::errors::{self, Error};
use crate::http::{Request, Response};
use crate::paths;
use crate::settings::Settings;

/// Permission bits of a share (`ShareAPIController`): read 1, update 2, create 4, delete 8.
pub const READ: u32 = 1;
pub const READ_WRITE: u32 = 1 | 2 | 4 | 8;
/// The bits we ask for; NextCloud adds `share` (16) to what it returns: 1 → 17, 15 → 31.
const REQUESTED_BITS: u32 = 15;

/// `shareType` of a public link.
const PUBLIC_LINK: &str = "3";

#[derive(Debug, Deserialize)]
struct Envelope {
    ocs: Ocs,
}

#[derive(Debug, Deserialize)]
struct Ocs {
    meta: Meta,
    #[serde(default)]
    data: Value,
}

#[derive(Debug, Deserialize)]
struct Meta {
    statuscode: u16,
    #[serde(default)]
    message: Option<String>,
}

/// A created public link, as far as the provider needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedShare {
    pub id: String,
    pub url: String,
}

fn request(method: &'static str, path: String) -> Request {
    Request::new(method, path)
        .header("ocs-apirequest", "true")
        .header("accept", "application/json")
}

fn shares_path(settings: &Settings) -> String {
    format!(
        "{}/ocs/v2.php/apps/files_sharing/api/v1/shares",
        settings.origin.base_path
    )
}

/// `POST …/shares`: a password-protected public link on `path`.
pub fn create_share(
    settings: &Settings,
    path: &str,
    permissions: u32,
    password: &str,
    expire_date: Option<&str>,
) -> Request {
    let permissions = permissions.to_string();
    let mut fields = vec![
        ("path", path),
        ("shareType", PUBLIC_LINK),
        ("permissions", permissions.as_str()),
        ("password", password),
    ];
    if let Some(date) = expire_date {
        fields.push(("expireDate", date));
    }
    request("POST", shares_path(settings)).form_body(&fields)
}

/// `DELETE …/shares/<id>`.
pub fn delete_share(settings: &Settings, id: &str) -> Request {
    let id = paths::encode_segment(id);
    request("DELETE", format!("{}/{id}", shares_path(settings)))
}

/// `GET …/password_policy/api/v1/generate`: a password the server's policy accepts.
pub fn generate_password(settings: &Settings) -> Request {
    request(
        "GET",
        format!(
            "{}/ocs/v2.php/apps/password_policy/api/v1/generate",
            settings.origin.base_path
        ),
    )
}

/// Reads an answer's `data`, or the error it reports.
pub fn data(response: &Response) -> Result<Value, Error> {
    let envelope: Option<Envelope> = serde_json::from_slice(&response.body).ok();
    let success = (200..300).contains(&response.status);
    match envelope {
        Some(Envelope { ocs }) if success && matches!(ocs.meta.statuscode, 100 | 200) => {
            Ok(ocs.data)
        }
        Some(Envelope { ocs }) => {
            // v2 reports the real code in both places; v1 (or a proxy) may answer 200 with an
            // error code inside. Prefer whichever says "error".
            let status = if success {
                ocs.meta.statuscode
            } else {
                response.status
            };
            Err(error(
                status,
                ocs.meta.statuscode,
                ocs.meta.message.as_deref(),
            ))
        }
        None if success => Err(Error::Protocol(format!(
            "HTTP {} without an OCS JSON envelope",
            response.status
        ))),
        // e.g. 429 from the rate limiter comes with an empty body (`14-rate-limit-create-share.txt`),
        // 412 without the OCS header (`05…` [15]).
        None => Err(error(response.status, response.status, None)),
    }
}

fn error(status: u16, statuscode: u16, message: Option<&str>) -> Error {
    let message = message.filter(|m| !m.trim().is_empty());
    match (status, statuscode) {
        // `997` is OCS' "not logged in / unauthorised" (`05…` [13], [14]).
        (401, _) | (_, 997) => Error::Unauthorized(errors::clip(
            message.unwrap_or("NextCloud refused the account's credentials"),
        )),
        (404, _) => Error::NotFound(errors::clip(message.unwrap_or("not found"))),
        (429, _) => errors::remote(
            429,
            message
                .unwrap_or("rate limited: NextCloud allows 20 new shares per user per 10 minutes"),
        ),
        (status, _) => errors::remote(status, message.unwrap_or("no message")),
    }
}

/// Whether NextCloud refused a share because of its password policy: 400 on NextCloud 32
/// (`05-ocs-share-create-errors.txt` [1], [2]), 403 on older versions.
pub fn is_password_rejection(error: &Error) -> bool {
    matches!(error, Error::Remote(errors::RemoteError { status: 400 | 403, message })
        if message.to_ascii_lowercase().contains("password"))
}

/// Reads a created share and checks it has the permissions that were asked for.
pub fn created_share(response: &Response, permissions: u32) -> Result<CreatedShare, Error> {
    let data = data(response)?;
    // `GET …/shares/<id>` answers with a list of one; `POST` with the object itself.
    let share = match &data {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    let id = match share.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) if id.is_u64() => id.as_u64().unwrap_or_default().to_string(),
        _ => return Err(Error::Protocol("share answer without an id".into())),
    };
    let url = share
        .get("url")
        .and_then(Value::as_str)
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
        .ok_or_else(|| Error::Protocol("share answer without a URL".into()))?
        .to_owned();
    let granted = share
        .get("permissions")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Protocol("share answer without permissions".into()))?;
    if granted as u32 & REQUESTED_BITS != permissions {
        return Err(errors::remote(
            response.status,
            &format!("share {id} was created with permissions {granted}, expected {permissions}"),
        ));
    }
    Ok(CreatedShare { id, url })
}

/// Reads the generator's password.
pub fn generated_password(response: &Response) -> Result<String, Error> {
    data(response)?
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::Protocol("password generator answered without a password".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    // Bodies below are from the recordings in ../shared/nextcloud/recordings.
    #[test]
    fn a_created_share_is_read() {
        let body = r#"{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"id":"12","share_type":3,"permissions":17,"token":"aBcDeFgHiJkLmNo","url":"http://localhost:8080/index.php/s/aBcDeFgHiJkLmNo"}}}"#;
        let share = created_share(&answer(200, body), READ).unwrap();
        assert_eq!(share.id, "12");
        assert_eq!(
            share.url,
            "http://localhost:8080/index.php/s/aBcDeFgHiJkLmNo"
        );
        assert!(matches!(
            created_share(&answer(200, body), READ_WRITE),
            Err(Error::Remote(_))
        ));
    }

    #[test]
    fn errors_are_typed() {
        let weak = r#"{"ocs":{"meta":{"status":"failure","statuscode":400,"message":"Password is among the 1,000,000 most common ones. Please make it unique."},"data":[]}}"#;
        let e = data(&answer(400, weak)).unwrap_err();
        assert!(is_password_rejection(&e), "{e:?}");

        let unauthorised = r#"{"ocs":{"meta":{"status":"failure","statuscode":997,"message":"Unauthorised","totalitems":"","itemsperpage":""},"data":[]}}"#;
        assert!(matches!(
            data(&answer(401, unauthorised)),
            Err(Error::Unauthorized(_))
        ));

        let missing = r#"{"ocs":{"meta":{"status":"failure","statuscode":404,"message":"Wrong path, file\/folder does not exist"},"data":[]}}"#;
        assert!(
            matches!(data(&answer(404, missing)), Err(Error::NotFound(m)) if m.contains("Wrong path"))
        );

        assert!(matches!(data(&answer(429, "")), Err(Error::Remote(r)) if r.status == 429));
        assert!(matches!(
            data(&answer(200, "<html>")),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn v1_errors_inside_http_200_are_errors() {
        let v1 = r#"{"ocs":{"meta":{"status":"failure","statuscode":404,"message":"Wrong share ID, share does not exist"},"data":[]}}"#;
        assert!(matches!(data(&answer(200, v1)), Err(Error::NotFound(_))));
    }
}
