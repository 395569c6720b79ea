//! The two procedures of the provider: create a room's shared folder, and delete it.
//!
//! Round trips per create: one MKCOL (plus one per missing ancestor the first time a
//! directory is used), then both shares in flight together. Per delete: both share DELETEs
//! together, then the folder's DELETE.

use crate::bindings::shared_folder::provider::types::{Share, SharedFolder};
use crate::errors::{self, Error};
use crate::http::{self, Request, Response};
use crate::ocs::{self, CreatedShare};
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;
use crate::webdav::{self, Made};
use crate::{expiry, password};

/// Attempts at an idempotent clean-up step (folder DELETE) before giving up on it.
const CLEANUP_ATTEMPTS: usize = 3;

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
    let [read, read_write] = http::send_all(
        &settings.origin,
        [
            &ocs::delete_share(settings, &shared.read.id),
            &ocs::delete_share(settings, &shared.read_write.id),
        ],
    );
    let shares = [read, read_write].map(|answer| answer.and_then(|a| share_removed(&a)));
    // Deleting the folder takes its shares with it (`12-ocs-share-delete.txt` [9]), so a
    // share that could not be deleted on its own is gone once the folder is.
    delete_folder(settings, &folder)?;
    drop(shares);
    Ok(())
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

/// Both public links, created concurrently. On failure, returns the error and the shares
/// that were created, so they can be removed.
fn share_folder(
    settings: &Settings,
    folder: &FolderPath,
    expire_date: Option<&str>,
) -> Result<SharedFolder, (Error, Vec<CreatedShare>)> {
    let path = folder.share_path();
    let passwords = [password::generate(), password::generate()];
    let permissions = [ocs::READ, ocs::READ_WRITE];
    let requests = [0, 1]
        .map(|i| ocs::create_share(settings, &path, permissions[i], &passwords[i], expire_date));
    let answers = http::send_all(&settings.origin, [&requests[0], &requests[1]]);

    let mut results = Vec::with_capacity(2);
    for (i, answer) in answers.into_iter().enumerate() {
        let mut password = passwords[i].clone();
        let mut result = answer.and_then(|a| ocs::created_share(&a, permissions[i]));
        if matches!(&result, Err(e) if ocs::is_password_rejection(e)) {
            // The server's policy is stricter than ours: ask it for a password it accepts,
            // and try once more.
            result = server_password(settings).and_then(|generated| {
                password = generated;
                let retry =
                    ocs::create_share(settings, &path, permissions[i], &password, expire_date);
                ocs::created_share(&send(settings, &retry)?, permissions[i])
            });
        }
        results.push(
            result
                .map(|share| (share, password.clone()))
                .map_err(|e| errors::redact(e, &password)),
        );
    }

    let created: Vec<CreatedShare> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(share, _)| share.clone()))
        .collect();
    let mut shares = Vec::with_capacity(2);
    for result in results {
        match result {
            Ok((CreatedShare { id, url }, password)) => shares.push(Share { id, url, password }),
            Err(error) => return Err((error, created)),
        }
    }
    let read_write = shares.pop();
    let read = shares.pop();
    match (read, read_write) {
        (Some(read), Some(read_write)) => Ok(SharedFolder {
            path: folder.display(),
            read,
            read_write,
        }),
        _ => Err((Error::Protocol("fewer than two shares".into()), created)),
    }
}

fn server_password(settings: &Settings) -> Result<String, Error> {
    ocs::generated_password(&send(settings, &ocs::generate_password(settings))?)
}

/// Removes what a failed create made: its shares, then the folder. Best effort — the
/// original error is what the caller reports.
fn undo(settings: &Settings, folder: &FolderPath, shares: &[CreatedShare]) {
    for share in shares {
        let _ = send(settings, &ocs::delete_share(settings, &share.id));
    }
    let _ = delete_folder(settings, folder);
}

/// DELETE the folder (recursively); a missing folder counts as deleted. Transient failures
/// are retried: DELETE is idempotent.
fn delete_folder(settings: &Settings, folder: &FolderPath) -> Result<(), Error> {
    let request = webdav::delete(settings, folder);
    let mut attempt = 1;
    loop {
        match send(settings, &request).and_then(|a| webdav::removed(&a)) {
            Ok(_) => return Ok(()),
            Err(error) if errors::is_transient(&error) && attempt < CLEANUP_ATTEMPTS => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

fn share_removed(answer: &Response) -> Result<(), Error> {
    match ocs::data(answer) {
        Ok(_) | Err(Error::NotFound(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

fn send(settings: &Settings, request: &Request) -> Result<Response, Error> {
    http::send(&settings.origin, request)
}
