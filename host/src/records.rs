//! The folder records the host keeps: which room has which folder and links.
//!
//! Held in memory for now, behind one lock; the record is what `delete` hands back to the
//! provider and what `roles.rs` turns into a participant's view.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::bindings::{Share, SharedFolder};
use crate::secret::Secret;

/// One public link of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareLink {
    pub id: String,
    pub url: String,
    pub password: Secret,
}

/// A room's shared folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderRecord {
    pub room: String,
    /// The provider that created it.
    pub provider: String,
    pub path: String,
    pub read: ShareLink,
    pub read_write: ShareLink,
    pub created_at_unix: u64,
}

impl FolderRecord {
    pub fn new(room: &str, provider: &str, folder: SharedFolder) -> Self {
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
            created_at_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// The record in the contract's terms, for the provider's `delete`.
    pub fn to_wit(&self) -> SharedFolder {
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

/// Room → folder.
#[derive(Debug, Default)]
pub struct Records {
    rooms: Mutex<HashMap<String, FolderRecord>>,
}

impl Records {
    pub fn get(&self, room: &str) -> Option<FolderRecord> {
        self.lock().get(room).cloned()
    }

    pub fn insert(&self, record: FolderRecord) {
        self.lock().insert(record.room.clone(), record);
    }

    pub fn remove(&self, room: &str) -> Option<FolderRecord> {
        self.lock().remove(room)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, FolderRecord>> {
        // Each operation leaves the map consistent; a panic elsewhere cannot break it.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }
}
