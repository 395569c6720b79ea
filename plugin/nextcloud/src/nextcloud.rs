//! The provider's three procedures: create a room's shared folder, delete it, and purge it
//! (delete it knowing only the room id).
//!
//! Round trips per create: one MKCOL (plus one per missing ancestor the first time a
//! directory is used), then both shares in flight together — two, the least the protocol
//! allows, since a share needs its folder. Per delete: two — both share DELETEs together, then
//! the folder's DELETE alone, since NextCloud locks a folder while its shares are deleted and
//! answers a DELETE of it meanwhile with 423 (docs/nextcloud-behaviour.md, "Locking"); two more
//! (listing the trash bin, removing the folder's entries) when `delete_from_trash` is set. A
//! purge lists the folder's links, deletes each, then the folder as a delete does. Each
//! request is sent again after a transient failure when that is safe ([`crate::retry`]).

use crate::errors::{self, Error};
use crate::http::{self, Request, Response};
use crate::ocs::{self, CreatedShare};
use crate::paths::{FolderPath, NextcloudPath};
use crate::prelude::*;
use crate::settings::Settings;
use crate::webdav::{self, Made};
use crate::{password, retry, trash};
use provider_kit::expiry;

/// One public link as NextCloud knows it: the share's id (to delete it), URL and password.
pub type Link = provider_kit::created::Link<String>;

/// What [`create`] made: the folder and its two links.
pub struct Created {
    pub folder: FolderPath,
    pub read: Link,
    pub read_write: Link,
}

pub fn create(settings: &Settings, room: &str) -> Result<Created, Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let expire_date = expire_date(settings)?;

    if let Err(error) = make_folder(settings, &folder) {
        if error_may_have_created(&error) {
            // The MKCOL may have gone through before the answer was lost: take the folder
            // away again. A folder that existed before answers 405 and never reaches here.
            if let Err(cleanup) = undo(settings, &folder, &[]) {
                return Err(errors::cleanup_failed(error, cleanup));
            }
        }
        return Err(error);
    }

    match share_folder(settings, &folder, expire_date.as_deref()) {
        Ok(shared) => Ok(shared),
        Err((error, created)) => match undo(settings, &folder, &created) {
            Ok(()) => Err(error),
            Err(cleanup) => Err(errors::cleanup_failed(error, cleanup)),
        },
    }
}

/// Deletes `folder` and its two links, the shares `read_id` and `read_write_id`.
pub fn delete(
    settings: &Settings,
    folder: &FolderPath,
    read_id: &str,
    read_write_id: &str,
) -> Result<(), Error> {
    // The links first, together. A link left when its folder goes is not gone: NextCloud keeps
    // it, hidden, and a restore of the folder from the trash bin revives it with its password
    // (docs/nextcloud-behaviour.md, "Deleting: links first, then the folder";
    // recording 23 [5]). So the folder
    // is deleted only once both links are.
    let [read, read_write] = http::send_all(
        &settings.origin,
        [
            &ocs::delete_share(settings, read_id),
            &ocs::delete_share(settings, read_write_id),
        ],
    );
    read.and_then(|answer| ocs::share_removed(&answer))?;
    read_write.and_then(|answer| ocs::share_removed(&answer))?;
    // Then the folder, alone: not while its shares are being deleted.
    delete_folder(settings, folder)
}

/// Deletes the folder `create` makes for `room`, links and files with it. Its links are not
/// known by id here: they are looked up on the folder and deleted first, as in [`delete`]. A
/// folder that is not there (404) counts as deleted.
pub fn purge(settings: &Settings, room: &str) -> Result<(), Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let listing = send(settings, &ocs::list_shares(settings, &folder.share_path()))?;
    for id in ocs::share_ids(&listing)? {
        ocs::share_removed(&send(settings, &ocs::delete_share(settings, &id))?)?;
    }
    delete_folder(settings, &folder)
}

/// A room's folder [`list`] found, with its password-protected links.
pub struct Found {
    pub folder: FolderPath,
    pub links: Vec<ocs::ListedLink>,
}

