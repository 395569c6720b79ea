//! Where a room's folder lives, and how its name is written into URLs.
//!
//! The folder is `directory/<room>`. A room id becomes exactly one path segment: ids that
//! could step out of `directory` (`..`, separators) or confuse a server (control characters)
//! are refused rather than rewritten, so two rooms can never map to the same folder.

use crate::prelude::*;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, PercentEncode, utf8_percent_encode};

use crate::errors::Error;

/// Characters escaped in a URL path segment: all but RFC 3986's unreserved ones.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `segment` written as one URL path segment, percent-encoded.
pub fn encode_segment(segment: &str) -> PercentEncode<'_> {
    utf8_percent_encode(segment, SEGMENT)
}

/// The longest segment accepted, in bytes (common file-system limit).
const MAX_SEGMENT_BYTES: usize = 255;

/// Checks that `segment` can be one folder name, and says why not.
pub fn check_segment(segment: &str) -> Result<(), &'static str> {
    if segment.is_empty() {
        return Err("is empty");
    }
    if segment == "." || segment == ".." {
        return Err("must not be '.' or '..'");
    }
    if segment.contains(['/', '\\']) {
        return Err("must not contain '/' or '\\'");
    }
    if segment.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    if segment.len() > MAX_SEGMENT_BYTES {
        return Err("is longer than 255 bytes");
    }
    Ok(())
}

/// Splits the configured `directory` into segments; leading, trailing and doubled slashes are
/// allowed, `.`/`..` and control characters are not.
pub fn directory_segments(directory: &str) -> Result<Vec<String>, String> {
    directory
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            check_segment(s)
                .map(|()| s.to_owned())
                .map_err(|reason| format!("segment {s:?} {reason}"))
        })
        .collect()
}

/// A folder below the account's root, as segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderPath {
    segments: Vec<String>,
}

impl FolderPath {
    /// The folder of `room`: `directory/<room>`, `directory` as [`directory_segments`] made it.
    pub fn for_room(directory: &[String], room: &str) -> Result<Self, Error> {
        check_segment(room).map_err(|reason| Error::InvalidRoom(format!("room id {reason}")))?;
        let mut segments = directory.to_vec();
        segments.push(room.to_owned());
        Ok(FolderPath { segments })
    }

    /// The configured directory itself (the account's root when `directory` is empty), whose
    /// folders are the rooms'.
    pub fn directory(directory: &[String]) -> Self {
        FolderPath {
            segments: directory.to_vec(),
        }
    }

    /// Reads back a path that `create` returned, refusing any that is not a room folder
    /// directly inside the configured directory, so that `delete` cannot be pointed at
    /// anything else.
    pub fn of_created(directory: &[String], path: &str) -> Result<Self, Error> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let outside = || {
            Error::InvalidRoom(format!(
                "folder {path:?} is not a room folder inside the configured directory"
            ))
        };
        let (room, parent) = segments.split_last().ok_or_else(outside)?;
        if parent != directory {
            return Err(outside());
        }
        Self::for_room(directory, room)
    }

    /// The folder a handle names at `path`, which must be `room`'s under `directory`: a handle
    /// is never trusted to point `delete` elsewhere.
    pub fn of_handle(directory: &[String], room: &str, path: &str) -> Result<Self, Error> {
        let folder = Self::of_created(directory, path)?;
        if folder != Self::for_room(directory, room)? {
            return Err(Error::InvalidRoom(format!(
                "the handle names the folder {path:?}, not room {room:?}'s"
            )));
        }
        Ok(folder)
    }

    /// The path as users see it: `a/b/room` (no leading slash, nothing escaped).
    pub fn display(&self) -> String {
        self.segments.join("/")
    }

    /// The path's segments, outermost first; the last is the room's.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// This folder's ancestors inside it, outermost first, then the folder itself.
    pub fn with_ancestors(&self) -> impl Iterator<Item = FolderPath> + '_ {
        (1..=self.segments.len()).map(|n| FolderPath {
            segments: self.segments[..n].to_vec(),
        })
    }

    /// The path for a URL, each segment percent-encoded, each after a `/`: `/a/b/r%C3%A4um`.
    pub fn encoded(&self) -> String {
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            path.extend(encode_segment(segment));
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(segments: &[&str]) -> Vec<String> {
        segments.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn escaping_room_ids_are_refused() {
        let s = directory(&["meetings"]);
        for room in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "a\\b",
            "a\nb",
            "a\u{0}b",
            &"x".repeat(256),
        ] {
            assert!(
                matches!(FolderPath::for_room(&s, room), Err(Error::InvalidRoom(_))),
                "{room:?} was accepted"
            );
        }
    }

    #[test]
    fn segments_are_percent_encoded() {
        let s = directory(&["opentalk", "meetings"]);
        let folder = FolderPath::for_room(&s, "Übung #1 & co?").unwrap();
        assert_eq!(
            folder.encoded(),
            "/opentalk/meetings/%C3%9Cbung%20%231%20%26%20co%3F"
        );
        assert_eq!(folder.display(), "opentalk/meetings/Übung #1 & co?");
        assert_eq!(encode_segment("a$b!c~d").to_string(), "a%24b%21c~d");
    }

    #[test]
    fn ancestors_come_outermost_first() {
        let s = directory(&["a", "b"]);
        let folder = FolderPath::for_room(&s, "r").unwrap();
        let all: Vec<String> = folder.with_ancestors().map(|f| f.display()).collect();
        assert_eq!(all, ["a", "a/b", "a/b/r"]);
        assert_eq!(folder.segments(), ["a", "b", "r"]);
    }

    #[test]
    fn delete_accepts_only_room_folders_in_the_directory() {
        let s = directory(&["a", "b"]);
        assert!(FolderPath::of_created(&s, "a/b/room").is_ok());
        assert!(FolderPath::of_created(&s, "/a/b/room/").is_ok());
        for path in ["", "a/b", "a/room", "a/b/c/room", "x/b/room", "a/b/.."] {
            assert!(
                FolderPath::of_created(&s, path).is_err(),
                "{path:?} was accepted"
            );
        }
    }

    #[test]
    fn a_handle_names_the_rooms_folder_or_is_refused() {
        let s = directory(&["a"]);
        let folder = FolderPath::of_handle(&s, "room", "a/room").unwrap();
        assert_eq!(folder, FolderPath::for_room(&s, "room").unwrap());
        for (room, path) in [("room", "a/other"), ("room", "b/room"), ("..", "a/..")] {
            assert!(
                matches!(
                    FolderPath::of_handle(&s, room, path),
                    Err(Error::InvalidRoom(_))
                ),
                "{room:?} {path:?}"
            );
        }
    }

    #[test]
    fn directory_rejects_dot_segments() {
        assert!(directory_segments("a/./b").is_err());
        assert!(directory_segments("a/../b").is_err());
        assert_eq!(directory_segments("//a//b/").unwrap(), ["a", "b"]);
        assert!(directory_segments("").unwrap().is_empty());
    }
}
