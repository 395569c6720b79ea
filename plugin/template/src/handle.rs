//! The handle: text `create` returns, the host stores as it is, and `delete` gets back.
//!
//! Here it is JSON: `{"v":1,"path":"meetings/room-1","read":"17","read_write":"18"}` — the
//! format's version, the folder's path, and the storage's ids of the two links. Put in what
//! `delete` needs to find the folder and both links again, nothing more:
//! - **no secret**: the host does not encrypt it (a link's password is not needed to delete
//!   the link; an id is);
//! - **at most 16 KiB** ([`MAX_BYTES`]): the host refuses a larger one;
//! - **readable by the next build**: a room created by this build may be deleted by the
//!   next one. Add fields with `#[serde(default)]` (unknown fields are ignored when read),
//!   and raise [`VERSION`] only together with code that still reads every older version.
//!
//! A handle is never trusted to point `delete` elsewhere: [`Handle::read`] refuses one that
//! does not name `room`'s folder under the configured `directory`.

use serde::{Deserialize, Serialize};

use crate::errors::Error;
use crate::paths::FolderPath;
use crate::prelude::*;
use crate::settings::Settings;

/// The largest handle the host accepts, in bytes.
pub const MAX_BYTES: usize = 16 * 1024;

/// The format this build writes.
pub const VERSION: u32 = 1;

/// A handle, read or to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    /// The format's version ([`VERSION`]).
    pub v: u32,
    /// The folder's path below the account's root, names joined by `/`.
    pub path: String,
    /// The storage's id of the read-only link.
    pub read: String,
    /// The storage's id of the read-write link.
    pub read_write: String,
}

impl Handle {
    /// The handle of `folder` and its two links.
    pub fn new(folder: &FolderPath, read_id: &str, read_write_id: &str) -> Self {
        Handle {
            v: VERSION,
            path: folder.display(),
            read: read_id.to_owned(),
            read_write: read_write_id.to_owned(),
        }
    }

    /// The handle as JSON text; a `protocol` error when a link's id is empty (the storage's
    /// answer did not give one), or when it would exceed [`MAX_BYTES`] (the storage's ids are
    /// that long): never a handle that [`Handle::read`] would refuse.
    pub fn encode(&self) -> Result<String, Error> {
        if self.read.is_empty() || self.read_write.is_empty() {
            return Err(Error::Protocol(
                "the storage gave no id for a link, which the handle needs".into(),
            ));
        }
        // JSON writes a byte as at most six (`\u00XX`); the rest is keys and punctuation.
        let size = 64 + 6 * (self.path.len() + self.read.len() + self.read_write.len());
        let mut buffer = vec![0u8; size];
        let written = serde_json_core::to_slice(self, &mut buffer)
            .map_err(|_| Error::Protocol("the handle could not be written".into()))?;
        buffer.truncate(written);
        if buffer.len() > MAX_BYTES {
            return Err(Error::Protocol(format!(
                "the handle would be {} bytes, more than the {MAX_BYTES} the host keeps",
                buffer.len()
            )));
        }
        String::from_utf8(buffer)
            .map_err(|_| Error::Protocol("the handle could not be written".into()))
    }

