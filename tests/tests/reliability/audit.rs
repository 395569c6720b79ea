//! What the stand-in holds against what the host recorded: orphans (on the storage, in no
//! record) and lost records (recorded, not on the storage).

use shared_folder_harness::StandIn;
use shared_folder_host::{FolderRecord, RoomState, SharedFolders};

/// Where the test configuration puts room folders.
pub const DIRECTORY: &str = "opentalk/meetings";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Audit {
    /// Room folders on the storage without a record.
    pub orphan_folders: Vec<String>,
    /// Shares on the storage that no record names.
    pub orphan_shares: Vec<u64>,
    /// Rooms whose record names a folder or share the storage does not have.
    pub lost_records: Vec<String>,
}

impl Audit {
    pub fn clean(&self) -> bool {
        *self == Audit::default()
    }

    /// Compares the stand-in with the host's records of `rooms` (every room the run used).
    /// A room listed in `deleting` may have lost part of its folder to a failed delete, and
    /// is only checked for orphans.
    pub fn of(
        standin: &StandIn,
        host: &SharedFolders,
        rooms: &[String],
        deleting: &[String],
    ) -> Audit {
        let storage = standin.storage();
        let mut audit = Audit::default();
        let mut recorded_shares = Vec::new();
        let prefix = format!("{DIRECTORY}/");
        for path in storage.nodes.keys() {
            let Some(room) = path.strip_prefix(&prefix) else {
                continue;
            };
            if room.contains('/') {
                continue;
            }
            let recorded = rooms.iter().any(|r| r == room) && known(host, room).is_some();
            if !recorded {
                audit.orphan_folders.push(room.to_owned());
            }
        }
        for room in rooms {
            let Some(record) = known(host, room) else {
                continue;
            };
            // A link is known by its token, the last segment of its URL.
            let tokens: Vec<String> = [&record.read.url, &record.read_write.url]
                .iter()
                .map(|url| url.rsplit('/').next().unwrap_or_default().to_owned())
                .collect();
            recorded_shares.extend(tokens.iter().cloned());
            if deleting.contains(room) {
                continue;
            }
            let shares_there = tokens
                .iter()
                .all(|token| storage.shares.values().any(|share| &share.token == token));
            if !storage.is_folder(&record.path) || !shares_there {
                audit.lost_records.push(room.clone());
            }
        }
        for (id, share) in &storage.shares {
            if !recorded_shares.contains(&share.token) {
                audit.orphan_shares.push(*id);
            }
        }
        audit
    }
}

/// The folder the host keeps a record of for `room`: a ready one, or one whose delete has begun
/// and is still to be finished (the host will remove it; it is no orphan).
fn known(host: &SharedFolders, room: &str) -> Option<FolderRecord> {
    match host.room_state(room) {
        Ok(Some(RoomState::Ready(record) | RoomState::Deleting(record))) => Some(record),
        _ => None,
    }
}
