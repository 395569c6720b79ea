//! The provider's three procedures: create a room's shared folder, delete it, and purge it
//! (delete it knowing only the room id).
//!
//! **create** (API-NOTES §5 [V], in OpenTalk's order but for the first step):
//! 1. `GET /graph/v1.0/me/drive` → the drive id, and `GET /ocs/v1.php/cloud/capabilities` → the
//!    password policy, both in flight together, before anything is made: a policy no password
//!    meets fails the create with nothing to undo;
//! 2. `MKCOL /dav/spaces/{drive}/{directory…}/{room}`; on 409 (a parent missing) each ancestor,
//!    outermost first (405 = there already, fine), then the room's folder again. 405 on the
//!    room's folder itself is `already-exists`: a folder this call did not make is never
//!    adopted;
//! 3. `HEAD` of the folder → `OC-FileId`, its item id (MKCOL's answer has none);
//! 4. `POST /graph/v1beta1/drives/{d}/items/{i}/createLink` for `edit` and `view`, both in
//!    flight together, each with its own password.
//!
//! All or nothing: a failure after the folder was made deletes the links that were made — the
//! ones known, and any other on the folder (it is this call's, so every link on it is too: a
//! `createLink` whose answer was lost) — and then, once they are gone, the folder. A
//! `createLink` that failed on the server's side or lost its answer is not sent again blindly:
//! the folder's links are listed first, and one of ours with that type is adopted
//! (`provider_kit::retry::recover`).
//!
//! **delete**: `GET me/drive` and `HEAD` of the folder together — the handle must name the
//! account's personal drive, and the folder at the handle's path must be the handle's item
//! (else it is not the folder create made: it is left alone) — then `DELETE` of both links
//! together (204; 404 already gone), then, only once both are gone, `DELETE` of the folder (204;
//! 404 already gone). A repeated delete finds nothing and succeeds.
//!
//! **purge**: `GET me/drive`, `HEAD` of the room's folder (404: nothing to do), the folder's
//! permissions listed, each link deleted (together), then the folder. A folder already in the
//! trash bin is out of its reach, and so are its links: OpenCloud keeps a trashed folder's
//! links, lists them nowhere, and revives them with the folder when it is restored; only their
//! ids, which `delete` has from the handle, remove them (docs/opencloud-behaviour.md, "Trash
//! bin").
//!
//! With `delete_from_trash`, `delete`, `purge` and the clean-up of a failed create also remove
//! the folder's entry from the space's trash bin ([`crate::spaces`]).
//!
//! A folder's DELETE moves it to the space's trash bin (API-NOTES §3.8 [V], "Deleting the
//! folder"); see [`crate::spaces`]. Every request is sent again after a transient failure when
//! that is safe (`provider_kit::retry`).

use crate::errors::{self, Error};
use crate::graph::{self, Kind};
use crate::http::{self, Request, Response};
use crate::ids::{DriveId, ItemId, LinkId, Target};
use crate::policy::{self, Recipe};
use crate::prelude::*;
use crate::settings::Settings;
use crate::spaces;
use provider_kit::dav::Made;
use provider_kit::expiry;
use provider_kit::paths::FolderPath;
use provider_kit::retry;

/// One public link: its id (to delete it), URL and password.
pub type Link = provider_kit::created::Link<LinkId>;

/// What [`create`] made: the folder, where it is, and its two links.
pub struct Created {
    pub drive: DriveId,
    pub item: ItemId,
    pub folder: FolderPath,
    pub read: Link,
    pub read_write: Link,
}

/// What [`create`] and [`recover`] both begin with: the room's folder, the links' expiration
/// (the settings' days from today), and — asked together — the personal drive and the
/// password policy's recipe.
struct Start {
    folder: FolderPath,
    expiration: Option<String>,
    drive: DriveId,
    recipe: Recipe,
}

fn start(settings: &Settings, room: &str) -> Result<Start, Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let expiration = settings
        .expiry_days
        .map(|days| expiry::days_from_today(days).map(graph::expiration))
        .transpose()?;
    let [drive, capabilities] = http::send_all(
        &settings.origin,
        [&graph::my_drive(settings), &policy::capabilities(settings)],
    );
    Ok(Start {
        folder,
        expiration,
        drive: graph::drive(&drive?)?,
        recipe: policy::policy(&capabilities?)?.recipe()?,
    })
}

