//! Identifiers as OpenCloud writes them (API-NOTES §1 "IDs"; docs/opencloud-behaviour.md, "IDs"):
//! drive ids `<storage>$<space>`, item ids `<storage>$<space>!<opaque>`, and the 15 random
//! letters of a link's id and token (API-NOTES §3.5). The storage id of personal spaces is a
//! UUID, the users' storage provider's (`52517fce-…` on the server seen), not `storage-users-1`
//! as the notes had it; each stand-in makes its own (`drive`).

use rand::Rng;

/// The storage and space of the share jail, the virtual "Shares" drive (reva `pkg/utils`
/// `ShareStorageProviderID`/`ShareStorageSpaceID`; docs/opencloud-behaviour.md, "The personal
/// drive").
pub(crate) const SHARE_JAIL_ID: &str = "a0ca6a90-a365-4782-871e-d44447bbc668";

/// A random version-4 UUID, lower-case and hyphenated: the form of space and node ids.
pub(crate) fn uuid() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `n` random letters `[a-zA-Z]`: a link's id and its token are 15 of them (API-NOTES §3.5, reva
/// `utils.RandString`; docs/opencloud-behaviour.md, "Creating a link").
pub(crate) fn letters(n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())]))
        .collect()
}

/// A drive or item id taken apart as reva's `storagespace.ParseID` does: `!` splits the opaque
/// id off, `$` the storage id from the space id (API-NOTES §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedId {
    pub storage: String,
    pub space: String,
    /// Empty for an id without `!`: the space's root (API-NOTES §1).
    pub opaque: String,
}

impl ParsedId {
    /// `None` for an empty id (reva refuses those).
    pub fn parse(id: &str) -> Option<ParsedId> {
        if id.is_empty() {
            return None;
        }
        let (space_part, opaque) = id.split_once('!').unwrap_or((id, ""));
        let (storage, space) = space_part.split_once('$').unwrap_or(("", space_part));
        Some(ParsedId {
            storage: storage.to_owned(),
            space: space.to_owned(),
            opaque: opaque.to_owned(),
        })
    }

    /// Whether it names a place in the space `space_id` of the storage `storage_id`.
    pub fn is_in(&self, storage_id: &str, space_id: &str) -> bool {
        self.storage == storage_id && self.space == space_id
    }
}

/// The drive id of a space: `<storage>$<space>` (API-NOTES §1).
pub(crate) fn drive_id(storage_id: &str, space_id: &str) -> String {
    format!("{storage_id}${space_id}")
}

/// An item id: `<storage>$<space>!<opaque>` (API-NOTES §1).
pub(crate) fn item_id(storage_id: &str, space_id: &str, opaque: &str) -> String {
    format!("{storage_id}${space_id}!{opaque}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_reva_does() {
        let id = ParsedId::parse("52517fce$abc!def").unwrap();
        assert_eq!(
            (id.storage.as_str(), id.space.as_str()),
            ("52517fce", "abc")
        );
        assert_eq!(id.opaque, "def");
        let root = ParsedId::parse("52517fce$abc").unwrap();
        assert_eq!(root.opaque, "");
        assert!(root.is_in("52517fce", "abc"));
        assert!(!root.is_in("storage-users-1", "abc"));
        assert_eq!(ParsedId::parse(""), None);
        assert_eq!(letters(15).len(), 15);
        assert!(letters(15).chars().all(|c| c.is_ascii_alphabetic()));
        assert_eq!(uuid().len(), 36);
        assert_eq!(item_id("s", "abc", "d"), "s$abc!d");
    }
}
