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

pub fn create(settings: &Settings, room: &str) -> Result<Created, Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let expiry = settings.expiry_days.map(Expiry::after_days);

    match storage::make_folder(settings, &folder) {
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
                undo(settings, &folder, &[]);
            }
            return Err(error);
        }
    }

    let mut made = Vec::new();
    match share(settings, &folder, expiry, &mut made) {
        Ok(created) => Ok(created),
        Err(error) => {
            undo(settings, &folder, &made);
            Err(error)
        }
    }
}

/// Both links and the handle. Pushes each link's id onto `made` as soon as it exists, so a
/// failure after it can remove it.
fn share(
    settings: &Settings,
    folder: &FolderPath,
    expiry: Option<Expiry>,
    made: &mut Vec<String>,
) -> Result<Created, Error> {
    let mut link = |access: Access| -> Result<Link, Error> {
        let password = password::generate();
        match storage::create_link(settings, folder, access, &password, expiry) {
            Ok(MadeLink { id, url }) => {
                made.push(id.clone());
                Ok(Link { id, url, password })
            }
            Err(error) => Err(errors::redact(error, &password)),
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

pub fn delete(settings: &Settings, room: &str, handle: &str) -> Result<(), Error> {
    let (handle, folder) = Handle::read(settings, room, handle)?;
    // The links first: a link must never outlive its folder.
    gone(storage::delete_link(settings, &handle.read))?;
    gone(storage::delete_link(settings, &handle.read_write))?;
    gone(storage::delete_folder(settings, &folder))
}

pub fn purge(settings: &Settings, room: &str) -> Result<(), Error> {
    let folder = FolderPath::for_room(&settings.directory, room)?;
    let links = match storage::find_links(settings, &folder) {
        Err(Error::NotFound(_)) => Vec::new(),
        found => found?,
    };
    for id in links {
        gone(storage::delete_link(settings, &id))?;
    }
    gone(storage::delete_folder(settings, &folder))
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

/// Removes what a failed create made: the links in `link_ids`, then — only if they are all
/// gone — the folder. Best effort: the caller reports the original error, and what is left
/// is for `purge`, which a host calls after a failed create that may have left something.
fn undo(settings: &Settings, folder: &FolderPath, link_ids: &[String]) {
    let links_gone = link_ids
        .iter()
        .all(|id| gone(storage::delete_link(settings, id)).is_ok());
    if links_gone {
        let _ = storage::delete_folder(settings, folder);
    }
}

/// These pin the template as it stands: every storage call answers `remote` 501. Replace
/// them once `storage.rs` makes real calls (those need a host, and a stand-in of the storage:
/// see `docs/writing-a-provider.md`).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::shared_folder::provider::types::{RemoteError, Setting, SettingValue};

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

    #[test]
    fn only_a_refusal_means_nothing_was_made() {
        assert!(!may_have_made(&Error::Unauthorized("no".into())));
        assert!(!may_have_made(&Error::AlreadyExists("there".into())));
        assert!(may_have_made(&Error::Transport("reset".into())));
        assert!(may_have_made(&errors::remote(500, "")));
    }
}