pub fn create(settings: &Settings, room: &str) -> Result<Created, Error> {
    let Start {
        folder,
        expiration,
        drive,
        recipe,
    } = start(settings, room)?;
    let passwords = Passwords {
        read_write: recipe.generate()?,
        read: recipe.generate()?,
    };

    make_folder(settings, &drive, &folder)?;
    let item = match find_item(settings, &drive, &folder) {
        Ok(item) => item,
        Err(error) => {
            return Err(match undo(settings, &drive, None, &folder, &[]) {
                Ok(()) => error,
                Err(cleanup) => errors::cleanup_failed(error, cleanup),
            });
        }
    };
    let links = Links {
        settings,
        drive: &drive,
        item: &item,
        expiration: expiration.as_deref(),
    };
    match links.make(&passwords) {
        Ok([read_write, read]) => Ok(Created {
            read_write: Link {
                id: read_write.id,
                url: read_write.url,
                password: passwords.read_write,
            },
            read: Link {
                id: read.id,
                url: read.url,
                password: passwords.read,
            },
            drive,
            item,
            folder,
        }),
        Err((error, made)) => {
            let error = match undo(settings, &drive, Some(&item), &folder, &made) {
                Ok(()) => error,
                Err(cleanup) => errors::cleanup_failed(error, cleanup),
            };
            Err(passwords.redact(error))
        }
    }
}

/// Deletes the folder and both links a handle names ([`Target`], read against the room).
pub fn delete(settings: &Settings, folder: &FolderPath, target: &Target) -> Result<(), Error> {
    let [drive, head] = http::send_all(
        &settings.origin,
        [
            &graph::my_drive(settings),
            &spaces::head(settings, &target.drive, folder),
        ],
    );
    let drive = graph::drive(&drive?)?;
    if drive != target.drive {
        return Err(Error::InvalidRoom(format!(
            "the handle names the drive {:?}, not the account's personal drive",
            target.drive.as_str()
        )));
    }
    // The folder at the path is the one create made, or gone, or another one made since by
    // someone else — which is not this provider's to delete.
    let ours = spaces::item_id(&head?, &drive)?.is_some_and(|item| item == target.item);
    // The links first, together; the folder only once both are gone, so that no link outlives
    // its folder (contract: `delete`).
    delete_links(
        settings,
        &drive,
        &target.item,
        &[target.read_write.clone(), target.read.clone()],
    )?;
    if ours {
        spaces::removed(&send(settings, &spaces::delete(settings, &drive, folder))?)?;
    }
    // Also when the folder was gone already: a delete that stopped between the two steps is
    // finished so.
    empty_trash_of(settings, &drive, folder)
}

/// With `delete_from_trash`, removes what `folder` left in the space's trash bin: the folder,
/// and files deleted from inside it through a link.
fn empty_trash_of(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Result<(), Error> {
    if !settings.delete_from_trash {
        return Ok(());
    }
    let listing = send(settings, &spaces::list_trash(settings, drive))?;
    for href in spaces::trash_entries(settings, drive, &listing, folder)? {
        spaces::removed_from_trash(&send(settings, &spaces::remove_from_trash(&href))?)?;
    }
    Ok(())
}

/// Deletes what [`create`] makes for `room`, found from the room id: the folder's links, then
/// the folder. A folder that is not there counts as deleted.
pub fn purge(settings: &Settings, room: &str) -> Result<(), Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let drive = graph::drive(&send(settings, &graph::my_drive(settings))?)?;
    let head = send(settings, &spaces::head(settings, &drive, &folder))?;
    let Some(item) = spaces::item_id(&head, &drive)? else {
        // A purge that stopped after the folder's DELETE is finished so.
        return empty_trash_of(settings, &drive, &folder);
    };
    let listing = send(settings, &graph::list_permissions(settings, &drive, &item))?;
    let links: Vec<LinkId> = graph::links(&listing)?
        .into_iter()
        .map(|link| link.id)
        .collect();
    delete_links(settings, &drive, &item, &links)?;
    spaces::removed(&send(settings, &spaces::delete(settings, &drive, &folder))?)?;
    empty_trash_of(settings, &drive, &folder)
}

/// A room's folder [`list`] found: where, and its password-protected links.
pub struct Found {
    pub folder: FolderPath,
    pub links: Vec<(Kind, String)>,
}

/// The folders directly under `directory` and their links, in three requests however many
/// rooms: `GET me/drive`, a `Depth: 1` PROPFIND of the directory (each folder's item id with
/// it), and `sharedByMe` (every item with links, each with its links), matched by item id. A
/// directory that does not exist has no folders; a folder whose name cannot be a room id is
/// not a room's and is left out.
pub fn list(settings: &Settings) -> Result<Vec<Found>, Error> {
    let directory = FolderPath::directory(&settings.directory);
    let drive = graph::drive(&send(settings, &graph::my_drive(settings))?)?;
    let [listing, shared] = http::send_all(
        &settings.origin,
        [
            &spaces::list(settings, &drive, &directory),
            &graph::shared_by_me(settings),
        ],
    );
    let Some(folders) = spaces::folders(&drive, &directory, &listing?)? else {
        return Ok(Vec::new());
    };
    let shared = graph::shared_folders(&shared?)?;
    Ok(folders
        .into_iter()
        .filter_map(|(name, item)| {
            let folder = FolderPath::for_room(&settings.directory, &name).ok()?;
            let links = shared
                .get(item.as_str())
                .into_iter()
                .flatten()
                .filter_map(|link| link.protected().map(|(kind, url)| (kind, url.to_owned())))
                .collect();
            Some(Found { folder, links })
        })
        .collect())
}