    /// Reads `text`, which must describe `room`'s folder under the configured directory, and
    /// returns it with that folder.
    pub fn read(
        settings: &Settings,
        room: &str,
        text: &str,
    ) -> Result<(Handle, FolderPath), Error> {
        let unreadable = || Error::Protocol("the handle is not one this provider wrote".into());
        let mut unescaped = vec![0u8; text.len()];
        let (handle, _): (Handle, usize) =
            serde_json_core::from_slice_escaped(text.as_bytes(), &mut unescaped)
                .map_err(|_| unreadable())?;
        if handle.v != VERSION {
            // A later build would read every older version here.
            return Err(Error::Protocol(format!(
                "the handle has format version {}, this build reads {VERSION}",
                handle.v
            )));
        }
        let folder = FolderPath::for_room(&settings.directory, room)?;
        let named = handle.path.split('/').filter(|s| !s.is_empty());
        if !named.eq(folder.segments().iter().map(String::as_str)) {
            return Err(Error::InvalidRoom(format!(
                "the handle names the folder {:?}, not room {room:?}'s",
                handle.path
            )));
        }
        if handle.read.is_empty() || handle.read_write.is_empty() {
            return Err(Error::Protocol("the handle lacks a link's id".into()));
        }
        Ok((handle, folder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::shared_folder::provider::types::{Setting, SettingValue};

    fn settings(directory: &str) -> Settings {
        let text = |name: &str, value: &str| Setting {
            name: name.into(),
            value: SettingValue::Text(value.into()),
        };
        Settings::from_wit(&[
            text("url", "https://storage.example.com/"),
            text("username", "meetings-bot"),
            text("directory", directory),
        ])
        .unwrap()
    }

    fn handle_of(settings: &Settings, room: &str) -> Handle {
        let folder = FolderPath::for_room(&settings.directory, room).unwrap();
        Handle::new(&folder, "17", "18")
    }

    #[test]
    fn a_handle_reads_back_as_written() {
        let settings = settings("meetings");
        let room = "räum \"1\" && {ok}";
        let written = handle_of(&settings, room);
        let text = written.encode().unwrap();
        assert!(text.starts_with(r#"{"v":1,"path":"meetings/"#), "{text}");
        let (read, folder) = Handle::read(&settings, room, &text).unwrap();
        assert_eq!(read, written);
        assert_eq!(folder.display(), format!("meetings/{room}"));
    }

    #[test]
    fn a_handle_written_earlier_still_reads() {
        // Kept as text on purpose: what an earlier build wrote must stay readable.
        let settings = settings("meetings");
        let earlier = r#"{"v":1,"path":"meetings/room-1","read":"a","read_write":"b","extra":[1]}"#;
        let (handle, folder) = Handle::read(&settings, "room-1", earlier).unwrap();
        assert_eq!(
            (handle.read.as_str(), handle.read_write.as_str()),
            ("a", "b")
        );
        assert_eq!(folder.display(), "meetings/room-1");
    }

    #[test]
    fn a_handle_never_points_delete_elsewhere() {
        let settings = settings("meetings");
        let other_room = handle_of(&settings, "room-2").encode().unwrap();
        assert!(matches!(
            Handle::read(&settings, "room-1", &other_room),
            Err(Error::InvalidRoom(_))
        ));
        let elsewhere = handle_of(&self::settings("elsewhere"), "room-1")
            .encode()
            .unwrap();
        assert!(matches!(
            Handle::read(&settings, "room-1", &elsewhere),
            Err(Error::InvalidRoom(_))
        ));
        let parent = r#"{"v":1,"path":"meetings","read":"a","read_write":"b"}"#;
        assert!(matches!(
            Handle::read(&settings, "room-1", parent),
            Err(Error::InvalidRoom(_))
        ));
        assert!(matches!(
            Handle::read(&settings, "..", &other_room),
            Err(Error::InvalidRoom(_))
        ));
    }

    #[test]
    fn an_unreadable_handle_is_a_protocol_error() {
        let settings = settings("meetings");
        let no_id = r#"{"v":1,"path":"meetings/room-1","read":"","read_write":"b"}"#;
        let newer = r#"{"v":2,"path":"meetings/room-1","read":"a","read_write":"b"}"#;
        for text in [
            "",
            "not json",
            "{}",
            r#"{"path":"meetings/room-1"}"#,
            no_id,
            newer,
        ] {
            assert!(
                matches!(
                    Handle::read(&settings, "room-1", text),
                    Err(Error::Protocol(_))
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_handle_without_a_links_id_is_not_written() {
        let settings = settings("meetings");
        let folder = FolderPath::for_room(&settings.directory, "room-1").unwrap();
        for (read, read_write) in [("", "18"), ("17", "")] {
            assert!(matches!(
                Handle::new(&folder, read, read_write).encode(),
                Err(Error::Protocol(_))
            ));
        }
    }

    #[test]
    fn a_handle_over_16_kib_is_refused() {
        let settings = settings("meetings");
        let folder = FolderPath::for_room(&settings.directory, "room-1").unwrap();
        let long = "x".repeat(MAX_BYTES);
        assert!(matches!(
            Handle::new(&folder, &long, "18").encode(),
            Err(Error::Protocol(_))
        ));
    }
}
