//! NextCloud's file locks, as far as a shared-folder provider meets them
//! (docs/nextcloud-behaviour.md, "Locking"): while a share of a folder is being deleted the folder
//! is locked, and a DELETE of it answers 423 Locked (recording `15`); a share DELETE that arrives
//! while its folder is being deleted loses the race and answers 404 with NextCloud's HTML page
//! (recording `23`).

use std::sync::Arc;

use super::Shared;

/// What a request in flight holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A share DELETE: the lock of the share's folder.
    Unsharing(String),
    /// A folder DELETE: the folder, with its shares.
    Deleting(String),
}

/// A lock held by a request in flight; released when dropped.
pub(super) struct Lock {
    shared: Arc<Shared>,
    id: u64,
}

impl Lock {
    pub(super) fn take(shared: &Arc<Shared>, held: Held) -> Self {
        let id = shared.world().locks.take(held);
        Lock {
            shared: Arc::clone(shared),
            id,
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.shared.world().locks.release(self.id);
    }
}

#[derive(Debug, Default)]
pub struct Locks {
    held: Vec<(u64, Held)>,
    next: u64,
    /// How many answers were 423 Locked.
    pub locked_answers: usize,
}

/// Whether `path` is `folder` or lies below it.
fn within(path: &str, folder: &str) -> bool {
    path == folder
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Locks {
    /// Notes that a request holds `held` until [`Locks::release`] with the returned id.
    pub fn take(&mut self, held: Held) -> u64 {
        self.next += 1;
        self.held.push((self.next, held));
        self.next
    }

    pub fn release(&mut self, id: u64) {
        self.held.retain(|(other, _)| *other != id);
    }

    /// Whether a request that is to hold `held` meets one in flight that it conflicts with: a
    /// folder's DELETE while a share of it is being deleted (it will answer 423), or a share's
    /// DELETE while its folder is being deleted (it has lost the race: HTML 404). Asked when the
    /// request arrives, before it takes its own lock.
    pub fn conflicts(&self, held: &Held) -> bool {
        self.held.iter().any(|(_, other)| match (held, other) {
            (Held::Deleting(folder), Held::Unsharing(path)) => within(path, folder),
            (Held::Unsharing(path), Held::Deleting(folder)) => within(path, folder),
            _ => false,
        })
    }
}
