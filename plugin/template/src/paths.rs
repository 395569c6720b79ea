//! Where a room's folder lives: `directory/<room>`.
//!
//! A room id becomes exactly one folder name. The host passes only ids that are one folder
//! name already (not empty, not `.` or `..`, without `/`, `\` or control characters, at most
//! 255 bytes), but the provider checks again: ids that could step out of `directory` are
//! refused with `invalid-room`, never rewritten, so two rooms can never share a folder. Add
//! what the storage forbids besides (some refuse `:` or a trailing `.`).

use crate::errors::{self, Error};
use crate::prelude::*;

/// `segment` written as one URL path segment: every byte but RFC 3986's unreserved ones
/// (`A-Z a-z 0-9 - . _ ~`) percent-encoded, so a `/`, `?`, `#` or `%` in a name stays in it.
pub fn encode_segment(segment: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
    encoded
}

/// The longest folder name accepted, in bytes (the common file-system limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

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

/// Splits the configured `directory` into folder names. Leading, trailing and doubled `/` are
/// allowed (`""` and `/` are the account's root); `.`, `..` and control characters are not.
pub fn directory_segments(directory: &str) -> Result<Vec<String>, String> {
    directory
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            check_segment(s)
                .map(|()| s.to_owned())
                .map_err(|reason| format!("folder name {s:?} {reason}"))
        })
        .collect()
}

/// A folder below the account's root, as folder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderPath {
    segments: Vec<String>,
}

impl FolderPath {
    /// The folder of `room`: `directory/<room>`.
    pub fn for_room(directory: &[String], room: &str) -> Result<Self, Error> {
        check_segment(room).map_err(|reason| Error::InvalidRoom(format!("room id {reason}")))?;
        let mut segments = directory.to_vec();
        segments.push(room.to_owned());
        Ok(FolderPath { segments })
    }

    /// The folder `name` directly under `directory`, as the storage listed it (for
    /// `list-folders`): any name the storage may have, as long as it is one folder name — a
    /// name that is empty, `.`, `..` or holds a `/` would point elsewhere, and is a `protocol`
    /// error (the storage's answer was not read right). Unlike [`FolderPath::for_room`] it
    /// accepts a name no room id can be (`a\b`, one with a control character, or longer than
    /// 255 bytes): such a folder is there all the same, and is not a room's (`list-folders`
    /// leaves it out, with [`check_segment`]).
    pub fn listed(directory: &[String], name: &str) -> Result<Self, Error> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(Error::Protocol(errors::clip(&format!(
                "the storage listed {name:?} as a folder's name"
            ))));
        }
        let mut segments = directory.to_vec();
        segments.push(name.to_owned());
        Ok(FolderPath { segments })
    }

    /// The folder names, outermost first; the last is the room's.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The path as people read it, `meetings/room-42`: the `location` `create` returns, and
    /// what the handle keeps.
    pub fn display(&self) -> String {
        self.segments.join("/")
    }

    /// The path for a URL: each name percent-encoded ([`encode_segment`]), joined by `/`,
    /// without a leading `/`: `meetings/Room%20%231`.
    pub fn encoded(&self) -> String {
        let names: Vec<String> = self.segments.iter().map(|s| encode_segment(s)).collect();
        names.join("/")
    }

    /// This folder's ancestors, outermost first, then the folder itself: what to create, in
    /// order, when the storage does not create missing parents itself.
    pub fn with_ancestors(&self) -> impl Iterator<Item = FolderPath> + '_ {
        (1..=self.segments.len()).map(|n| FolderPath {
            segments: self.segments[..n].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(segments: &[&str]) -> Vec<String> {
        segments.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_folder_is_the_room_inside_the_directory() {
        let folder = FolderPath::for_room(&directory(&["meetings", "rooms"]), "Room #1").unwrap();
        assert_eq!(folder.display(), "meetings/rooms/Room #1");
        assert_eq!(folder.segments().last().unwrap(), "Room #1");
        let at_root = FolderPath::for_room(&[], "room-1").unwrap();
        assert_eq!(at_root.display(), "room-1");
    }

    #[test]
    fn room_ids_that_could_escape_are_refused() {
        let dir = directory(&["meetings"]);
        let too_long = "x".repeat(MAX_SEGMENT_BYTES + 1);
        for room in [
            "", ".", "..", "a/b", "../x", "a\\b", "a\nb", "a\u{0}b", &too_long,
        ] {
            assert!(
                matches!(FolderPath::for_room(&dir, room), Err(Error::InvalidRoom(_))),
                "{room:?} was accepted"
            );
        }
        assert!(FolderPath::for_room(&dir, &"x".repeat(MAX_SEGMENT_BYTES)).is_ok());
    }

    #[test]
    fn a_listed_name_is_one_folder_under_the_directory() {
        let dir = directory(&["meetings"]);
        for name in ["room-1", "a\\b", "a\tb", &"x".repeat(MAX_SEGMENT_BYTES + 1)] {
            let folder = FolderPath::listed(&dir, name).unwrap();
            assert_eq!(folder.segments(), ["meetings", name]);
        }
        assert_eq!(
            FolderPath::listed(&dir, "room-1").unwrap(),
            FolderPath::for_room(&dir, "room-1").unwrap()
        );
        for name in ["", ".", "..", "a/b", "/", "../x"] {
            assert!(
                matches!(FolderPath::listed(&dir, name), Err(Error::Protocol(_))),
                "{name:?} was accepted"
            );
        }
    }

    #[test]
    fn the_directory_is_split_and_checked() {
        assert_eq!(directory_segments("//a//b/").unwrap(), ["a", "b"]);
        assert!(directory_segments("").unwrap().is_empty());
        assert!(directory_segments("/").unwrap().is_empty());
        assert!(directory_segments("a/./b").is_err());
        assert!(directory_segments("a/../b").is_err());
        assert!(directory_segments("a/\tb").is_err());
    }

    #[test]
    fn names_are_percent_encoded_for_urls() {
        assert_eq!(encode_segment("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(
            encode_segment("Übung #1 & co?/%"),
            "%C3%9Cbung%20%231%20%26%20co%3F%2F%25"
        );
        let folder = FolderPath::for_room(&directory(&["my meetings"]), "Room #1").unwrap();
        assert_eq!(folder.encoded(), "my%20meetings/Room%20%231");
    }

    #[test]
    fn ancestors_come_outermost_first() {
        let folder = FolderPath::for_room(&directory(&["a", "b"]), "r").unwrap();
        let all: Vec<String> = folder.with_ancestors().map(|f| f.display()).collect();
        assert_eq!(all, ["a", "a/b", "a/b/r"]);
    }
}