/// The folders directly under `directory` and their links: a `Depth: 1` PROPFIND of the
/// directory and the shares inside it, together — two requests, however many rooms. A
/// directory that does not exist has no folders; a folder whose name cannot be a room id (see
/// `provider_kit::paths`) is not a room's and is left out.
pub fn list(settings: &Settings) -> Result<Vec<Found>, Error> {
    let directory = FolderPath::directory(&settings.directory);
    let [listing, shares] = http::send_all(
        &settings.origin,
        [
            &webdav::list(settings, &directory),
            &ocs::list_shares_inside(settings, &directory.share_path()),
        ],
    );
    let Some(folders) = webdav::folders(&directory, &listing?)? else {
        return Ok(Vec::new());
    };
    let links = ocs::protected_links(&shares?)?.unwrap_or_default();
    Ok(folders
        .into_iter()
        .filter_map(|found| FolderPath::for_room(&settings.directory, &found.name).ok())
        .map(|folder| {
            let path = folder.share_path();
            let links = links
                .iter()
                .filter(|link| link.path.trim_end_matches('/') == path)
                .cloned()
                .collect();
            Found { folder, links }
        })
        .collect())
}

/// Takes `room`'s folder over as it is: its links listed (404: there is no folder,
/// `not-found`), the oldest of each kind given a new password in place, a missing one made
/// (with the settings' expiry), and both returned as [`create`] returns them. Nothing is
/// deleted, so a recover that fails midway leaves what the next one takes over: a link made
/// before the failure is found then, and gets a new password like any other.
pub fn recover(settings: &Settings, room: &str) -> Result<Created, Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let path = folder.share_path();
    let listing = send(settings, &ocs::list_shares(settings, &path))?;
    let Some(links) = ocs::protected_links(&listing)? else {
        return Err(Error::NotFound(format!(
            "there is no folder {:?}",
            folder.display()
        )));
    };
    let expire_date = expire_date(settings)?;
    let request = ShareRequest {
        settings,
        path: &path,
        expire_date: expire_date.as_deref(),
    };
    let recovered = |permissions: u32| {
        let oldest = links
            .iter()
            .filter(|link| link.permissions == permissions)
            .reduce(|oldest, link| {
                if link.older_than(oldest) {
                    link
                } else {
                    oldest
                }
            });
        match oldest {
            Some(link) => new_password(settings, link),
            None => {
                let password = password::generate();
                let answer = send(settings, &request.request(permissions, &password));
                request.finish(permissions, password, answer)
            }
        }
    };
    let read = recovered(ocs::READ).map_err(found_before)?;
    let read_write = recovered(ocs::READ_WRITE).map_err(found_before)?;
    Ok(Created {
        folder,
        read,
        read_write,
    })
}

/// An error of a step after the folder was found: `not-found` from `recover` means one thing,
/// that there is no folder, so a 404 of a later step (a link deleted meanwhile) is the
/// storage's answer as it is.
fn found_before(error: Error) -> Error {
    match error {
        Error::NotFound(message) => errors::remote(404, &message),
        other => other,
    }
}

/// Gives `link` a new password, in place. If NextCloud's password policy refuses ours, asks
/// the server for one it accepts and tries once more, as a create does.
fn new_password(settings: &Settings, link: &ocs::ListedLink) -> Result<Link, Error> {
    let password = password::generate();
    let set = |password: &str| {
        send(settings, &ocs::set_password(settings, &link.id, password))
            .and_then(|answer| ocs::password_set(&answer))
    };
    let password = match set(&password) {
        Ok(()) => password,
        Err(error) if ocs::is_password_rejection(&error) => {
            let Ok(password) = server_password(settings) else {
                return Err(errors::redact(error, &password));
            };
            set(&password).map_err(|error| errors::redact(error, &password))?;
            password
        }
        Err(error) => return Err(errors::redact(error, &password)),
    };
    Ok(Link {
        id: link.id.clone(),
        url: link.url.clone(),
        password,
    })
}

