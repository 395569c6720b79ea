//! WebDAV's answers to MKCOL and DELETE (RFC 4918), and the Sabre-style XML error bodies that
//! NextCloud (SabreDAV) and OpenCloud (reva's ocdav, API-NOTES §1) both send:
//! `<d:error …><s:exception>…</s:exception><s:message>why</s:message></d:error>`.
//!
//! MKCOL: 201 new, 405 exists, 409 parent missing; DELETE (recursive): 204, 404 missing; 401
//! for refused credentials (NextCloud: docs/nextcloud-behaviour.md, "Folders and files over
//! WebDAV", recordings 01, 03; OpenCloud: API-NOTES §3.2, §3.8).

use crate::errors::{self, Error};
use crate::http::{MAX_LISTING, Request, Response};
use crate::multistatus::{self, Listing};
use crate::paths::FolderPath;
use crate::prelude::*;

/// What a MKCOL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Created,
    /// Something of that name exists already (folder or file).
    Exists,
    /// A parent folder is missing.
    ParentMissing,
}

/// What a DELETE did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    Deleted,
    WasMissing,
}

/// What a MKCOL's answer says; `storage` names the storage in errors (`NextCloud`).
pub fn made(response: &Response, storage: &str) -> Result<Made, Error> {
    match response.status {
        201 => Ok(Made::Created),
        405 => Ok(Made::Exists),
        409 => Ok(Made::ParentMissing),
        _ => Err(error(response, storage)),
    }
}

/// What a DELETE's answer says; `storage` names the storage in errors.
pub fn removed(response: &Response, storage: &str) -> Result<Removed, Error> {
    match response.status {
        200 | 204 => Ok(Removed::Deleted),
        404 => Ok(Removed::WasMissing),
        _ => Err(error(response, storage)),
    }
}

/// The error a refused WebDAV request reports: 401 as refused credentials, 404 as not found,
/// anything else as the storage's answer, with Sabre's message.
pub fn error(response: &Response, storage: &str) -> Error {
    errors::refusal(response.status, sabre_message(&response.body), storage)
}

/// `PROPFIND` (`Depth: 1`) of the folder whose WebDAV URL path is `path`: what lies directly
/// inside, with each entry's type and file id, as [`listing`] reads it (NextCloud, ownCloud and
/// OpenCloud alike: docs/nextcloud-behaviour.md and docs/opencloud-behaviour.md, "Listing the
/// rooms' folders and their links").
pub fn list_folders(path: &str) -> Request {
    Request::new("PROPFIND", format!("{path}/"))
        .header("depth", "1")
        .header("content-type", "application/xml; charset=utf-8")
        .body(multistatus::PROPFIND_FOLDERS.as_bytes().to_vec())
        .limit(MAX_LISTING)
}

/// What a [`list_folders`] answer lists of `folder`; `None` when `folder` does not exist (404).
/// `storage` names the storage in errors (`NextCloud`).
pub fn listing(
    response: &Response,
    folder: &FolderPath,
    storage: &str,
) -> Result<Option<Listing>, Error> {
    match response.status {
        207 => {
            let unreadable =
                || Error::Protocol(format!("a WebDAV listing {storage} did not write"));
            let text = core::str::from_utf8(&response.body).map_err(|_| unreadable())?;
            multistatus::listing(text, &folder.display())
                .map(Some)
                .ok_or_else(unreadable)
        }
        404 => Ok(None),
        _ => Err(error(response, storage)),
    }
}

/// The text of `<s:message>` in a Sabre error body, if there is one.
///
/// Sabre and reva write `<s:message>`; OpenCloud's proxy writes `<s:Message>` in its 401s
/// (docs/opencloud-behaviour.md, "Authentication"): either is read.
pub fn sabre_message(body: &[u8]) -> Option<&str> {
    let body = core::str::from_utf8(body).ok()?;
    let (open, close) = [
        ("<s:message>", "</s:message>"),
        ("<s:Message>", "</s:Message>"),
    ]
    .into_iter()
    .find(|(open, _)| body.contains(open))?;
    let start = body.find(open)? + open.len();
    let end = body[start..].find(close)? + start;
    Some(body[start..end].trim()).filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opencloud_proxys_capitalised_message_is_read() {
        // docs/opencloud-behaviour.md, "Authentication": the proxy's 401 to a WebDAV method.
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<d:error xmlns:d="DAV" xmlns:s="http://sabredav.org/ns"><s:Exception>Sabre\DAV\Exception\PermissionDenied</s:Exception><s:Message>Authentication error</s:Message></d:error>"#;
        assert_eq!(sabre_message(body), Some("Authentication error"));
    }

    #[test]
    fn sabre_errors_keep_their_message() {
        // NextCloud: docs/nextcloud-behaviour.md, "Folders and files over WebDAV", recording
        // 01 [4]
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:exception>Sabre\DAV\Exception\Conflict</s:exception>
  <s:message>Parent node does not exist</s:message>
</d:error>"#;
        assert_eq!(
            made(&Response::new(409, &body[..]), "S").unwrap(),
            Made::ParentMissing
        );
        assert!(
            matches!(made(&Response::new(500, &body[..]), "S"), Err(Error::Remote(r)) if r.message == "Parent node does not exist")
        );
        assert!(
            matches!(removed(&Response::new(401, ""), "Storage"), Err(Error::Unauthorized(m)) if m == "Storage refused the account's credentials")
        );
        assert_eq!(
            removed(&Response::new(404, ""), "S").unwrap(),
            Removed::WasMissing
        );
        assert_eq!(
            removed(&Response::new(204, ""), "S").unwrap(),
            Removed::Deleted
        );
        assert_eq!(made(&Response::new(405, ""), "S").unwrap(), Made::Exists);
        assert!(matches!(
            made(&Response::new(403, "<s:message></s:message>"), "S"),
            Err(Error::Remote(r)) if r.status == 403 && r.message == "no message"
        ));
    }
}
