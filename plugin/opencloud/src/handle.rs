//! The handle `create` returns and `delete` gets back (contract 0.3): what finds a room's folder
//! and its two links again. It has the shape of OpenTalk's `provider_data` for OpenCloud
//! (API-NOTES §0 [V]) — each link's drive, item and permission id — plus the folder's path:
//!
//! ```json
//! {"type":"opencloud_basic","path":"meetings/room-1",
//!  "write":{"drive_id":"storage-users-1$…","item_id":"storage-users-1$…!…","permission_id":"kTjNbZpQwLhXyRc"},
//!  "read":{"drive_id":"storage-users-1$…","item_id":"storage-users-1$…!…","permission_id":"AbCdEfGhIjKlMnO"}}
//! ```
//!
//! (`opencloud_basic` is OpenTalk's tag, kept as it is; it says nothing about how the host
//! authenticates.) The host stores it without reading it; no secret is in it. Reading it back
//! refuses one that does not describe the room's folder under the configured directory, or
//! whose ids do not fit together.

use serde::{Deserialize, Serialize};

use crate::errors::Error;
use crate::ids::{self, DriveId, ItemId, LinkId, Target};
use crate::opencloud::Created;
use crate::prelude::*;
use crate::settings::Settings;
use provider_kit::created::JsonHandle;
use provider_kit::paths::FolderPath;

/// OpenTalk's tag for an OpenCloud folder's data (API-NOTES §0 [V]).
const TYPE: &str = "opencloud_basic";

/// A handle, read or to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    #[serde(rename = "type")]
    pub kind: String,
    /// The folder's path in the personal space, segments joined by `/`.
    pub path: String,
    /// The read-write link.
    pub write: LinkData,
    /// The read-only link.
    pub read: LinkData,
}

/// One link as OpenTalk stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkData {
    pub drive_id: String,
    pub item_id: String,
    pub permission_id: String,
}

impl JsonHandle for Handle {}

impl Handle {
    pub fn of(created: &Created) -> Self {
        let link = |id: &LinkId| LinkData {
            drive_id: created.drive.as_str().to_owned(),
            item_id: created.item.as_str().to_owned(),
            permission_id: id.as_str().to_owned(),
        };
        Handle {
            kind: TYPE.to_owned(),
            path: created.folder.display(),
            write: link(&created.read_write.id),
            read: link(&created.read.id),
        }
    }