/// Takes `room`'s folder over as it is: `GET me/drive` and the password policy together, HEAD
/// of the folder (404: there is no folder, `not-found`), its permissions listed; the oldest
/// password-protected link of each kind (by `createdDateTime`) gets a new password in place
/// (`setPassword`), a
/// missing one is made (with the settings' expiry); both are returned as [`create`] returns
/// them. Nothing is deleted, so a recover that fails midway leaves what the next one takes
/// over: a link made before the failure is found then, and gets a new password like any other.
pub fn recover(settings: &Settings, room: &str) -> Result<Created, Error> {
    let Start {
        folder,
        expiration,
        drive,
        recipe,
    } = start(settings, room)?;
    let head = send(settings, &spaces::head(settings, &drive, &folder))?;
    let Some(item) = spaces::item_id(&head, &drive)? else {
        return Err(Error::NotFound(format!(
            "there is no folder {:?}",
            folder.display()
        )));
    };
    let listed = send(settings, &graph::list_permissions(settings, &drive, &item))
        .and_then(|answer| graph::links(&answer))
        .map_err(found_before)?;
    let links = Links {
        settings,
        drive: &drive,
        item: &item,
        expiration: expiration.as_deref(),
    };
    let recovered = |kind: Kind| -> Result<Link, Error> {
        let password = recipe.generate()?;
        let existing =
            graph::oldest(&listed, kind).map(|(link, url)| (link.id.clone(), url.to_owned()));
        let link = match existing {
            Some((id, url)) => {
                let set = send(
                    settings,
                    &graph::set_password(settings, &drive, &item, &id, &password),
                )
                .and_then(|answer| graph::password_set(&answer));
                set.map(|()| graph::Link { id, url })
            }
            None => {
                let answer = send(settings, &links.request(kind, &password));
                links.finish(kind, &password, answer)
            }
        };
        match link {
            Ok(link) => Ok(Link {
                id: link.id,
                url: link.url,
                password,
            }),
            Err(error) => Err(errors::redact(error, &password)),
        }
    };
    let read_write = recovered(Kind::Edit).map_err(found_before)?;
    let read = recovered(Kind::View).map_err(found_before)?;
    Ok(Created {
        drive,
        item,
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

/// MKCOL the room's folder; on 409, its missing ancestors outermost first, then it again.
fn make_folder(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Result<(), Error> {
    if make_room_folder(settings, drive, folder)? == Made::Created {
        return Ok(());
    }
    // API-NOTES §3.2 [V]: 409, "the intermediate collection does not exist".
    for ancestor in folder
        .with_ancestors()
        .filter(|ancestor| ancestor != folder)
    {
        let made = spaces::made(&send(settings, &spaces::mkcol(settings, drive, &ancestor))?)?;
        match made {
            // 405: made before, by an earlier create or the account's owner (API-NOTES §3.2
            // [V]: OpenTalk counts it as success).
            Made::Created | Made::Exists => {}
            Made::ParentMissing => return Err(parent_missing(&ancestor)),
        }
    }
    match make_room_folder(settings, drive, folder)? {
        Made::Created => Ok(()),
        _ => Err(parent_missing(folder)),
    }
}

/// MKCOL of the room's folder itself: 405 is `already-exists`. When the answer was lost (the
/// connection broke, the server failed or was slow) the folder may have been made: it is
/// deleted again before the error is returned — the one case where a folder this call may not
/// have made is deleted, as the NextCloud provider does (the host purges the room after such
/// an error anyway).
fn make_room_folder(
    settings: &Settings,
    drive: &DriveId,
    folder: &FolderPath,
) -> Result<Made, Error> {
    let made =
        send(settings, &spaces::mkcol(settings, drive, folder)).and_then(|a| spaces::made(&a));
    match made {
        Ok(Made::Exists) => Err(Error::AlreadyExists(format!(
            "folder {:?} exists already",
            folder.display()
        ))),
        Ok(made) => Ok(made),
        Err(error) => {
            if (retry::maybe_done(&error) || matches!(error, Error::Timeout(_)))
                && let Err(cleanup) = undo(settings, drive, None, folder, &[])
            {
                return Err(errors::cleanup_failed(error, cleanup));
            }
            Err(error)
        }
    }
}

fn parent_missing(folder: &FolderPath) -> Error {
    errors::remote(
        409,
        &format!(
            "cannot create {:?}: its parent is missing or is not a folder",
            folder.display()
        ),
    )
}

/// The folder's item id, from HEAD's `OC-FileId` (API-NOTES §3.3 [V]).
fn find_item(settings: &Settings, drive: &DriveId, folder: &FolderPath) -> Result<ItemId, Error> {
    spaces::item_id(
        &send(settings, &spaces::head(settings, drive, folder))?,
        drive,
    )?
    .ok_or_else(|| {
        Error::NotFound(format!(
            "folder {:?} was gone right after it was made",
            folder.display()
        ))
    })
}

/// The two links' passwords.
struct Passwords {
    read_write: String,
    read: String,
}

impl Passwords {
    /// `error` without either password in its text, should OpenCloud echo one.
    fn redact(&self, error: Error) -> Error {
        errors::redact(errors::redact(error, &self.read_write), &self.read)
    }
}

/// What making the folder's links needs.
struct Links<'a> {
    settings: &'a Settings,
    drive: &'a DriveId,
    item: &'a ItemId,
    expiration: Option<&'a str>,
}

impl Links<'_> {
    fn request(&self, kind: Kind, password: &str) -> Request {
        graph::create_link(
            self.settings,
            self.drive,
            self.item,
            kind,
            password,
            self.expiration,
        )
    }

    /// Both links, `[read-write, read]`, created together (OpenTalk sends `edit`, then `view`:
    /// API-NOTES §3.5 [V]). On failure, the error and the ids of the links that were made.
    fn make(&self, passwords: &Passwords) -> Result<[graph::Link; 2], (Error, Vec<LinkId>)> {
        let [read_write, read] = http::send_all(
            &self.settings.origin,
            [
                &self.request(Kind::Edit, &passwords.read_write),
                &self.request(Kind::View, &passwords.read),
            ],
        );
        let read_write = self.finish(Kind::Edit, &passwords.read_write, read_write);
        let read = self.finish(Kind::View, &passwords.read, read);
        match (read_write, read) {
            (Ok(read_write), Ok(read)) => Ok([read_write, read]),
            (Ok(made), Err(error)) | (Err(error), Ok(made)) => Err((error, vec![made.id])),
            (Err(error), Err(_)) => Err((error, Vec::new())),
        }
    }

    /// The link from its creation's answer; after a failure that may have made it, what
    /// [`retry::recover`] finds or makes.
    fn finish(
        &self,
        kind: Kind,
        password: &str,
        answer: Result<Response, Error>,
    ) -> Result<graph::Link, Error> {
        let created = |answer: Result<Response, Error>| {
            answer.and_then(|answer| graph::created_link(&answer, kind))
        };
        match created(answer) {
            Err(error) if retry::maybe_done(&error) => retry::recover(
                error,
                || {
                    let listing = send(
                        self.settings,
                        &graph::list_permissions(self.settings, self.drive, self.item),
                    )?;
                    Ok(graph::find(&graph::links(&listing)?, kind))
                },
                || created(send(self.settings, &self.request(kind, password))),
            ),
            done => done,
        }
    }
}

/// Deletes `links` of `item`, all together; every one must be gone (204, or 404 already).
fn delete_links(
    settings: &Settings,
    drive: &DriveId,
    item: &ItemId,
    links: &[LinkId],
) -> Result<(), Error> {
    let requests: Vec<Request> = links
        .iter()
        .map(|link| graph::delete_link(settings, drive, item, link))
        .collect();
    let requests: Vec<&Request> = requests.iter().collect();
    for answer in http::send_each(&settings.origin, &requests) {
        graph::link_removed(&answer?)?;
    }
    Ok(())
}

/// Removes what a failed create made. With the item known: the links `made`, and any other
/// link on the folder, which is this call's (one whose `createLink` lost its answer); then,
/// only if all are gone, the folder. When they cannot all be deleted (or listed) the folder
/// stays and the failure is returned ([`errors::cleanup_failed`]), for the host's purge of the
/// room, which finishes this.
fn undo(
    settings: &Settings,
    drive: &DriveId,
    item: Option<&ItemId>,
    folder: &FolderPath,
    made: &[LinkId],
) -> Result<(), Error> {
    if let Some(item) = item {
        let listed = graph::links(&send(
            settings,
            &graph::list_permissions(settings, drive, item),
        )?)?;
        let mut links = made.to_vec();
        for link in listed {
            if !links.contains(&link.id) {
                links.push(link.id);
            }
        }
        delete_links(settings, drive, item, &links)?;
    }
    spaces::removed(&send(settings, &spaces::delete(settings, drive, folder))?)?;
    empty_trash_of(settings, drive, folder)
}

fn send(settings: &Settings, request: &Request) -> Result<Response, Error> {
    http::send(&settings.origin, request)
}
