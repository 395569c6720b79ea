//! The handle `create` returns and `delete` gets back (contract 0.3): what NextCloud needs to
//! find a room's folder and its two links again — the folder's path and the two shares' ids —
//! as JSON, e.g. `{"path":"meetings/room-1","read":"17","read_write":"18"}`. The host stores it
//! without reading it; no secret is in it.

use serde::{Deserialize, Serialize};

use crate::errors::Error;
use crate::nextcloud::Created;
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;
use provider_kit::created::JsonHandle;

/// A handle, read or to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    /// The folder's path below the account's root, segments joined by `/`.
    pub path: String,
    /// The read-only share's id.
    pub read: String,
    /// The read-write share's id.
    pub read_write: String,
}

impl JsonHandle for Handle {}

impl Handle {
    pub fn of(created: &Created) -> Self {
        Handle {
            path: created.folder.display(),
            read: created.read.id.clone(),
            read_write: created.read_write.id.clone(),
        }
    }

    /// Reads `text`, which must describe `room`'s folder under the configured directory: a
    /// handle is never trusted to point `delete` elsewhere.
    pub fn read(
        settings: &Settings,
        room: &str,
        text: &str,
    ) -> Result<(Handle, FolderPath), Error> {
        let handle = Handle::decode(text, "a NextCloud provider")?;
        let folder = FolderPath::of_handle(&settings.directory, room, &handle.path)?;
        if handle.read.is_empty() || handle.read_write.is_empty() {
            return Err(Error::Protocol(
                "the folder's handle lacks a share id".into(),
            ));
        }
        Ok((handle, folder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::bindings::shared_folder::provider::types::{Setting, SettingValue};

    fn settings(directory: &str) -> Settings {
        let text = |name: &str, value: &str| Setting {
            name: name.into(),
            value: SettingValue::Text(value.into()),
        };
        Settings::from_wit(&[
            text("url", "https://cloud.example.com/"),
            text("username", "opentalk"),
            text("directory", directory),
        ])
        .unwrap()
    }

    fn handle(path: &str) -> Handle {
        Handle {
            path: path.into(),
            read: "17".into(),
            read_write: "18".into(),
        }
    }

    #[test]
    fn a_handle_reads_back_as_written() {
        let settings = settings("meetings");
        let written = handle("meetings/räum \"1\"");
        let text = written.encode();
        let (read, folder) = Handle::read(&settings, "räum \"1\"", &text).unwrap();
        assert_eq!(read, written);
        assert_eq!(folder.display(), "meetings/räum \"1\"");
    }

    #[test]
    fn a_handle_never_points_delete_elsewhere() {
        let settings = settings("meetings");
        let other_room = handle("meetings/room-2").encode();
        assert!(matches!(
            Handle::read(&settings, "room-1", &other_room),
            Err(Error::InvalidRoom(_))
        ));
        let outside = handle("elsewhere/room-1").encode();
        assert!(matches!(
            Handle::read(&settings, "room-1", &outside),
            Err(Error::InvalidRoom(_))
        ));
        assert!(matches!(
            Handle::read(&settings, "room-1", "not json"),
            Err(Error::Protocol(_))
        ));
        let no_id = Handle {
            read: String::new(),
            ..handle("meetings/room-1")
        };
        assert!(matches!(
            Handle::read(&settings, "room-1", &no_id.encode()),
            Err(Error::Protocol(_))
        ));
    }
}