/// MKCOL the folder; on 409, create the missing ancestors level by level and try again.
fn make_folder(settings: &Settings, folder: &FolderPath) -> Result<(), Error> {
    let exists = || Error::AlreadyExists(format!("folder {:?} exists already", folder.display()));
    match webdav::made(&send(settings, &webdav::mkcol(settings, folder))?)? {
        Made::Created => return Ok(()),
        Made::Exists => return Err(exists()),
        Made::ParentMissing => {}
    }
    for ancestor in folder.with_ancestors() {
        let mkcol = webdav::mkcol(settings, &ancestor);
        let made = match webdav::made(&send(settings, &mkcol)?) {
            // Another create is making the same parent right now: NextCloud may refuse one of
            // them with 403 "Could not create directory" (docs/nextcloud-behaviour.md,
            // "Concurrent creates"; recording 24 [2]), ownCloud with 423 "… is locked"
            // (docs/owncloud-behaviour.md, "Concurrency"); asked again, it says whether the
            // folder is there.
            Err(Error::Remote(refused))
                if matches!(refused.status, 403 | 423) && &ancestor != folder =>
            {
                retry::sleep(retry::backoff_ms(1));
                webdav::made(&send(settings, &mkcol)?)?
            }
            made => made?,
        };
        match (made, &ancestor == folder) {
            (Made::Created, _) | (Made::Exists, false) => {}
            (Made::Exists, true) => return Err(exists()),
            (Made::ParentMissing, _) => {
                return Err(errors::remote(
                    409,
                    &format!(
                        "cannot create {:?}: its parent is missing or is not a folder",
                        ancestor.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether a failed MKCOL may still have created the folder: the server did not say no.
fn error_may_have_created(error: &Error) -> bool {
    !matches!(
        error,
        Error::AlreadyExists(_) | Error::Unauthorized(_) | Error::InvalidRoom(_)
    )
}

/// Both public links, created concurrently. On failure, returns the error and the ids of the
/// shares that were created, so they can be removed.
fn share_folder(
    settings: &Settings,
    folder: &FolderPath,
    expire_date: Option<&str>,
) -> Result<Created, (Error, Vec<String>)> {
    let path = folder.share_path();
    let link = ShareRequest {
        settings,
        path: &path,
        expire_date,
    };
    let [read_password, read_write_password] = [password::generate(), password::generate()];
    let [read_answer, read_write_answer] = http::send_all(
        &settings.origin,
        [
            &link.request(ocs::READ, &read_password),
            &link.request(ocs::READ_WRITE, &read_write_password),
        ],
    );
    let read = link.finish(ocs::READ, read_password, read_answer);
    let read_write = link.finish(ocs::READ_WRITE, read_write_password, read_write_answer);
    match (read, read_write) {
        (Ok(read), Ok(read_write)) => Ok(Created {
            folder: folder.clone(),
            read,
            read_write,
        }),
        (Ok(read), Err(error)) => Err((error, vec![read.id])),
        (Err(error), Ok(read_write)) => Err((error, vec![read_write.id])),
        (Err(error), Err(_)) => Err((error, Vec::new())),
    }
}

/// What the creation of one link needs to read its answer, or to try again.
struct ShareRequest<'a> {
    settings: &'a Settings,
    path: &'a str,
    expire_date: Option<&'a str>,
}

impl ShareRequest<'_> {
    fn request(&self, permissions: u32, password: &str) -> Request {
        ocs::create_share(
            self.settings,
            self.path,
            permissions,
            password,
            self.expire_date,
        )
    }

    /// The share from its creation's answer. If NextCloud's password policy refused our
    /// password, asks the server for one it accepts and tries once more; if the server failed
    /// or the answer was lost, finds out whether the share was made ([`ShareRequest::recover`]).
    fn finish(
        &self,
        permissions: u32,
        password: String,
        answer: Result<Response, Error>,
    ) -> Result<Link, Error> {
        let (created, password) = match answer.and_then(|a| ocs::created_share(&a, permissions)) {
            Err(error) if ocs::is_password_rejection(&error) => {
                // ownCloud has no generator (500, or OCS 999 on v1): its policy's refusal is
                // what the caller hears (docs/owncloud-behaviour.md, "Password policy").
                let Ok(password) = server_password(self.settings) else {
                    return Err(error);
                };
                let created = send(self.settings, &self.request(permissions, &password))
                    .and_then(|a| ocs::created_share(&a, permissions));
                (created, password)
            }
            Err(error) if retry::maybe_done(&error) => {
                let created = self.recover(permissions, &password, error);
                (created, password)
            }
            created => (created, password),
        };
        match created {
            Ok(CreatedShare { id, url }) => Ok(Link { id, url, password }),
            Err(error) => Err(errors::redact(error, &password)),
        }
    }
}

impl ShareRequest<'_> {
    /// After a share creation that failed on the server's side or lost its answer, NextCloud
    /// may or may not have made the share (a busy database answers 500 having made nothing —
    /// docs/nextcloud-behaviour.md, "Concurrent creates"; recording 24 [3] — while a connection
    /// broken after the work has made it).
    /// Sending the creation again blindly could make a second link, which would outlive the
    /// folder's delete. So the folder's links are looked up first: one with these permissions
    /// is the one that was made (its password is ours), adopted; otherwise the creation is sent
    /// again — as often, and after the same waits, as [`retry`] allows an idempotent request
    /// ([`retry::recover`]).
    fn recover(
        &self,
        permissions: u32,
        password: &str,
        error: Error,
    ) -> Result<CreatedShare, Error> {
        retry::recover(
            error,
            || {
                let listing = send(self.settings, &ocs::list_shares(self.settings, self.path))?;
                ocs::share_with(&listing, permissions)
            },
            || {
                send(self.settings, &self.request(permissions, password))
                    .and_then(|a| ocs::created_share(&a, permissions))
            },
        )
    }
}

/// The links' `expireDate`, the settings' days from today as NextCloud takes it: `YYYY-MM-DD`.
fn expire_date(settings: &Settings) -> Result<Option<String>, Error> {
    settings
        .expiry_days
        .map(|days| expiry::days_from_today(days).map(expiry::iso_date))
        .transpose()
}

fn server_password(settings: &Settings) -> Result<String, Error> {
    ocs::generated_password(&send(settings, &ocs::generate_password(settings))?)
}

/// Removes what a failed create made: its shares, then the folder. Every step is tried; the
/// first failure is returned, for [`errors::cleanup_failed`].
fn undo(settings: &Settings, folder: &FolderPath, share_ids: &[String]) -> Result<(), Error> {
    let mut outcome = Ok(());
    for id in share_ids {
        let removed =
            send(settings, &ocs::delete_share(settings, id)).and_then(|a| ocs::share_removed(&a));
        outcome = outcome.and(removed);
    }
    outcome.and(delete_folder(settings, folder))
}

/// DELETE the folder (recursively); a missing folder counts as deleted. With
/// `delete_from_trash`, its entries in the trash bin go too — also when the folder was missing
/// (a delete that stopped between the two steps is finished so).
fn delete_folder(settings: &Settings, folder: &FolderPath) -> Result<(), Error> {
    let delete = webdav::delete(settings, folder);
    match webdav::removed(&send(settings, &delete)?) {
        // ownCloud on a busy database answers a folder's DELETE with 403 and an empty
        // message when it could not release the folder's lock ("database is locked"), whether
        // or not the folder went (docs/owncloud-behaviour.md, "Concurrency"). A DELETE asked
        // again says which: 204 now, or 404 for one that went.
        Err(Error::Remote(refused)) if refused.status == 403 => {
            retry::sleep(retry::backoff_ms(1));
            webdav::removed(&send(settings, &delete)?)?;
        }
        removed => {
            removed?;
        }
    }
    if settings.delete_from_trash {
        empty_trash_of(settings, folder)?;
    }
    Ok(())
}

/// Removes from the trash bin what came from `folder`: the folder itself, and files deleted
/// from inside it earlier (through the read-write link, say).
///
/// NextCloud's bin is asked first; where it is not there, ownCloud's (`trash::Bin`). Neither
/// there: no trash bin on this server, and the folder's DELETE was final.
fn empty_trash_of(settings: &Settings, folder: &FolderPath) -> Result<(), Error> {
    for bin in trash::Bin::ALL {
        let listing = send(settings, &trash::list(settings, bin))?;
        let Some(entries) = trash::entries_of(settings, bin, &listing, folder)? else {
            continue;
        };
        for href in entries {
            webdav::removed(&send(settings, &trash::remove(&href))?)?;
        }
        return Ok(());
    }
    Ok(())
}

fn send(settings: &Settings, request: &Request) -> Result<Response, Error> {
    http::send(&settings.origin, request)
}
