//! The contract's procedures, written against [`crate::storage`]: keep these, fill in that.
//!
//! - [`create`]: the folder, then two links, each with its own CSPRNG password; all or
//!   nothing — a failed step removes what this call made before the error is returned.
//! - [`delete`]: the handle read and checked against the room; both links, then — only once
//!   both are gone — the folder. Already gone counts as deleted, so a repeated delete
//!   succeeds and one that failed midway is finished by the next.
//! - [`purge`]: as `delete`, from the settings and the room alone: the links are looked up on
//!   the folder. Succeeds when there is nothing to remove.
//! - [`list_folders`]: the folders directly under the directory, each with its
//!   password-protected links of either kind. A directory that does not exist has none.
//!   Changes nothing.
//! - [`recover`]: takes a room's existing folder over: the oldest link of each kind gets a new
//!   CSPRNG password in place (its URL stays), a missing one is made (with the expiry), and
//!   the result — handle included — is what `create` returns. `not-found` without a folder;
//!   it never makes, moves or deletes the folder or a file, and deletes no link.
//!
//! The template's storage calls all fail with `remote` 501, so as it stands every procedure
//! fails with that error after its own checks (room id, handle).

use crate::errors::{self, Error};
use crate::expiry::Expiry;
use crate::handle::Handle;
use crate::password;
use crate::paths::{FolderPath, check_segment};
use crate::prelude::*;
use crate::settings::Settings;
use crate::storage::{self, Access, FolderLink, Made, MadeLink};

/// One public link: the storage's id, the URL, the password. Its `Debug` shows no password.
#[derive(Clone, PartialEq, Eq)]
pub struct Link {
    pub id: String,
    pub url: String,
    pub password: String,
}

impl core::fmt::Debug for Link {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Link")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("password", &"***")
            .finish()
    }
}

/// What [`create`] made, or what [`recover`] took over: the same shape either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub folder: FolderPath,
    pub read: Link,
    pub read_write: Link,
    /// The handle's text, for the host to keep and hand to `delete`.
    pub handle: String,
}

/// A folder [`list_folders`] found directly under the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The folder's name: the room it is for (when it is a room's).
    pub room: String,
    /// The folder: `location` is its [`FolderPath::display`].
    pub folder: FolderPath,
    /// Its password-protected links that grant exactly read or read-write, as the storage
    /// listed them.
    pub links: Vec<FolderLink>,
}

/// The storage's calls the procedures make: [`crate::storage`]'s functions, one method each.
/// The procedures are written against this seam so that their unit tests can run them on a
/// fake storage; the component uses [`Remote`]. Fill in `storage.rs`, not this.
pub trait Storage {
    fn make_folder(&self, settings: &Settings, folder: &FolderPath) -> Result<Made, Error>;
    fn link_id(&self, settings: &Settings, folder: &FolderPath, access: Access) -> Option<String>;
    fn create_link(
        &self,
        settings: &Settings,
        folder: &FolderPath,
        access: Access,
        id: Option<&str>,
        password: &str,
        expiry: Option<Expiry>,
    ) -> Result<MadeLink, Error>;
    fn find_links(&self, settings: &Settings, folder: &FolderPath) -> Result<Vec<String>, Error>;
    fn delete_link(&self, settings: &Settings, id: &str) -> Result<(), Error>;
    fn delete_folder(&self, settings: &Settings, folder: &FolderPath) -> Result<(), Error>;
    fn directory_folders(&self, settings: &Settings) -> Result<Vec<String>, Error>;
    fn folder_links(
        &self,
        settings: &Settings,
        folder: &FolderPath,
    ) -> Result<Vec<FolderLink>, Error>;
    fn set_password(
        &self,
        settings: &Settings,
        folder: &FolderPath,
        id: &str,
        password: &str,
    ) -> Result<(), Error>;
}

/// The storage itself: the functions of [`crate::storage`].
pub struct Remote;

impl Storage for Remote {
    fn make_folder(&self, settings: &Settings, folder: &FolderPath) -> Result<Made, Error> {
        storage::make_folder(settings, folder)
    }
    fn link_id(&self, settings: &Settings, folder: &FolderPath, access: Access) -> Option<String> {
        storage::link_id(settings, folder, access)
    }
    fn create_link(
        &self,
        settings: &Settings,
        folder: &FolderPath,
        access: Access,
        id: Option<&str>,
        password: &str,
        expiry: Option<Expiry>,
    ) -> Result<MadeLink, Error> {
        storage::create_link(settings, folder, access, id, password, expiry)
    }
    fn find_links(&self, settings: &Settings, folder: &FolderPath) -> Result<Vec<String>, Error> {
        storage::find_links(settings, folder)
    }
    fn delete_link(&self, settings: &Settings, id: &str) -> Result<(), Error> {
        storage::delete_link(settings, id)
    }
    fn delete_folder(&self, settings: &Settings, folder: &FolderPath) -> Result<(), Error> {
        storage::delete_folder(settings, folder)
    }
    fn directory_folders(&self, settings: &Settings) -> Result<Vec<String>, Error> {
        storage::directory_folders(settings)
    }
    fn folder_links(
        &self,
        settings: &Settings,
        folder: &FolderPath,
    ) -> Result<Vec<FolderLink>, Error> {
        storage::folder_links(settings, folder)
    }
    fn set_password(
        &self,
        settings: &Settings,
        folder: &FolderPath,
        id: &str,
        password: &str,
    ) -> Result<(), Error> {
        storage::set_password(settings, folder, id, password)
    }
}

pub fn create(settings: &Settings, room: &str) -> Result<Created, Error> {
    create_on(&Remote, settings, room, &mut password::generate)
}

pub fn delete(settings: &Settings, room: &str, handle: &str) -> Result<(), Error> {
    delete_on(&Remote, settings, room, handle)
}

pub fn purge(settings: &Settings, room: &str) -> Result<(), Error> {
    purge_on(&Remote, settings, room)
}

