//! Ids as OpenCloud writes them (API-NOTES §1 "IDs" [V]; "IDs"):
//! - a drive (space) id is `<storage>$<space>`, e.g. `storage-users-1$<uuid>`;
//! - an item id is `<storage>$<space>!<opaque>`: the drive's id, `!`, the node's;
//! - a link's (permission's) id is 15 random letters (API-NOTES §3.5 [V]), read here as any
//!   non-empty text.
//!
//! In URL paths each id is one segment, `$` written `%24` ("must be sent as %24", OpenTalk's
//! client; API-NOTES §1 [V]) and `!` as it is; the server unescapes each segment
//! (`url.PathUnescape`), so other escapes are harmless ("IDs").

use crate::errors::Error;
use crate::prelude::*;
use percent_encoding::{AsciiSet, PercentEncode, utf8_percent_encode};
use provider_kit::paths::SEGMENT;

/// What an id segment escapes: what a path segment escapes, but `!` (API-NOTES §1 [V]).
const ID: &AsciiSet = &SEGMENT.remove(b'!');

/// The longest id accepted, in bytes; OpenCloud's are under 100.
const MAX_ID: usize = 255;

/// `id` written as one URL path segment: `$` → `%24`, `!` kept.
pub fn encode(id: &str) -> PercentEncode<'_> {
    utf8_percent_encode(id, ID)
}

/// Whether `text` can be an id: not empty, at most 255 bytes, no `/`, white space or control
/// characters.
fn plausible(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID
        && !text
            .chars()
            .any(|c| c == '/' || c.is_whitespace() || c.is_control())
}

/// A drive's id: `<storage>$<space>`, both parts non-empty, no `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveId(String);

impl DriveId {
    pub fn parse(text: &str) -> Option<Self> {
        let (storage, space) = text.split_once('$')?;
        let valid = plausible(text)
            && !storage.is_empty()
            && !space.is_empty()
            && !space.contains('$')
            && !text.contains('!');
        valid.then(|| DriveId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An item's id: its drive's id, `!`, a non-empty node id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemId(String);

impl ItemId {
    /// Reads `text` as the id of an item in `drive`: an item of another drive, or the drive
    /// itself, is refused (`None`). A folder create made is never the space's root (whose
    /// id is `<drive>!<space>` from HEAD: API-NOTES §6 [V], "IDs").
    pub fn parse_in(drive: &DriveId, text: &str) -> Option<Self> {
        let node = text.strip_prefix(drive.as_str())?.strip_prefix('!')?;
        let space = drive.0.split_once('$').map_or("", |(_, space)| space);
        let valid = plausible(text) && !node.is_empty() && !node.contains('!') && node != space;
        valid.then(|| ItemId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A link's id (a permission's, in Graph's terms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkId(String);

impl LinkId {
    pub fn parse(text: &str) -> Option<Self> {
        plausible(text).then(|| LinkId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's folder and links by their ids, as a handle names them: the drive and item of
/// the folder, and both links (what `delete` needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub drive: DriveId,
    pub item: ItemId,
    pub read_write: LinkId,
    pub read: LinkId,
}

/// The error for an id OpenCloud (or a handle) gave that is not one.
pub fn unreadable(what: &str, text: &str) -> Error {
    Error::Protocol(format!(
        "{what} {:?} is not an OpenCloud id",
        provider_kit::errors::clip(text)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRIVE: &str = "storage-users-1$1284d238-aa92-42ce-bdc4-0b0000009157";

    fn drive() -> DriveId {
        DriveId::parse(DRIVE).unwrap()
    }

    #[test]
    fn a_dollar_is_escaped_and_a_bang_kept() {
        let item = format!("{DRIVE}!a0ca6a90-a365");
        assert_eq!(
            encode(&item).to_string(),
            "storage-users-1%241284d238-aa92-42ce-bdc4-0b0000009157!a0ca6a90-a365"
        );
        assert_eq!(encode("a/b c%").to_string(), "a%2Fb%20c%25");
        assert_eq!(encode("kTjNbZpQwLhXyRc").to_string(), "kTjNbZpQwLhXyRc");
    }

    #[test]
    fn drive_ids_have_a_storage_and_a_space() {
        assert_eq!(drive().as_str(), DRIVE);
        for bad in [
            "",
            "storage-users-1",
            "$space",
            "storage$",
            "a$b$c",
            "a$b!c",
            "a$b/c",
            "a$b c",
            "a$b\n",
        ] {
            assert_eq!(DriveId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(DriveId::parse(&format!("a${}", "x".repeat(300))), None);
    }

    #[test]
    fn item_ids_belong_to_their_drive() {
        let item = format!("{DRIVE}!0b0000009157-node");
        assert_eq!(ItemId::parse_in(&drive(), &item).unwrap().as_str(), item);
        let space = DRIVE.split_once('$').unwrap().1;
        for bad in [
            DRIVE.to_owned(),
            format!("{DRIVE}!"),
            format!("{DRIVE}!{space}"),
            format!("{DRIVE}!a!b"),
            format!("{DRIVE}x!node"),
            "storage-users-1$other!node".to_owned(),
            format!("{DRIVE}!no/de"),
        ] {
            assert_eq!(ItemId::parse_in(&drive(), &bad), None, "{bad:?}");
        }
    }

    #[test]
    fn link_ids_are_plain_text() {
        assert_eq!(
            LinkId::parse("kTjNbZpQwLhXyRc").unwrap().as_str(),
            "kTjNbZpQwLhXyRc"
        );
        for bad in ["", "a/b", "a b", "\u{0}"] {
            assert_eq!(LinkId::parse(bad), None, "{bad:?}");
        }
    }
}
