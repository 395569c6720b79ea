//! The contract's three procedures, written against [`crate::storage`]: keep these, fill in
//! that.
//!
//! - [`create`]: the folder, then two links, each with its own CSPRNG password; all or
//!   nothing — a failed step removes what this call made before the error is returned.
//! - [`delete`]: the handle read and checked against the room; both links, then — only once
//!   both are gone — the folder. Already gone counts as deleted, so a repeated delete
//!   succeeds and one that failed midway is finished by the next.
//! - [`purge`]: as `delete`, from the settings and the room alone: the links are looked up on
//!   the folder. Succeeds when there is nothing to remove.
//!
//! The template's storage calls all fail with `remote` 501, so as it stands `create`,
//! `delete` and `purge` fail with that error after their own checks (room id, handle).

use crate::errors::{self, Error};
use crate::expiry::Expiry;
use crate::handle::Handle;
use crate::password;
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;
use crate::storage::{self, Access, Made, MadeLink};

/// One public link: the storage's id, the URL, the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: String,
    pub url: String,
    pub password: String,
}

/// What [`create`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub folder: FolderPath,
    pub read: Link,
    pub read_write: Link,
    /// The handle's text, for the host to keep and hand to `delete`.
    pub handle: String,
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

    fn settings() -> Settings {
        let text = |name: &str, value: &str| Setting {
            name: name.into(),
            value: SettingValue::Text(value.into()),
        };
        Settings::from_wit(&[
            text("url", "https://storage.example.com/"),
            text("username", "meetings-bot"),
            text("directory", "meetings"),
        ])
        .unwrap()
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

    /// A storage in memory: it makes what it is asked to, and can lose the answer to one
    /// link's creation (the link is made, the caller hears a timeout).
    #[derive(Default)]
    struct Fake {
        /// Whether the client names the links (as copyparty does), or the storage does.
        client_chooses_ids: bool,
        /// The link whose creation's answer is lost.
        lose_answer_for: Option<Access>,
        /// Whether listing the folder's links fails.
        listing_fails: bool,
        folder: Cell<bool>,
        links: RefCell<Vec<String>>,
        made_links: Cell<u32>,
        listings: Cell<u32>,
    }

    impl Storage for Fake {
        fn make_folder(&self, _: &Settings, _: &FolderPath) -> Result<Made, Error> {
            Ok(if self.folder.replace(true) {
                Made::Existed
            } else {
                Made::Created
            })
        }
        fn link_id(&self, _: &Settings, _: &FolderPath, access: Access) -> Option<String> {
            self.client_chooses_ids
                .then(|| format!("room-1-{access:?}").to_lowercase())
        }
        fn create_link(
            &self,
            _: &Settings,
            _: &FolderPath,
            access: Access,
            id: Option<&str>,
            _: &str,
            _: Option<Expiry>,
        ) -> Result<MadeLink, Error> {
            assert_eq!(id.is_some(), self.client_chooses_ids);
            self.made_links.set(self.made_links.get() + 1);
            let id = id.map_or_else(|| format!("{}", 100 + self.made_links.get()), str::to_owned);
            self.links.borrow_mut().push(id.clone());
            if self.lose_answer_for == Some(access) {
                return Err(Error::Timeout("the answer was lost".into()));
            }
            let url = format!("https://storage.example.com/s/{id}");
            Ok(MadeLink { id, url })
        }
        fn find_links(&self, _: &Settings, _: &FolderPath) -> Result<Vec<String>, Error> {
            self.listings.set(self.listings.get() + 1);
            if self.listing_fails {
                return Err(errors::remote(500, "no listing today"));
            }
            Ok(self.links.borrow().clone())
        }
        fn delete_link(&self, _: &Settings, id: &str) -> Result<(), Error> {
            let mut links = self.links.borrow_mut();
            let before = links.len();
            links.retain(|link| link != id);
            if links.len() == before {
                return Err(Error::NotFound(format!("no link {id}")));
            }
            Ok(())
        }
        fn delete_folder(&self, _: &Settings, _: &FolderPath) -> Result<(), Error> {
            assert!(self.links.borrow().is_empty(), "a link outlives its folder");
            if self.folder.replace(false) {
                Ok(())
            } else {
                Err(Error::NotFound("no folder".into()))
            }
        }
    }

    impl Fake {
        fn is_empty(&self) -> bool {
            !self.folder.get() && self.links.borrow().is_empty()
        }

        fn create(&self, settings: &Settings) -> Result<Created, Error> {
            // A deterministic stand-in for the CSPRNG (xorshift): two different passwords.
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            let mut random = move |len: usize| -> Vec<u8> {
                (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        (state >> 32) as u8
                    })
                    .collect()
            };
            create_on(self, settings, "room-1", &mut || {
                password::generate_from(&mut random)
            })
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
        assert!(fake.is_empty(), "{:?}", fake.links.borrow());
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
            assert!(fake.is_empty(), "{lost:?}: {:?}", fake.links.borrow());
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
        assert!(fake.folder.get());
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
}
