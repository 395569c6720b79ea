//! The folder records the host keeps: which room has which folder and links.
//!
//! Held in memory for now, behind one lock; the record is what `delete` hands back to the
//! provider and what `roles.rs` turns into a participant's view.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// One lock per room with an operation under way, so that two creates (or a create and a
/// delete) of the same room run one after the other instead of racing at the storage.
#[derive(Debug, Default)]
pub struct RoomLocks {
    held: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds a room's lock; releases it (and forgets the room when nobody waits) on drop.
pub struct RoomGuard<'a> {
    locks: &'a RoomLocks,
    room: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl RoomLocks {
    pub async fn lock(&self, room: &str) -> RoomGuard<'_> {
        let lock = Arc::clone(
            self.held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(room.to_owned())
                .or_default(),
        );
        let guard = lock.lock_owned().await;
        RoomGuard {
            locks: self,
            room: room.to_owned(),
            guard: Some(guard),
        }
    }

    #[cfg(test)]
    fn rooms(&self) -> usize {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for RoomGuard<'_> {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        let lock = Arc::clone(tokio::sync::OwnedMutexGuard::mutex(&guard));
        drop(guard);
        // Clones are only taken under the map's lock, so this count is stable here: the map's
        // reference and ours mean nobody else waits for the room.
        let mut held = self.locks.held.lock().unwrap_or_else(|p| p.into_inner());
        if Arc::strong_count(&lock) == 2 {
            held.remove(&self.room);
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, FolderRecord>> {
        // Each operation leaves the map consistent; a panic elsewhere cannot break it.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn room_locks_serialise_a_room_and_are_forgotten_after() {
        let locks = RoomLocks::default();
        let first = locks.lock("a").await;
        let other_room = locks.lock("b").await;
        let waiting = async {
            let _second = locks.lock("a").await;
        };
        tokio::pin!(waiting);
        // The second lock of "a" waits while the first is held …
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting)
                .await
                .is_err()
        );
        drop(first);
        // … and gets it once the first is released.
        waiting.await;
        drop(other_room);
        assert_eq!(locks.rooms(), 0);
    }
}