pub fn list_folders(settings: &Settings) -> Result<Vec<Listed>, Error> {
    list_folders_on(&Remote, settings)
}

pub fn recover(settings: &Settings, room: &str) -> Result<Created, Error> {
    recover_on(
        &Remote,
        settings,
        room,
        &Expiry::after_days,
        &mut password::generate,
    )
}

/// What a failed create made, for [`undo`]: the ids of its links, and whether a link may exist
/// whose id it never learnt.
#[derive(Debug, Default)]
struct MadeSoFar {
    links: Vec<String>,
    /// A link creation got no answer, and the storage assigns the ids: the link may exist
    /// under an id nobody here knows; [`undo`] looks the folder's links up.
    unknown_link: bool,
}

/// [`create`] on `storage`, with passwords from `new_password`.
fn create_on(
    storage: &impl Storage,
    settings: &Settings,
    room: &str,
    new_password: &mut dyn FnMut() -> String,
) -> Result<Created, Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let expiry = settings.expiry_days.map(Expiry::after_days);

    match storage.make_folder(settings, &folder) {
        Ok(Made::Created) => {}
        Ok(Made::Existed) => {
            return Err(Error::AlreadyExists(format!(
                "the folder {:?} exists already",
                folder.display()
            )));
        }
        Err(error) => {
            if may_have_made(&error) {
                // The request may have made the folder before its answer was lost.
                undo(storage, settings, &folder, &MadeSoFar::default());
            }
            return Err(error);
        }
    }

    let mut made = MadeSoFar::default();
    match share(storage, settings, &folder, expiry, new_password, &mut made) {
        Ok(created) => Ok(created),
        Err(error) => {
            undo(storage, settings, &folder, &made);
            Err(error)
        }
    }
}

/// Both links and the handle. Records each link in `made` as soon as it may exist — a
/// client-chosen id before its request is sent, a storage-assigned one when the answer
/// brings it, and a creation whose answer was lost — so a failure after it can remove it.
fn share(
    storage: &impl Storage,
    settings: &Settings,
    folder: &FolderPath,
    expiry: Option<Expiry>,
    new_password: &mut dyn FnMut() -> String,
    made: &mut MadeSoFar,
) -> Result<Created, Error> {
    let mut link = |access: Access| -> Result<Link, Error> {
        let password = new_password();
        let chosen = storage.link_id(settings, folder, access);
        if let Some(id) = &chosen {
            made.links.push(id.clone());
        }
        match storage.create_link(
            settings,
            folder,
            access,
            chosen.as_deref(),
            &password,
            expiry,
        ) {
            Ok(MadeLink { id, url }) => {
                if chosen.as_ref() != Some(&id) {
                    made.links.push(id.clone());
                }
                Ok(Link { id, url, password })
            }
            Err(error) => {
                if chosen.is_none() && may_have_made(&error) {
                    made.unknown_link = true;
                }
                Err(errors::redact(error, &password))
            }
        }
    };
    let read = link(Access::Read)?;
    let read_write = link(Access::ReadWrite)?;
    let handle = Handle::new(folder, &read.id, &read_write.id).encode()?;
    Ok(Created {
        folder: folder.clone(),
        read,
        read_write,
        handle,
    })
}

fn delete_on(
    storage: &impl Storage,
    settings: &Settings,
    room: &str,
    handle: &str,
) -> Result<(), Error> {
    let (handle, folder) = Handle::read(settings, room, handle)?;
    // The links first: a link must never outlive its folder.
    gone(storage.delete_link(settings, &handle.read))?;
    gone(storage.delete_link(settings, &handle.read_write))?;
    gone(storage.delete_folder(settings, &folder))
}

fn purge_on(storage: &impl Storage, settings: &Settings, room: &str) -> Result<(), Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let links = match storage.find_links(settings, &folder) {
        Err(Error::NotFound(_)) => Vec::new(),
        found => found?,
    };
    for id in links {
        gone(storage.delete_link(settings, &id))?;
    }
    gone(storage.delete_folder(settings, &folder))
}

