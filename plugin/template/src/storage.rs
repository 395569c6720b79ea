//! **The storage system's own calls go here.** This is the part of the template to write.
//!
//! Each function below is one step [`crate::procedures`] needs, with what it must do in its
//! doc comment; each body is marked `STORAGE CALL` (or, for [`link_id`], which sends no
//! request, `STORAGE CHOICE`). In the template each `STORAGE CALL` returns the contract's
//! `remote` error with status 501 and the message "the template provider has no storage calls
//! yet: … is not implemented" ([`errors::not_yet`]): it sends nothing, makes nothing and
//! deletes nothing.
//!
//! Which procedure needs which:
//! - `create`: [`make_folder`], [`link_id`], [`create_link`] (and, to clean up after a failed
//!   step, [`find_links`], [`delete_link`], [`delete_folder`]);
//! - `delete`: [`delete_link`], [`delete_folder`];
//! - `purge`: [`find_links`], [`delete_link`], [`delete_folder`];
//! - `list-folders`: [`directory_folders`], [`folder_links`];
//! - `recover`: [`folder_links`], [`set_password`], and [`link_id`] and [`create_link`] for a
//!   link that is missing.
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

/// A password-protected public link found on a folder by [`folder_links`]. It carries no
/// password: a storage does not give a link's password back, and none is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderLink {
    /// The storage's id of the link, as [`MadeLink::id`]: what [`set_password`] and
    /// [`delete_link`] take. Goes into the handle when `recover` takes the link over.
    pub id: String,
    /// The public URL, exactly as [`create_link`] returns it for a link it makes: a host
    /// compares it with the URL it recorded when the room was created.
    pub url: String,
    /// What the link grants: exactly [`Access::Read`] or exactly [`Access::ReadWrite`].
    pub access: Access,
    /// When the link was made, as a number that only grows: its creation time (seconds since
    /// 1970, say), or an id the storage counts up. `recover` takes the link with the smallest
    /// value of each kind (the oldest); between equal values the one listed first. `0` for
    /// every link when the storage tells neither: then list the links oldest first.
    pub made: u64,
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
/// instead, return that one, and make sure the two links never share one. A link must never
/// exist without its password: if the storage makes the link and sets its password in two
/// requests, delete the link again when the second fails.
///
/// `create` calls it for both links of a new folder; `recover` for a link its folder lacks.
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

/// The names of the folders directly under the configured directory (`settings.directory`,
/// folder names outermost first; empty: the account's root), for `list-folders`: every
/// folder there, a room's or not — but not files, not anything deeper, and not the directory
/// itself (which a WebDAV `PROPFIND` with `Depth: 1` lists first). Each name as the storage
/// has it, decoded (no percent-encoding): one folder name, never empty, `.`, `..` or with a
/// `/` — `list-folders` refuses such a name as a `protocol` error, since the answer was not
/// read right.
///
/// A directory that does not exist yet (no room was made) has no folders: return an empty
/// list, or `not-found`, which the caller takes as the same. A directory that is a file is
/// not one to list: return `not-found` too. But only then: a 404 for another reason (a wrong
/// endpoint, an API the server lacks) is `remote` 404 — an empty listing tells the host that
/// every recorded room's folder is gone. Read every page of a paged answer.
pub fn directory_folders(_settings: &Settings) -> Result<Vec<String>, Error> {
    // STORAGE CALL: list the folders directly under the directory (names only).
    Err(errors::not_yet("listing the folders under the directory"))
}

/// The password-protected public links to `folder` that grant exactly read or exactly
/// read-write ([`FolderLink`]: id, URL, access, age), for `list-folders` and `recover`. Leave
/// out every other link or share: one without a password, one that grants something else
/// (upload only, say), a share with a user or group — `recover` must never hand out a link
/// that is not what the contract's link is. Links to files inside the folder, or to other
/// folders, are not the folder's.
///
/// A folder that does not exist — nothing at that path, or a file there — is `not-found`,
/// never an empty list: `recover` answers `not-found` for it, while a folder that exists
/// without links gets its links made. If the storage's link listing cannot tell a missing
/// folder from one without links, ask for the folder first (a `HEAD` or `PROPFIND`).
///
/// `not-found` means that and nothing else: a host told by `recover` that a recorded room has
/// no folder finishes the room's delete (the reference host's `repair` does). A 404 for
/// another reason (a wrong endpoint, an API the server lacks) is `remote` 404, not
/// [`errors::from_status`]'s `not-found`.
pub fn folder_links(_settings: &Settings, _folder: &FolderPath) -> Result<Vec<FolderLink>, Error> {
    // STORAGE CALL: list the folder's protected links with their access and age; no folder:
    // `not-found`.
    Err(errors::not_yet(
        "listing the folder's links with their access",
    ))
}

/// Gives the link `id` of `folder` the password `password`, in place, for `recover`: the same
/// link afterwards — its id, URL, access and expiry unchanged, the folder's files untouched —
/// and the password it had before no longer opens it. Never delete the link and make another
/// in its place: its URL is what `recover` keeps.
///
/// A link that is gone is `not-found` (`recover` then fails, passing it on as `remote` 404
/// since the folder is there; the next one looks again). The password is a secret: never put
/// it in an error message (`recover` redacts it from the storage's answer as well). If the
/// storage refuses it (a password policy), say why with `remote` and the storage's status,
/// and adjust [`crate::password`] to the policy.
pub fn set_password(
    _settings: &Settings,
    _folder: &FolderPath,
    _id: &str,
    _password: &str,
) -> Result<(), Error> {
    // STORAGE CALL: change the link's password; nothing else about the link.
    Err(errors::not_yet("changing a link's password"))
}
