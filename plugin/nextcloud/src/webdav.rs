//! NextCloud's WebDAV endpoint (`/remote.php/dav/files/<user>/…`): folders.
//!
//! Answers as in docs/nextcloud-behaviour.md, "Folders and files over WebDAV" (recordings 01, 03): MKCOL
//! 201 new, 405 exists, 409 parent missing; DELETE 204 (recursive), 404 missing; 401 for refused
//! credentials ("Requests and authentication"). Error bodies are Sabre XML with the reason in
//! `<s:message>`.

use crate::errors::Error;
use crate::http::{Request, Response};
use crate::paths::{FolderPath, NextcloudPath};
use crate::prelude::*;
use crate::settings::Settings;
pub use provider_kit::dav::{Made, Removed};
use provider_kit::{dav, multistatus};

/// How errors name the storage.
const STORAGE: &str = "NextCloud";

pub fn mkcol(settings: &Settings, folder: &FolderPath) -> Request {
    Request::new("MKCOL", dav_path(settings, folder))
}

/// `PROPFIND` (`Depth: 1`) of `folder` ([`dav::list_folders`]; docs/nextcloud-behaviour.md,
/// "Listing the rooms' folders and their links").
pub fn list(settings: &Settings, folder: &FolderPath) -> Request {
    dav::list_folders(&dav_path(settings, folder))
}

/// The folders a [`list`] answer names inside `folder`; `None` when `folder` does not exist
/// (404).
pub fn folders(
    folder: &FolderPath,
    response: &Response,
) -> Result<Option<Vec<multistatus::Folder>>, Error> {
    Ok(dav::listing(response, folder, STORAGE)?.map(|listing| listing.folders))
}

pub fn delete(settings: &Settings, folder: &FolderPath) -> Request {
    Request::new("DELETE", dav_path(settings, folder))
}

/// The folder's WebDAV URL path (see [`NextcloudPath::dav_path`]).
fn dav_path(settings: &Settings, folder: &FolderPath) -> String {
    folder.dav_path(&settings.origin.base_path, &settings.username)
}

/// What a MKCOL's answer says (`provider_kit::dav`).
pub fn made(response: &Response) -> Result<Made, Error> {
    dav::made(response, STORAGE)
}

/// What a DELETE's answer says (`provider_kit::dav`).
pub fn removed(response: &Response) -> Result<Removed, Error> {
    dav::removed(response, STORAGE)
}

/// The error a refused WebDAV request reports: 401 as refused credentials, 404 as not found,
/// anything else as the storage's answer, with Sabre's message.
pub fn error(response: &Response) -> Error {
    dav::error(response, STORAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The answers' reading, Sabre's messages included, is tested in `provider_kit::dav`
    // (recording 01 [4] there).
    #[test]
    fn answers_are_read_as_webdav_says_and_name_nextcloud() {
        assert_eq!(
            made(&Response::new(409, Vec::new())).unwrap(),
            Made::ParentMissing
        );
        assert!(matches!(
            removed(&Response::new(401, Vec::new())),
            Err(Error::Unauthorized(m)) if m == "NextCloud refused the account's credentials"
        ));
        assert_eq!(
            removed(&Response::new(404, Vec::new())).unwrap(),
            Removed::WasMissing
        );
    }
}
