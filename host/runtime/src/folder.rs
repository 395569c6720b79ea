//! A room's shared folder as the host keeps it: what the provider's `create` returned, with
//! the room, which provider made it (and under which contract and settings) and when.

use serde::{Deserialize, Serialize};

use crate::contract::{Contract, Created};
use crate::secret::Secret;

/// One public link of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// The public URL a participant opens.
    pub url: String,
    /// The link's password.
    pub password: Secret,
}

/// Who made a folder: the provider, the contract it was served by, the component and the
/// storage settings. Its delete goes to the same, even after a swap or a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maker {
    /// The provider's name.
    pub provider: String,
    /// The contract version the component exports (`0.2`, `0.3`).
    pub contract: Contract,
    /// SHA-256 of the component, in hex.
    pub digest: String,
    /// Which storage settings: [`crate::SharedFolderConfig::storage_id`] of the
    /// `[shared_folder]` section it was made with.
    pub storage: String,
    /// Which storage account: [`crate::SharedFolderConfig::account`] (no secret).
    pub account: String,
}

/// A room's shared folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderRecord {
    /// The meeting room.
    pub room: String,
    /// Who made it.
    pub maker: Maker,
    /// Where the folder is on the storage, in the provider's words (for people).
    pub path: String,
    /// The read-only link: every participant gets it.
    pub read: ShareLink,
    /// The read-write link: moderators only.
    pub read_write: ShareLink,
    /// What the provider needs to delete it again; only the provider reads it.
    pub handle: String,
    /// When it was created (seconds since the Unix epoch).
    pub created_at_unix: u64,
}

impl FolderRecord {
    pub(crate) fn new(room: &str, maker: Maker, created: Created) -> Self {
        let link = |link: crate::contract::CreatedLink| ShareLink {
            url: link.url,
            password: Secret::new(link.password),
        };
        FolderRecord {
            room: room.to_owned(),
            maker,
            path: created.location,
            read: link(created.read),
            read_write: link(created.read_write),
            handle: created.handle,
            created_at_unix: now_unix(),
        }
    }
}

impl Serialize for Contract {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Contract {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Contract::parse(&format!("{text}.0"))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown contract version {text:?}")))
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
