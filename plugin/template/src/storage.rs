//! **The storage system's own calls go here.** This is the part of the template to write.
//!
//! Each function below is one step [`crate::procedures`] needs, with what it must do in its
//! doc comment. In the template each returns the contract's `remote` error with status 501
//! and the message "the template provider has no storage calls yet: … is not implemented"
//! ([`errors::not_yet`]): it sends nothing, makes nothing and deletes nothing.
//!
//! Write each with [`crate::http::send`] against the storage's API, turning answers into the
//! contract's errors with [`errors::from_status`] (or something finer). For an imaginary REST
//! API, deleting a link could read:
//!
//! ```ignore
//! pub fn delete_link(settings: &Settings, id: &str) -> Result<(), Error> {
//!     let path = format!(
//!         "{}/api/v1/links/{}",
//!         settings.origin.base_path,
//!         paths::encode_segment(id)
//!     );
//!     let answer = http::send(&settings.origin, "DELETE", &path, &[], None)?;
//!     match answer.status {
//!         200..=299 | 404 => Ok(()), // deleted now, or gone already
//!         status => Err(errors::from_status(status, &answer.body)),
//!     }
//! }
//! ```
//!
//! `plugin/nextcloud/src/webdav.rs` and `ocs.rs` are the real thing for NextCloud.
//!
//! Rules that hold for every function here:
//! - no request before the settings are read, and none at all during `validate`;
//! - only the configured origin (`settings.origin`); the host refuses any other;
//! - no credentials: the host adds them; do not put the account's name in a message unless it
//!   helps the operator;
//! - no password in an error message: [`crate::procedures`] redacts the one it sent, but a
//!   message built here must not quote one either.

use crate::errors::{self, Error};
use crate::expiry::Expiry;
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;

/// Which of the two links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read-only: every participant sees it.
    Read,
    /// Read, upload, replace, delete: moderators only. A storage that cannot grant one of
    /// these must refuse at `validate` (see `docs/writing-a-provider.md`, "When the storage
    /// cannot grant a right"), not make a link that does less.
    ReadWrite,
}

/// Whether [`make_folder`] made the room's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// The folder is new: this call made it.
    Created,
    /// The folder was there before: it is not this provider's to share, or to delete.
    Existed,
}

/// A link the storage made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeLink {
    /// The storage's id of the link: what deleting it takes. Goes into the handle.
    pub id: String,
    /// The public URL a participant opens.
    pub url: String,
}

/// Makes `folder`, and any of its parents that are missing (`folder.with_ancestors()`
/// lists them in order, for a storage that does not make parents itself).
///
/// Returns [`Made::Existed`] when the folder itself was there already — the provider must
/// not adopt a folder it did not make, since it would later delete it. A parent that exists
/// is fine (the directory is shared by every room).
pub fn make_folder(_settings: &Settings, _folder: &FolderPath) -> Result<Made, Error> {
    // STORAGE CALL: create the folder (and missing parents); tell "made" from "was there".
    Err(errors::not_yet("making the room's folder"))
}

/// The id of the link [`create_link`] is about to make for `access`, when the client chooses
/// it — copyparty, for one, names a share by what the client sends — or `None` when the
/// storage assigns the id itself (NextCloud's and OpenCloud's shares, most REST APIs).
///
/// A chosen id is recorded before the request is sent, so that the clean-up of a failed create
/// deletes the link even when the answer to its creation was lost. Make it unique, and
/// unguessable if the storage shows it in the link's URL (draw it from [`crate::password`]'s
/// CSPRNG, say); it is passed to [`create_link`] as `id`. No request here.
pub fn link_id(_settings: &Settings, _folder: &FolderPath, _access: Access) -> Option<String> {
    // STORAGE CHOICE: `Some(id)` if the client names the link, `None` if the storage does.
    None
}

/// Makes a public link to `folder` with `access`, protected by `password`, expiring at
/// `expiry` when given, and returns its id and URL. `id` is what [`link_id`] chose, if it chose
/// one: make the link under that id (and return it); otherwise the storage assigns the id.
///
/// `expiry` has the same moment as an absolute time (`expiry.at`, `.date()`, `.rfc3339()`) and
/// as a duration from now (`expiry.days`, `.minutes()`, `.seconds()`): send whichever the
/// storage takes.
///
/// The password is the provider's (from [`crate::password`]); if the storage generates its own
/// instead, return that one, and make sure the two links never share one.
pub fn create_link(
    _settings: &Settings,
    _folder: &FolderPath,
    _access: Access,
    _id: Option<&str>,
    _password: &str,
    _expiry: Option<Expiry>,
) -> Result<MadeLink, Error> {
    // STORAGE CALL: create the link with its permissions, password and expiry.
    Err(errors::not_yet("making a public link"))
}

/// The ids of the public links to `folder` (for `purge`, which has no handle, and for the
/// clean-up of a create whose link creation got no answer). A folder that does not exist has
/// none: return an empty list, or `not-found`, which the caller takes as the same.
pub fn find_links(_settings: &Settings, _folder: &FolderPath) -> Result<Vec<String>, Error> {
    // STORAGE CALL: list the folder's public links.
    Err(errors::not_yet("listing the folder's links"))
}

/// Deletes the link `id`. A link that is gone already counts as deleted: return `Ok`, or
/// `not-found`, which the caller takes as the same.
pub fn delete_link(_settings: &Settings, _id: &str) -> Result<(), Error> {
    // STORAGE CALL: delete the link.
    Err(errors::not_yet("deleting a public link"))
}

/// Deletes `folder` with everything in it. Called only once its links are gone. A folder that
/// is gone already counts as deleted: return `Ok`, or `not-found`, which the caller takes as
/// the same. If the storage keeps deleted folders in a trash bin (and a restore from there
/// would bring links back), say so in the provider's docs or remove it from there too.
pub fn delete_folder(_settings: &Settings, _folder: &FolderPath) -> Result<(), Error> {
    // STORAGE CALL: delete the folder, recursively.
    Err(errors::not_yet("deleting the room's folder"))
}