fn list_folders_on(storage: &impl Storage, settings: &Settings) -> Result<Vec<Listed>, Error> {
    let names = match storage.directory_folders(settings) {
        // No directory yet: no room was ever made, so there is no folder.
        Err(Error::NotFound(_)) => return Ok(Vec::new()),
        listed => listed?,
    };
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        let folder = FolderPath::listed(&settings.directory, &name)?;
        // A name no room id can be (a control character, `\`, over 255 bytes) is not a
        // room's folder: left out, as the contract says.
        if check_segment(&name).is_err() {
            continue;
        }
        match storage.folder_links(settings, &folder) {
            Ok(links) => {
                check_listed(&links)?;
                found.push(Listed {
                    room: name,
                    folder,
                    links,
                });
            }
            // Deleted since the directory was listed (a room's delete ran meanwhile): it is
            // not there any more.
            Err(Error::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(found)
}

/// [`recover`] on `storage`, with expiry times from `expire` (days → when) and passwords
/// from `new_password`.
///
/// `not-found` means one thing here: there is no folder. A host takes it at its word — the
/// reference host, auditing a record whose folder it did not find, finishes the room's delete
/// when `recover` says `not-found` — so a `not-found` from any later step (a link gone between
/// the listing and its password change, a 404 from the link API) is passed on as `remote`
/// 404 ([`not_absent`]).
///
/// Missing links are made first, then the found ones get their new passwords: when a link
/// cannot be made, the links that were there still have the passwords they had. Nothing is
/// ever deleted or undone — a password cannot be set back, and a link whose creation lost its
/// answer is a protected link of its kind on the folder, which the next recover finds and
/// takes over rather than making another. So a failed recover returns its error (the
/// password redacted) and is finished by the next one.
fn recover_on(
    storage: &impl Storage,
    settings: &Settings,
    room: &str,
    expire: &dyn Fn(u32) -> Expiry,
    new_password: &mut dyn FnMut() -> String,
) -> Result<Created, Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let links = match storage.folder_links(settings, &folder) {
        Err(Error::NotFound(_)) => {
            return Err(Error::NotFound(format!(
                "there is no folder {:?} to recover",
                folder.display()
            )));
        }
        found => found?,
    };
    check_listed(&links)?;
    // The oldest of a kind; between equals, the one listed first (`min_by_key` keeps it).
    let oldest = |access: Access| {
        links
            .iter()
            .filter(|link| link.access == access)
            .min_by_key(|link| link.made)
    };
    let expiry = settings.expiry_days.map(expire);

    let mut take = |access: Access| match oldest(access) {
        Some(found) => Ok(Taken::Found(found)),
        None => make_link(storage, settings, &folder, access, expiry, new_password)
            .map(Taken::Made)
            .map_err(not_absent),
    };
    let read = take(Access::Read)?;
    let read_write = take(Access::ReadWrite)?;

    let mut new_password_of = |taken: Taken| match taken {
        Taken::Made(link) => Ok(link),
        Taken::Found(found) => {
            let password = new_password();
            storage
                .set_password(settings, &folder, &found.id, &password)
                .map_err(|error| not_absent(errors::redact(error, &password)))?;
            Ok::<_, Error>(Link {
                id: found.id.clone(),
                url: found.url.clone(),
                password,
            })
        }
    };
    let read = new_password_of(read)?;
    let read_write = new_password_of(read_write)?;
    let handle = Handle::new(&folder, &read.id, &read_write.id).encode()?;
    Ok(Created {
        folder,
        read,
        read_write,
        handle,
    })
}

/// What [`recover_on`] does with one kind of link: the one found on the folder, or the one it
/// made since there was none.
enum Taken<'a> {
    Found(&'a FolderLink),
    Made(Link),
}

/// A link `recover` makes where the folder lacks one: as `create` makes it.
fn make_link(
    storage: &impl Storage,
    settings: &Settings,
    folder: &FolderPath,
    access: Access,
    expiry: Option<Expiry>,
    new_password: &mut dyn FnMut() -> String,
) -> Result<Link, Error> {
    let password = new_password();
    let chosen = storage.link_id(settings, folder, access);
    match storage.create_link(
        settings,
        folder,
        access,
        chosen.as_deref(),
        &password,
        expiry,
    ) {
        Ok(MadeLink { id, url }) => Ok(Link { id, url, password }),
        Err(error) => Err(errors::redact(error, &password)),
    }
}

/// A `not-found` after the folder was found, as `remote` 404: for `recover`, `not-found`
/// means that there is no folder, and this is something else.
fn not_absent(error: Error) -> Error {
    match error {
        Error::NotFound(message) => errors::remote(
            404,
            &format!("the folder is there, but the storage answered: {message}"),
        ),
        other => other,
    }
}

/// A listed link without an id or a URL is an answer not read right: the handle needs the
/// id, and the host the URL.
fn check_listed(links: &[FolderLink]) -> Result<(), Error> {
    if links
        .iter()
        .any(|link| link.id.is_empty() || link.url.is_empty())
    {
        return Err(Error::Protocol(
            "the storage listed a link without its id or URL".into(),
        ));
    }
    Ok(())
}

/// A delete whose target is already gone has done its job.
fn gone(result: Result<(), Error>) -> Result<(), Error> {
    match result {
        Err(Error::NotFound(_)) => Ok(()),
        other => other,
    }
}

/// Whether a failed step may still have made something: the storage did not say no (the
/// answer was lost, or it failed on its side).
fn may_have_made(error: &Error) -> bool {
    !matches!(
        error,
        Error::InvalidConfig(_)
            | Error::InvalidRoom(_)
            | Error::Unauthorized(_)
            | Error::AlreadyExists(_)
    )
}

/// Removes what a failed create made: its links — those in `made.links`, and when a link may
/// exist under an id it never learnt, every link on the folder (which this create made, so
/// they are all its own) — then, only if they are all gone, the folder. Best effort: the
/// caller reports the original error, and what is left is for `purge`, which a host calls
/// after a failed create that may have left something.
fn undo(storage: &impl Storage, settings: &Settings, folder: &FolderPath, made: &MadeSoFar) {
    let mut ids = made.links.clone();
    if made.unknown_link {
        match storage.find_links(settings, folder) {
            Ok(found) => ids.extend(found.into_iter().filter(|id| !made.links.contains(id))),
            Err(Error::NotFound(_)) => {}
            // The lost link cannot be found: the folder stays, for `purge`.
            Err(_) => return,
        }
    }
    let links_gone = ids
        .iter()
        .all(|id| gone(storage.delete_link(settings, id)).is_ok());
    if links_gone {
        let _ = storage.delete_folder(settings, folder);
    }
}

/// The first two pin the template as it stands: every storage call answers `remote` 501.
/// Replace them once `storage.rs` makes real calls (those need a host, and a stand-in of the
/// storage: see `docs/writing-a-provider.md`). The others run the procedures on a fake
/// storage (`Fake`, through the [`Storage`] seam): keep them, and add the failures your
/// storage has.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::shared_folder::provider::types::{RemoteError, Setting, SettingValue};
    use core::cell::{Cell, RefCell};

    fn settings_with(expiry: Option<i64>) -> Settings {
        let text = |name: &str, value: &str| Setting {
            name: name.into(),
            value: SettingValue::Text(value.into()),
        };
        let mut fields = vec![
            text("url", "https://storage.example.com/"),
            text("username", "meetings-bot"),
            text("directory", "meetings"),
        ];
        if let Some(days) = expiry {
            fields.push(Setting {
                name: "expiry".into(),
                value: SettingValue::Integer(days),
            });
        }
        Settings::from_wit(&fields).unwrap()
    }

    fn settings() -> Settings {
        settings_with(None)
    }

    fn is_not_yet(error: &Error) -> bool {
        matches!(error, Error::Remote(RemoteError { status: 501, message })
            if message.contains("no storage calls yet"))
    }

    #[test]
    fn the_template_says_it_has_no_storage_calls() {
        let settings = settings();
        let error = create(&settings, "room-1").unwrap_err();
        assert!(is_not_yet(&error), "{error:?}");
        let handle = Handle::new(
            &FolderPath::for_room(&settings.directory, "room-1").unwrap(),
            "a",
            "b",
        )
        .encode()
        .unwrap();
        let error = delete(&settings, "room-1", &handle).unwrap_err();
        assert!(is_not_yet(&error), "{error:?}");
        let error = purge(&settings, "room-1").unwrap_err();
        assert!(is_not_yet(&error), "{error:?}");
        let error = list_folders(&settings).unwrap_err();
        assert!(is_not_yet(&error), "{error:?}");
        let error = recover(&settings, "room-1").unwrap_err();
        assert!(is_not_yet(&error), "{error:?}");
    }

    #[test]
    fn the_room_and_the_handle_are_checked_before_any_storage_call() {
        let settings = settings();
        assert!(matches!(
            create(&settings, "../x"),
            Err(Error::InvalidRoom(_))
        ));
        assert!(matches!(purge(&settings, ""), Err(Error::InvalidRoom(_))));
        assert!(matches!(
            recover(&settings, "a/b"),
            Err(Error::InvalidRoom(_))
        ));
        assert!(matches!(
            delete(&settings, "room-1", "{}"),
            Err(Error::Protocol(_))
        ));
        let other = Handle::new(
            &FolderPath::for_room(&settings.directory, "room-2").unwrap(),
            "a",
            "b",
        )
        .encode()
        .unwrap();
        assert!(matches!(
            delete(&settings, "room-1", &other),
            Err(Error::InvalidRoom(_))
        ));
    }

    #[test]
    fn gone_counts_as_deleted() {
        assert!(gone(Err(Error::NotFound("no such link".into()))).is_ok());
        assert!(gone(Ok(())).is_ok());
        assert!(gone(Err(Error::Timeout("slow".into()))).is_err());
    }

    #[test]
    fn a_links_debug_shows_no_password() {
        let link = Link {
            id: "17".into(),
            url: "https://storage.example.com/s/17".into(),
            password: "s3cret-Pass".into(),
        };
        let text = format!("{link:?}");
        assert!(!text.contains("s3cret-Pass"), "{text}");
        assert!(text.contains("17") && text.contains("***"), "{text}");
    }

    /// A link on the fake storage. No `Debug`: it holds a password.
    #[derive(Clone)]
    struct FakeLink {
        /// The name of its folder (under `meetings`).
        folder: String,
        id: String,
        access: Access,
        password: String,
        expiry: Option<Expiry>,
        made: u64,
    }

    impl FakeLink {
        fn url(&self) -> String {
            format!("https://storage.example.com/s/{}", self.id)
        }
    }

    /// A storage in memory, holding folders under `meetings` and their links. It makes what it
    /// is asked to, and can be told to fail a step: refuse it (nothing done), or lose its
    /// answer (done, the caller hears a timeout).
    #[derive(Default)]
    struct Fake {
        /// Whether the client names the links (as copyparty does), or the storage does.
        client_chooses_ids: bool,
        /// The link whose creation's answer is lost (the link is made).
        lose_answer_for: Option<Access>,
        /// The link whose creation is refused with a 500 that quotes its password.
        refuse_link_for: Option<Access>,
        /// Whether listing a folder's links fails.
        listing_fails: bool,
        /// The link whose password change's answer is lost (the password is changed).
        lose_password_answer_for: Option<Access>,
        /// The link whose password change is refused with a 500 that quotes the password.
        refuse_password_for: Option<Access>,
        /// The link deleted (by someone else) just before its password is changed.
        vanish_for: Option<Access>,
        /// Whether the link API answers 404 to a creation (a wrong endpoint, say).
        link_api_missing: bool,
        /// Whether the directory does not exist at all.
        no_directory: bool,
        /// Whether listing the directory fails.
        directory_listing_fails: bool,
        /// Names the directory's listing gives besides the folders: folders deleted since, or
        /// names read wrong.
        ghosts: Vec<String>,
        /// The folders under `meetings`, by name.
        folders: RefCell<Vec<String>>,
        links: RefCell<Vec<FakeLink>>,
        made_links: Cell<u32>,
        listings: Cell<u32>,
        password_changes: Cell<u32>,
        /// The deterministic stand-in for the CSPRNG (xorshift); 0: not seeded yet.
        random: Cell<u64>,
    }

    /// The room's folder's name, the last of its path.
    fn name(folder: &FolderPath) -> String {
        folder.segments().last().unwrap().clone()
    }

    impl Storage for Fake {
        fn make_folder(&self, _: &Settings, folder: &FolderPath) -> Result<Made, Error> {
            if self.has_folder(&name(folder)) {
                return Ok(Made::Existed);
            }
            self.folders.borrow_mut().push(name(folder));
            Ok(Made::Created)
        }
        fn link_id(&self, _: &Settings, folder: &FolderPath, access: Access) -> Option<String> {
            self.client_chooses_ids.then(|| {
                format!("{}-{access:?}-{}", name(folder), self.made_links.get()).to_lowercase()
            })
        }
        fn create_link(
            &self,
            _: &Settings,
            folder: &FolderPath,
            access: Access,
            id: Option<&str>,
            password: &str,
            expiry: Option<Expiry>,
        ) -> Result<MadeLink, Error> {
            assert_eq!(id.is_some(), self.client_chooses_ids);
            assert!(self.has_folder(&name(folder)), "a link without its folder");
            if self.refuse_link_for == Some(access) {
                return Err(errors::remote(500, &format!("{password} was refused")));
            }
            if self.link_api_missing {
                return Err(Error::NotFound("no such API".into()));
            }
            self.made_links.set(self.made_links.get() + 1);
            let made = 100 + u64::from(self.made_links.get());
            let id = id.map_or_else(|| made.to_string(), str::to_owned);
            let link = FakeLink {
                folder: name(folder),
                id: id.clone(),
                access,
                password: password.to_owned(),
                expiry,
                made,
            };
            let url = link.url();
            self.links.borrow_mut().push(link);
            if self.lose_answer_for == Some(access) {
                return Err(Error::Timeout("the answer was lost".into()));
            }
            Ok(MadeLink { id, url })
        }
        fn find_links(&self, _: &Settings, folder: &FolderPath) -> Result<Vec<String>, Error> {
            self.listings.set(self.listings.get() + 1);
            if self.listing_fails {
                return Err(errors::remote(500, "no listing today"));
            }
            Ok(self
                .links_of(&name(folder))
                .into_iter()
                .map(|l| l.id)
                .collect())
        }
        fn delete_link(&self, _: &Settings, id: &str) -> Result<(), Error> {
            let mut links = self.links.borrow_mut();
            let before = links.len();
            links.retain(|link| link.id != id);
            if links.len() == before {
                return Err(Error::NotFound(format!("no link {id}")));
            }
            Ok(())
        }
        fn delete_folder(&self, _: &Settings, folder: &FolderPath) -> Result<(), Error> {
            let name = name(folder);
            assert!(
                self.links_of(&name).is_empty(),
                "a link outlives its folder"
            );
            let mut folders = self.folders.borrow_mut();
            let before = folders.len();
            folders.retain(|folder| *folder != name);
            if folders.len() == before {
                return Err(Error::NotFound("no folder".into()));
            }
            Ok(())
        }
        fn directory_folders(&self, settings: &Settings) -> Result<Vec<String>, Error> {
            assert_eq!(settings.directory, ["meetings"]);
            if self.no_directory {
                return Err(Error::NotFound("no such directory".into()));
            }
            if self.directory_listing_fails {
                return Err(errors::remote(503, "busy"));
            }
            let mut names = self.folders.borrow().clone();
            names.extend(self.ghosts.iter().cloned());
            Ok(names)
        }
        fn folder_links(
            &self,
            _: &Settings,
            folder: &FolderPath,
        ) -> Result<Vec<FolderLink>, Error> {
            self.listings.set(self.listings.get() + 1);
            if self.listing_fails {
                return Err(errors::remote(500, "no listing today"));
            }
            if !self.has_folder(&name(folder)) {
                return Err(Error::NotFound("no such folder".into()));
            }
            Ok(self
                .links_of(&name(folder))
                .into_iter()
                .map(|link| FolderLink {
                    url: link.url(),
                    id: link.id,
                    access: link.access,
                    made: link.made,
                })
                .collect())
        }
        fn set_password(
            &self,
            _: &Settings,
            folder: &FolderPath,
            id: &str,
            password: &str,
        ) -> Result<(), Error> {
            let mut links = self.links.borrow_mut();
            if let Some(access) = self.vanish_for {
                links.retain(|link| link.access != access);
            }
            let Some(link) = links
                .iter_mut()
                .find(|link| link.id == id && link.folder == name(folder))
            else {
                return Err(Error::NotFound(format!("no link {id}")));
            };
            if self.refuse_password_for == Some(link.access) {
                return Err(errors::remote(500, &format!("{password} is too weak")));
            }
            self.password_changes.set(self.password_changes.get() + 1);
            link.password = password.to_owned();
            if self.lose_password_answer_for == Some(link.access) {
                return Err(Error::Timeout("the answer was lost".into()));
            }
            Ok(())
        }
    }

    /// 2026-11-22T12:00:00Z: the fake's wall clock.
    const NOW: u64 = 1_795_348_800;

    impl Fake {
        fn has_folder(&self, name: &str) -> bool {
            self.folders.borrow().iter().any(|folder| folder == name)
        }

        fn links_of(&self, folder: &str) -> Vec<FakeLink> {
            let links = self.links.borrow();
            links
                .iter()
                .filter(|l| l.folder == folder)
                .cloned()
                .collect()
        }

        fn link(&self, id: &str) -> FakeLink {
            let links = self.links.borrow();
            links.iter().find(|l| l.id == id).cloned().unwrap()
        }

        fn ids(&self) -> Vec<String> {
            self.links.borrow().iter().map(|l| l.id.clone()).collect()
        }

        fn is_empty(&self) -> bool {
            self.folders.borrow().is_empty() && self.links.borrow().is_empty()
        }

        /// A folder that is there already, with links made before (`made`: their age).
        fn with_folder(self, folder: &str, links: &[(&str, Access, u64)]) -> Self {
            self.folders.borrow_mut().push(folder.to_owned());
            for &(id, access, made) in links {
                self.links.borrow_mut().push(FakeLink {
                    folder: folder.to_owned(),
                    id: id.to_owned(),
                    access,
                    password: format!("old password of {id}"),
                    expiry: None,
                    made,
                });
            }
            self
        }

        /// A password from the deterministic stand-in for the CSPRNG: a new one each time.
        fn new_password(&self) -> String {
            let mut state = match self.random.get() {
                0 => 0x9e37_79b9_7f4a_7c15_u64,
                state => state,
            };
            let password = password::generate_from(|len| {
                (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        (state >> 32) as u8
                    })
                    .collect()
            });
            self.random.set(state);
            password
        }

        fn create(&self, settings: &Settings) -> Result<Created, Error> {
            create_on(self, settings, "room-1", &mut || self.new_password())
        }

        fn recover(&self, settings: &Settings, room: &str) -> Result<Created, Error> {
            recover_on(
                self,
                settings,
                room,
                &|days| Expiry::after(NOW, days),
                &mut || self.new_password(),
            )
        }
    }

    #[test]
    fn a_create_makes_a_folder_and_two_links_and_delete_removes_them() {
        let settings = settings();
        for client_chooses_ids in [false, true] {
            let fake = Fake {
                client_chooses_ids,
                ..Fake::default()
            };
            let created = fake.create(&settings).unwrap();
            assert_ne!(created.read.id, created.read_write.id);
            assert_ne!(created.read.password, created.read_write.password);
            assert_eq!(fake.links.borrow().len(), 2);
            delete_on(&fake, &settings, "room-1", &created.handle).unwrap();
            assert!(fake.is_empty());
            // Again: gone counts as deleted.
            delete_on(&fake, &settings, "room-1", &created.handle).unwrap();
        }
    }

    #[test]
    fn a_link_named_by_the_client_is_undone_even_when_its_answer_was_lost() {
        let settings = settings();
        let fake = Fake {
            client_chooses_ids: true,
            lose_answer_for: Some(Access::ReadWrite),
            ..Fake::default()
        };
        let error = fake.create(&settings).unwrap_err();
        assert!(matches!(error, Error::Timeout(_)), "{error:?}");
        assert_eq!(fake.made_links.get(), 2);
        // Both links and the folder are gone, by the ids recorded before each request: no
        // listing was needed.
        assert!(fake.is_empty(), "{:?}", fake.ids());
        assert_eq!(fake.listings.get(), 0);
    }

    #[test]
    fn a_link_the_storage_named_is_looked_up_when_its_answer_was_lost() {
        let settings = settings();
        for lost in [Access::Read, Access::ReadWrite] {
            let fake = Fake {
                lose_answer_for: Some(lost),
                ..Fake::default()
            };
            let error = fake.create(&settings).unwrap_err();
            assert!(matches!(error, Error::Timeout(_)), "{error:?}");
            assert!(fake.is_empty(), "{lost:?}: {:?}", fake.ids());
            assert_eq!(fake.listings.get(), 1);
        }
        // When the folder's links cannot be listed, the folder stays (a link must not outlive
        // it), for `purge`; which then removes everything.
        let fake = Fake {
            lose_answer_for: Some(Access::ReadWrite),
            listing_fails: true,
            ..Fake::default()
        };
        fake.create(&settings).unwrap_err();
        assert!(fake.has_folder("room-1"));
        let fake = Fake {
            listing_fails: false,
            ..fake
        };
        purge_on(&fake, &settings, "room-1").unwrap();
        assert!(fake.is_empty());
    }

    #[test]
    fn only_a_refusal_means_nothing_was_made() {
        assert!(!may_have_made(&Error::Unauthorized("no".into())));
        assert!(!may_have_made(&Error::AlreadyExists("there".into())));
        assert!(may_have_made(&Error::Transport("reset".into())));
        assert!(may_have_made(&errors::remote(500, "")));
    }

    #[test]
    fn list_folders_names_every_folder_under_the_directory_with_its_links() {
        let settings = settings();
        let fake = Fake {
            // Listed, then deleted before its links were asked for: left out.
            ghosts: vec!["room-gone".into()],
            ..Fake::default()
        }
        .with_folder(
            "room-1",
            &[("11", Access::Read, 1), ("12", Access::ReadWrite, 2)],
        )
        .with_folder("room-2", &[])
        .with_folder("notes", &[("21", Access::Read, 5), ("22", Access::Read, 3)]);
        let listed = list_folders_on(&fake, &settings).unwrap();
        // Room, location, and each link's URL and access.
        type Found = (String, String, Vec<(String, Access)>);
        let summary: Vec<Found> = listed
            .into_iter()
            .map(|found| {
                let links = found.links.into_iter().map(|l| (l.url, l.access)).collect();
                (found.room, found.folder.display(), links)
            })
            .collect();
        let url = |id: &str| format!("https://storage.example.com/s/{id}");
        assert_eq!(
            summary,
            [
                (
                    "room-1".to_owned(),
                    "meetings/room-1".to_owned(),
                    vec![(url("11"), Access::Read), (url("12"), Access::ReadWrite)]
                ),
                ("room-2".into(), "meetings/room-2".into(), vec![]),
                (
                    "notes".into(),
                    "meetings/notes".into(),
                    vec![(url("21"), Access::Read), (url("22"), Access::Read)]
                ),
            ]
        );
        // It changed nothing.
        assert_eq!(fake.made_links.get(), 0);
        assert_eq!(fake.password_changes.get(), 0);
        assert_eq!(fake.ids(), ["11", "12", "21", "22"]);
    }

    #[test]
    fn list_folders_of_a_directory_that_does_not_exist_is_empty() {
        let settings = settings();
        let fake = Fake {
            no_directory: true,
            ..Fake::default()
        };
        assert_eq!(list_folders_on(&fake, &settings).unwrap(), []);
        // A directory whose listing fails is not taken for an empty one.
        let fake = Fake {
            directory_listing_fails: true,
            ..Fake::default()
        };
        assert!(matches!(
            list_folders_on(&fake, &settings),
            Err(Error::Remote(RemoteError { status: 503, .. }))
        ));
        // Nor a folder whose links cannot be listed for one without links.
        let fake = Fake {
            listing_fails: true,
            ..Fake::default()
        }
        .with_folder("room-1", &[]);
        assert!(matches!(
            list_folders_on(&fake, &settings),
            Err(Error::Remote(RemoteError { status: 500, .. }))
        ));
    }

    #[test]
    fn list_folders_refuses_a_name_or_link_it_did_not_read_right() {
        let settings = settings();
        for ghost in ["..", "a/b", ""] {
            let fake = Fake {
                ghosts: vec![ghost.into()],
                ..Fake::default()
            };
            assert!(
                matches!(list_folders_on(&fake, &settings), Err(Error::Protocol(_))),
                "{ghost:?}"
            );
        }
        let fake = Fake::default().with_folder("room-1", &[("", Access::Read, 1)]);
        assert!(matches!(
            list_folders_on(&fake, &settings),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn list_folders_leaves_out_a_folder_no_room_id_can_name() {
        let settings = settings();
        let fake = Fake::default()
            .with_folder("room-1", &[("1", Access::Read, 1)])
            .with_folder("notes\u{7}", &[])
            .with_folder("a\\b", &[]);
        let listed = list_folders_on(&fake, &settings).unwrap();
        let rooms: Vec<&str> = listed.iter().map(|l| l.room.as_str()).collect();
        assert_eq!(rooms, ["room-1"]);
    }

    #[test]
    fn recover_gives_the_oldest_link_of_each_kind_a_new_password_in_place() {
        let settings = settings();
        // Listed newest first, so the oldest is not simply the first of its kind.
        let fake = Fake::default().with_folder(
            "room-1",
            &[
                ("13", Access::ReadWrite, 30),
                ("12", Access::Read, 20),
                ("11", Access::Read, 10),
                ("14", Access::ReadWrite, 40),
            ],
        );
        let recovered = fake.recover(&settings, "room-1").unwrap();
        assert_eq!(recovered.folder.display(), "meetings/room-1");
        assert_eq!(
            (recovered.read.id.as_str(), recovered.read_write.id.as_str()),
            ("11", "13")
        );
        for link in [&recovered.read, &recovered.read_write] {
            // The same link, its URL kept, with the new password set on the storage.
            let stored = fake.link(&link.id);
            assert_eq!(link.url, stored.url());
            assert_eq!(link.password, stored.password);
            assert!(!link.password.starts_with("old password"));
        }
        assert_ne!(recovered.read.password, recovered.read_write.password);
        // The newer ones are left as they were; nothing made, nothing deleted.
        assert_eq!(fake.link("12").password, "old password of 12");
        assert_eq!(fake.link("14").password, "old password of 14");
        assert_eq!(fake.made_links.get(), 0);
        assert_eq!(fake.ids(), ["13", "12", "11", "14"]);
        assert!(fake.has_folder("room-1"));
    }

    #[test]
    fn a_recovered_folder_is_deleted_with_its_handle_as_a_created_one() {
        let settings = settings();
        let fake = Fake::default().with_folder(
            "room-1",
            &[("11", Access::Read, 1), ("12", Access::ReadWrite, 2)],
        );
        let recovered = fake.recover(&settings, "room-1").unwrap();
        let (handle, _) = Handle::read(&settings, "room-1", &recovered.handle).unwrap();
        assert_eq!(
            (handle.read.as_str(), handle.read_write.as_str()),
            ("11", "12")
        );
        delete_on(&fake, &settings, "room-1", &recovered.handle).unwrap();
        assert!(fake.is_empty());
    }

    #[test]
    fn recover_makes_a_missing_link_with_the_expiry() {
        let settings = settings_with(Some(30));
        for client_chooses_ids in [false, true] {
            let fake = Fake {
                client_chooses_ids,
                ..Fake::default()
            }
            .with_folder("room-1", &[("12", Access::ReadWrite, 2)]);
            let recovered = fake.recover(&settings, "room-1").unwrap();
            assert_eq!(fake.made_links.get(), 1);
            let made = fake.link(&recovered.read.id);
            assert_eq!(made.access, Access::Read);
            assert_eq!(made.folder, "room-1");
            assert_eq!(made.url(), recovered.read.url);
            assert_eq!(made.password, recovered.read.password);
            assert_eq!(made.expiry, Some(Expiry::after(NOW, 30)));
            // The link that was there is kept, with a new password.
            assert_eq!(recovered.read_write.id, "12");
            assert_eq!(fake.link("12").password, recovered.read_write.password);
            // A folder without links gets both.
            let fake = Fake {
                client_chooses_ids,
                ..Fake::default()
            }
            .with_folder("room-1", &[]);
            let recovered = fake.recover(&settings, "room-1").unwrap();
            assert_eq!(fake.made_links.get(), 2);
            assert_ne!(recovered.read.id, recovered.read_write.id);
            assert_eq!(
                fake.link(&recovered.read_write.id).access,
                Access::ReadWrite
            );
            assert_eq!(fake.password_changes.get(), 0);
        }
        // Without `expiry` in the settings, a link made does not expire.
        let fake = Fake::default().with_folder("room-1", &[]);
        let recovered = fake.recover(&settings_with(None), "room-1").unwrap();
        assert_eq!(fake.link(&recovered.read.id).expiry, None);
    }

    #[test]
    fn recover_without_a_folder_is_not_found_and_makes_nothing() {
        let settings = settings();
        // Another room's folder is there; this room's is not.
        let fake = Fake::default().with_folder("room-2", &[("21", Access::Read, 1)]);
        let error = fake.recover(&settings, "room-1").unwrap_err();
        assert!(
            matches!(&error, Error::NotFound(m) if m.contains("meetings/room-1")),
            "{error:?}"
        );
        assert!(!fake.has_folder("room-1"));
        assert_eq!(fake.made_links.get(), 0);
        assert_eq!(fake.password_changes.get(), 0);
        // A failing listing is not taken for a missing folder.
        let fake = Fake {
            listing_fails: true,
            ..Fake::default()
        };
        assert!(matches!(
            fake.recover(&settings, "room-1"),
            Err(Error::Remote(RemoteError { status: 500, .. }))
        ));
    }

    #[test]
    fn recover_says_not_found_only_when_there_is_no_folder() {
        let settings = settings();
        // A link deleted between the listing and its password change; the link API answering
        // 404: the folder is there, so neither is `not-found` (after which a host would
        // finish the room's delete), and nothing is deleted.
        let vanishing = Fake {
            vanish_for: Some(Access::Read),
            ..Fake::default()
        };
        let no_api = Fake {
            link_api_missing: true,
            ..Fake::default()
        };
        for fake in [vanishing, no_api] {
            let fake = fake.with_folder("room-1", &[("11", Access::Read, 1)]);
            let error = fake.recover(&settings, "room-1").unwrap_err();
            assert!(
                matches!(&error, Error::Remote(RemoteError { status: 404, .. })),
                "{error:?}"
            );
            assert!(fake.has_folder("room-1"));
        }
    }

    #[test]
    fn recover_again_keeps_the_links_with_new_passwords() {
        let settings = settings();
        let fake = Fake::default().with_folder("room-1", &[("12", Access::ReadWrite, 2)]);
        let first = fake.recover(&settings, "room-1").unwrap();
        let second = fake.recover(&settings, "room-1").unwrap();
        assert_eq!(first.read.url, second.read.url);
        assert_eq!(first.read_write.url, second.read_write.url);
        assert_eq!(first.handle, second.handle);
        assert_ne!(first.read.password, second.read.password);
        assert_ne!(first.read_write.password, second.read_write.password);
        assert_eq!(fake.link(&second.read.id).password, second.read.password);
        // The missing link was made once, by the first.
        assert_eq!(fake.made_links.get(), 1);
        assert_eq!(fake.links.borrow().len(), 2);
    }

    #[test]
    fn a_password_change_whose_answer_was_lost_fails_and_the_next_recover_finishes() {
        let settings = settings();
        let fake = Fake {
            lose_password_answer_for: Some(Access::ReadWrite),
            ..Fake::default()
        }
        .with_folder(
            "room-1",
            &[("11", Access::Read, 1), ("12", Access::ReadWrite, 2)],
        );
        // The link may or may not have the new password: recover cannot say which it has, so
        // it fails rather than hand out a password that may not open it.
        let error = fake.recover(&settings, "room-1").unwrap_err();
        assert!(matches!(error, Error::Timeout(_)), "{error:?}");
        assert_eq!(fake.ids(), ["11", "12"]);
        let fake = Fake {
            lose_password_answer_for: None,
            ..fake
        };
        let recovered = fake.recover(&settings, "room-1").unwrap();
        assert_eq!(
            (recovered.read.id.as_str(), recovered.read_write.id.as_str()),
            ("11", "12")
        );
        assert_eq!(fake.link("11").password, recovered.read.password);
        assert_eq!(fake.link("12").password, recovered.read_write.password);
    }

    #[test]
    fn a_refused_password_change_fails_without_the_password() {
        let settings = settings();
        let fake = Fake {
            refuse_password_for: Some(Access::Read),
            ..Fake::default()
        }
        .with_folder(
            "room-1",
            &[("11", Access::Read, 1), ("12", Access::ReadWrite, 2)],
        );
        let error = fake.recover(&settings, "room-1").unwrap_err();
        match &error {
            Error::Remote(RemoteError {
                status: 500,
                message,
            }) => {
                assert_eq!(message, "*** is too weak");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fake.link("11").password, "old password of 11");
    }

    #[test]
    fn a_missing_link_whose_creation_fails_leaves_the_others_as_they_were() {
        let settings = settings();
        let fake = Fake {
            refuse_link_for: Some(Access::ReadWrite),
            ..Fake::default()
        }
        .with_folder("room-1", &[("11", Access::Read, 1)]);
        let error = fake.recover(&settings, "room-1").unwrap_err();
        // The storage's answer quoted the password it was sent: not in the error.
        match &error {
            Error::Remote(RemoteError {
                status: 500,
                message,
            }) => {
                assert_eq!(message, "*** was refused");
            }
            other => panic!("{other:?}"),
        }
        // Made first — before the read link, which comes first otherwise — so the link that
        // was there still has its password; nothing deleted.
        assert_eq!(fake.link("11").password, "old password of 11");
        assert_eq!(fake.password_changes.get(), 0);
        assert_eq!(fake.ids(), ["11"]);
        // The next recover makes it.
        let fake = Fake {
            refuse_link_for: None,
            ..fake
        };
        let recovered = fake.recover(&settings, "room-1").unwrap();
        assert_eq!(
            fake.link(&recovered.read_write.id).access,
            Access::ReadWrite
        );
        assert_eq!(recovered.read.id, "11");
        assert_eq!(fake.link("11").password, recovered.read.password);
    }

    #[test]
    fn a_missing_link_whose_creation_lost_its_answer_is_taken_over_by_the_next_recover() {
        let settings = settings();
        for client_chooses_ids in [false, true] {
            let fake = Fake {
                client_chooses_ids,
                lose_answer_for: Some(Access::Read),
                ..Fake::default()
            }
            .with_folder("room-1", &[("12", Access::ReadWrite, 2)]);
            let error = fake.recover(&settings, "room-1").unwrap_err();
            assert!(matches!(error, Error::Timeout(_)), "{error:?}");
            // The link was made all the same, and is left (never deleted).
            assert_eq!(fake.links.borrow().len(), 2);
            let lost = fake.links_of("room-1")[1].id.clone();
            let fake = Fake {
                lose_answer_for: None,
                ..fake
            };
            let recovered = fake.recover(&settings, "room-1").unwrap();
            // Found and given a new password, not made a second time.
            assert_eq!(recovered.read.id, lost);
            assert_eq!(fake.made_links.get(), 1);
            assert_eq!(fake.links.borrow().len(), 2);
            assert_eq!(fake.link(&lost).password, recovered.read.password);
        }
    }

    #[test]
    fn recover_refuses_a_link_listed_without_its_id() {
        let settings = settings();
        let fake = Fake::default().with_folder("room-1", &[("", Access::Read, 1)]);
        let error = fake.recover(&settings, "room-1").unwrap_err();
        assert!(matches!(error, Error::Protocol(_)), "{error:?}");
        assert_eq!(fake.password_changes.get(), 0);
        assert_eq!(fake.made_links.get(), 0);
    }
}
