//! NextCloud's WebDAV endpoint (`/remote.php/dav/files/<user>/…`): folders.
//!
//! Answers as in docs/nextcloud-behaviour.md, "Folders and files over WebDAV" (recordings 01, 03): MKCOL
//! 201 new, 405 exists, 409 parent missing; DELETE 204 (recursive), 404 missing; 401 for refused
//! credentials ("Requests and authentication"). Error bodies are Sabre XML with the reason in
//! `<s:message>`.

use crate::errors::{self, Error};
use crate::http::{Request, Response};
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;

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

pub fn mkcol(settings: &Settings, folder: &FolderPath) -> Request {
    Request::new("MKCOL", dav_path(settings, folder))
}

pub fn delete(settings: &Settings, folder: &FolderPath) -> Request {
    Request::new("DELETE", dav_path(settings, folder))
}

/// The folder's WebDAV URL path (see [`FolderPath::dav_path`]).
fn dav_path(settings: &Settings, folder: &FolderPath) -> String {
    folder.dav_path(&settings.origin.base_path, &settings.username)
}

pub fn made(response: &Response) -> Result<Made, Error> {
    match response.status {
        201 => Ok(Made::Created),
        405 => Ok(Made::Exists),
        409 => Ok(Made::ParentMissing),
        _ => Err(error(response)),
    }
}

pub fn removed(response: &Response) -> Result<Removed, Error> {
    match response.status {
        200 | 204 => Ok(Removed::Deleted),
        404 => Ok(Removed::WasMissing),
        _ => Err(error(response)),
    }
}

/// The error a refused WebDAV request reports: 401 as refused credentials, 404 as not found,
/// anything else as the storage's answer, with Sabre's message.
pub fn error(response: &Response) -> Error {
    let message = sabre_message(&response.body);
    match response.status {
        401 => Error::Unauthorized(errors::clip(
            message.unwrap_or("NextCloud refused the account's credentials"),
        )),
        404 => Error::NotFound(errors::clip(message.unwrap_or("not found"))),
        status => errors::remote(status, message.unwrap_or("no message")),
    }
}

/// The text of `<s:message>` in a Sabre error body, if there is one.
fn sabre_message(body: &[u8]) -> Option<&str> {
    let body = core::str::from_utf8(body).ok()?;
    let start = body.find("<s:message>")? + "<s:message>".len();
    let end = body[start..].find("</s:message>")? + start;
    Some(body[start..end].trim()).filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sabre_errors_keep_their_message() {
        // "Folders and files over WebDAV", recording 01 [4]
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:exception>Sabre\DAV\Exception\Conflict</s:exception>
  <s:message>Parent node does not exist</s:message>
</d:error>"#;
        let response = Response {
            status: 409,
            retry_after: None,
            body: body.to_vec(),
        };
        assert_eq!(made(&response).unwrap(), Made::ParentMissing);
        let response = Response {
            status: 500,
            retry_after: None,
            body: body.to_vec(),
        };
        assert!(
            matches!(made(&response), Err(Error::Remote(r)) if r.message == "Parent node does not exist")
        );
        let response = Response {
            status: 401,
            retry_after: None,
            body: Vec::new(),
        };
        assert!(matches!(removed(&response), Err(Error::Unauthorized(_))));
        let response = Response {
            status: 404,
            retry_after: None,
            body: Vec::new(),
        };
        assert_eq!(removed(&response).unwrap(), Removed::WasMissing);
    }
}