    /// Reads `text`, which must describe `room`'s folder under the configured directory, with
    /// one drive and one item for both links, the item in the drive: a handle is never trusted
    /// to point `delete` elsewhere. (That the drive is the account's personal drive, and the
    /// item the folder at the path, is checked with OpenCloud by `delete`.)
    pub fn read(
        settings: &Settings,
        room: &str,
        text: &str,
    ) -> Result<(Target, FolderPath), Error> {
        let handle = Handle::decode(text, "an OpenCloud provider")?;
        if handle.kind != TYPE {
            return Err(Error::Protocol(format!(
                "the folder's handle is of type {:?}, not {TYPE:?}",
                handle.kind
            )));
        }
        let folder = FolderPath::of_handle(&settings.directory, room, &handle.path)?;
        let (write, read) = (&handle.write, &handle.read);
        if write.drive_id != read.drive_id || write.item_id != read.item_id {
            return Err(Error::Protocol(
                "the folder's handle names two folders for its two links".into(),
            ));
        }
        let drive = DriveId::parse(&write.drive_id)
            .ok_or_else(|| ids::unreadable("the handle's drive id", &write.drive_id))?;
        let item = ItemId::parse_in(&drive, &write.item_id)
            .ok_or_else(|| ids::unreadable("the handle's item id", &write.item_id))?;
        let link = |data: &LinkData| {
            LinkId::parse(&data.permission_id)
                .ok_or_else(|| ids::unreadable("the handle's link id", &data.permission_id))
        };
        let target = Target {
            read_write: link(write)?,
            read: link(read)?,
            drive,
            item,
        };
        Ok((target, folder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::testing::{minimal, text};

    const DRIVE: &str = "storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157";
    const ITEM: &str = "storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157!4c510ada";

    fn settings(directory: &str) -> Settings {
        let mut settings = minimal("https://cloud.example.org/");
        settings.push(text("directory", directory));
        crate::settings::read(&settings).unwrap()
    }

    fn link(permission_id: &str) -> LinkData {
        LinkData {
            drive_id: DRIVE.into(),
            item_id: ITEM.into(),
            permission_id: permission_id.into(),
        }
    }

    fn handle(path: &str) -> Handle {
        Handle {
            kind: TYPE.into(),
            path: path.into(),
            write: link("kTjNbZpQwLhXyRc"),
            read: link("AbCdEfGhIjKlMnO"),
        }
    }

    #[test]
    fn a_handle_reads_back_as_written() {
        let settings = settings("meetings");
        let written = handle("meetings/räum \"1\"");
        let text = written.encode();
        assert!(text.starts_with(r#"{"type":"opencloud_basic","path":"meetings/räum \"1\"","write":{"drive_id":"storage-users-1$"#), "{text}");
        let (target, folder) = Handle::read(&settings, "räum \"1\"", &text).unwrap();
        assert_eq!(folder.display(), "meetings/räum \"1\"");
        assert_eq!(target.drive.as_str(), DRIVE);
        assert_eq!(target.item.as_str(), ITEM);
        assert_eq!(target.read_write.as_str(), "kTjNbZpQwLhXyRc");
        assert_eq!(target.read.as_str(), "AbCdEfGhIjKlMnO");
        // OpenTalk's own `provider_data` shape, keys in another order, reads too.
        let opentalk = format!(
            r#"{{"read":{{"permission_id":"AbCdEfGhIjKlMnO","item_id":"{ITEM}","drive_id":"{DRIVE}"}},"write":{{"drive_id":"{DRIVE}","item_id":"{ITEM}","permission_id":"kTjNbZpQwLhXyRc"}},"path":"/meetings/r/","type":"opencloud_basic"}}"#
        );
        assert!(Handle::read(&settings, "r", &opentalk).is_ok());
    }

    #[test]
    fn a_handle_never_points_delete_elsewhere() {
        let settings = settings("meetings");
        for (room, path) in [
            ("room-1", "meetings/room-2"),
            ("room-1", "elsewhere/room-1"),
            ("room-1", "meetings"),
            ("room-1", "meetings/room-1/inner"),
        ] {
            assert!(
                matches!(
                    Handle::read(&settings, room, &handle(path).encode()),
                    Err(Error::InvalidRoom(_))
                ),
                "{path}"
            );
        }
    }

    #[test]
    fn a_handle_whose_ids_do_not_fit_is_refused() {
        let settings = settings("meetings");
        let good = handle("meetings/room-1");
        let mut other_item = good.clone();
        other_item.read.item_id = format!("{DRIVE}!other");
        let mut other_drive = good.clone();
        other_drive.write.drive_id = "storage-users-1$other".into();
        other_drive.read.drive_id = "storage-users-1$other".into();
        let mut root = good.clone();
        root.write.item_id = DRIVE.into();
        root.read.item_id = DRIVE.into();
        let mut no_link = good.clone();
        no_link.read.permission_id = String::new();
        let mut nextcloud = good.clone();
        nextcloud.kind = "nextcloud".into();
        for bad in [other_item, other_drive, root, no_link, nextcloud] {
            assert!(
                matches!(
                    Handle::read(&settings, "room-1", &bad.encode()),
                    Err(Error::Protocol(_))
                ),
                "{bad:?}"
            );
        }
        for text in [
            "",
            "not json",
            "{}",
            r#"{"path":"meetings/room-1","read":"17","read_write":"18"}"#,
        ] {
            assert!(
                matches!(
                    Handle::read(&settings, "room-1", text),
                    Err(Error::Protocol(_))
                ),
                "{text}"
            );
        }
    }
}
