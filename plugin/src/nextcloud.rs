//! The two procedures of the provider: create a room's shared folder, and delete it.
//!
//! Round trips per create: one MKCOL (plus one per missing ancestor the first time a
//! directory is used), then both shares in flight together — two, the least the protocol
//! allows, since a share needs its folder. Per delete: one, both share DELETEs and the
//! folder's DELETE in flight together. Each request is sent again after a transient failure
//! when that is safe ([`crate::retry`]).

use crate::bindings::shared_folder::provider::types::{Share, SharedFolder};
use crate::errors::{self, Error};
use crate::http::{self, Request, Response};
use crate::ocs::{self, CreatedShare};
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;
use crate::webdav::{self, Made};
use crate::{expiry, password};

pub fn create(settings: &Settings, room: &str) -> Result<SharedFolder, Error> {
    let folder = FolderPath::for_room(settings, room)?;
    let expire_date = settings.expiry_days.map(expiry::expire_date).transpose()?;

    if let Err(error) = make_folder(settings, &folder) {
        if error_may_have_created(&error) {
            // The MKCOL may have gone through before the answer was lost: take the folder
            // away again. A folder that existed before answers 405 and never reaches here.
            undo(settings, &folder, &[]);
        }
        return Err(error);
    }

    match share_folder(settings, &folder, expire_date.as_deref()) {
        Ok(shared) => Ok(shared),
        Err((error, created)) => {
            undo(settings, &folder, &created);
            Err(error)
        }
    }
}

pub fn delete(settings: &Settings, shared: &SharedFolder) -> Result<(), Error> {
    let folder = FolderPath::of_created(settings, &shared.path)?;
    // All three in flight together: one round trip. The links' own outcome does not decide:
    // they are deleted whatever happens to the folder, a link whose deletion failed goes with
    // its folder (`12-ocs-share-delete.txt` [9]), and one already gone (404) — also because
    // the folder went first — counts as deleted.
    let [_, _, folder_deleted] = http::send_all(
        &settings.origin,
        [
            &ocs::delete_share(settings, &shared.read.id),
            &ocs::delete_share(settings, &shared.read_write.id),
            &webdav::delete(settings, &folder),
        ],
    );
    folder_deleted
        .and_then(|answer| webdav::removed(&answer))
        .map(|_| ())
}

/// Deletes the folder `create` makes for `room`, links and files with it: NextCloud removes
/// a folder's shares when the folder goes (`12-ocs-share-delete.txt` [9]). A folder that is
/// not there (404) counts as deleted.
pub fn purge(settings: &Settings, room: &str) -> Result<(), Error> {
    delete_folder(settings, &FolderPath::for_room(settings, room)?)
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
        let made = webdav::made(&send(settings, &webdav::mkcol(settings, &ancestor))?)?;
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
) -> Result<SharedFolder, (Error, Vec<String>)> {
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
        (Ok(read), Ok(read_write)) => Ok(SharedFolder {
            path: folder.display(),
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
    /// password, asks the server for one it accepts and tries once more.
    fn finish(
        &self,
        permissions: u32,
        password: String,
        answer: Result<Response, Error>,
    ) -> Result<Share, Error> {
        let (created, password) = match answer.and_then(|a| ocs::created_share(&a, permissions)) {
            Err(error) if ocs::is_password_rejection(&error) => {
                let password = server_password(self.settings)?;
                let created = send(self.settings, &self.request(permissions, &password))
                    .and_then(|a| ocs::created_share(&a, permissions));
                (created, password)
            }
            created => (created, password),
        };
        match created {
            Ok(CreatedShare { id, url }) => Ok(Share { id, url, password }),
            Err(error) => Err(errors::redact(error, &password)),
        }
    }
}

fn server_password(settings: &Settings) -> Result<String, Error> {
    ocs::generated_password(&send(settings, &ocs::generate_password(settings))?)
}

/// Removes what a failed create made: its shares, then the folder. Best effort — the
/// original error is what the caller reports.
fn undo(settings: &Settings, folder: &FolderPath, share_ids: &[String]) {
    for id in share_ids {
        let _ = send(settings, &ocs::delete_share(settings, id));
    }
    let _ = delete_folder(settings, folder);
}

/// DELETE the folder (recursively); a missing folder counts as deleted.
fn delete_folder(settings: &Settings, folder: &FolderPath) -> Result<(), Error> {
    webdav::removed(&send(settings, &webdav::delete(settings, folder))?).map(|_| ())
}

fn send(settings: &Settings, request: &Request) -> Result<Response, Error> {
    http::send(&settings.origin, request)
}
