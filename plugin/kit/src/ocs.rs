//! The OCS envelope that NextCloud's API and OpenCloud's compatibility endpoints answer in:
//! `{"ocs":{"meta":{"status","statuscode","message"},"data":…}}` (docs/nextcloud-behaviour.md,
//! "Requests and authentication"; OpenCloud: API-NOTES §3.4).
//!
//! Success needs both a 2xx HTTP status and `meta.statuscode` 200 (v2) or 100 (v1): the HTTP
//! status alone is not trusted, since v1 (or a proxy) may answer 200 with an error code inside
//! (docs/nextcloud-behaviour.md, same section; recording 06). What an error means is the
//! provider's to say: [`data`] hands it the statuses and message.

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::errors::Error;
use crate::http::Response;
use crate::json;
use crate::prelude::*;

/// `{"ocs": {"meta": …, "data": …}}`; `data` is read only once `meta` says success.
#[derive(Deserialize)]
struct Envelope<D> {
    ocs: Ocs<D>,
}

#[derive(Deserialize)]
struct Ocs<D> {
    meta: Meta,
    data: D,
}

#[derive(Deserialize)]
struct Meta {
    statuscode: u16,
    #[serde(default)]
    message: Option<String>,
}

/// Reads an answer's `data` as a `D`, or the error the answer reports:
/// `error(status, statuscode, message)`, where `status` is whichever of the HTTP status and
/// `meta.statuscode` says "error" (the HTTP status when there is no envelope).
pub fn data<D: DeserializeOwned>(
    response: &Response,
    error: impl FnOnce(u16, u16, Option<&str>) -> Error,
) -> Result<D, Error> {
    let envelope: Option<Envelope<IgnoredAny>> = json::parse(&response.body);
    let success = (200..300).contains(&response.status);
    match envelope {
        Some(Envelope { ocs }) if success && matches!(ocs.meta.statuscode, 100 | 200) => {
            json::parse::<Envelope<D>>(&response.body)
                .map(|envelope| envelope.ocs.data)
                .ok_or_else(|| Error::Protocol("OCS answer with unexpected data".into()))
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
        None => Err(error(response.status, response.status, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: u16, statuscode: u16, message: Option<&str>) -> Error {
        crate::errors::remote(status, &format!("{statuscode} {}", message.unwrap_or("-")))
    }

    #[test]
    fn data_is_read_only_on_success_in_both_places() {
        let v1 =
            br#"{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK"},"data":{"x":1}}}"#;
        #[derive(Deserialize)]
        struct X {
            x: u8,
        }
        let read: X = data(&Response::new(200, &v1[..]), report).unwrap();
        assert_eq!(read.x, 1);
        let failed = br#"{"ocs":{"meta":{"statuscode":404,"message":"gone"},"data":[]}}"#;
        assert!(matches!(
            data::<IgnoredAny>(&Response::new(200, &failed[..]), report),
            Err(Error::Remote(r)) if r.status == 404 && r.message == "404 gone"
        ));
        assert!(matches!(
            data::<IgnoredAny>(&Response::new(401, &failed[..]), report),
            Err(Error::Remote(r)) if r.status == 401
        ));
        assert!(matches!(
            data::<IgnoredAny>(&Response::new(503, ""), report),
            Err(Error::Remote(r)) if r.status == 503 && r.message == "503 -"
        ));
        let other_data = String::from_utf8_lossy(v1).replace("\"x\":1", "\"y\":1");
        assert!(matches!(
            data::<IgnoredAny>(&Response::new(200, "<html>"), report),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(
            data::<X>(&Response::new(200, other_data.as_bytes()), report),
            Err(Error::Protocol(_))
        ));
    }
}
