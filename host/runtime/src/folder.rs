//! A room's shared folder as the host keeps it: what the provider's `create` returned, with
//! the room, the provider that made it and when.

use serde::{Deserialize, Serialize};

use crate::bindings::{Share, SharedFolder};
use crate::secret::Secret;

/// One public link of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// The storage's id of the link (to delete it).
    pub id: String,
    /// The public URL a participant opens.
    pub url: String,
    /// The link's password.
    pub password: Secret,
}

/// A room's shared folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderRecord {
    /// The meeting room.
    pub room: String,
    /// The provider that created it.
    pub provider: String,
    /// The folder's path on the storage, as the provider names it.
    pub path: String,
    /// The read-only link: every participant gets it.
    pub read: ShareLink,
    /// The read-write link: moderators only.
    pub read_write: ShareLink,
    /// When it was created (seconds since the Unix epoch).
    pub created_at_unix: u64,
}

impl FolderRecord {
    pub(crate) fn new(room: &str, provider: &str, folder: SharedFolder) -> Self {
        let link = |share: Share| ShareLink {
            id: share.id,
            url: share.url,
            password: Secret::new(share.password),
        };
        FolderRecord {
            room: room.to_owned(),
            provider: provider.to_owned(),
            path: folder.path,
            read: link(folder.read),
            read_write: link(folder.read_write),
            created_at_unix: now_unix(),
        }
    }

    /// The record in the contract's terms, for the provider's `delete`.
    pub(crate) fn to_wit(&self) -> SharedFolder {
        let share = |link: &ShareLink| Share {
            id: link.id.clone(),
            url: link.url.clone(),
            password: link.password.expose().to_owned(),
        };
        SharedFolder {
            path: self.path.clone(),
            read: share(&self.read),
            read_write: share(&self.read_write),
        }
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
