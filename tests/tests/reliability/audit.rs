//! What a stand-in holds against what the host recorded: orphans (on the storage, in no
//! record) and lost records (recorded, not on the storage). The same audit for every
//! provider's stand-in ([`Holdings`]).

use shared_folder_harness::StandIn;
use shared_folder_harness::stand_ins::AnyStandIn;
use shared_folder_host::{FolderRecord, RoomState, SharedFolders};

/// Where the test configuration puts room folders.
pub const DIRECTORY: &str = "opentalk/meetings";

/// What the audit reads of a stand-in.
pub trait Holdings {
    /// The room folders in [`DIRECTORY`], by name.
    fn room_folders(&self) -> Vec<String>;
    /// The tokens of every link held, on any folder.
    fn link_tokens(&self) -> Vec<String>;
    fn folder_exists(&self, path: &str) -> bool;
}

impl Holdings for AnyStandIn {
    fn room_folders(&self) -> Vec<String> {
        self.folders_in(DIRECTORY)
    }

    fn link_tokens(&self) -> Vec<String> {
        AnyStandIn::link_tokens(self)
    }

    fn folder_exists(&self, path: &str) -> bool {
        AnyStandIn::folder_exists(self, path)
    }
}

impl Holdings for StandIn {
    fn room_folders(&self) -> Vec<String> {
        self.entries_in(DIRECTORY)
    }

    fn link_tokens(&self) -> Vec<String> {
        self.storage()
            .shares
            .into_values()
            .map(|share| share.token)
            .collect()
    }

    fn folder_exists(&self, path: &str) -> bool {
        StandIn::folder_exists(self, path)
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Audit {
    /// Room folders on the storage without a record.
    pub orphan_folders: Vec<String>,
    /// Links on the storage that no record names (by token).
    pub orphan_links: Vec<String>,
    /// Rooms whose record names a folder or link the storage does not have.
    pub lost_records: Vec<String>,
}

impl Audit {
    pub fn clean(&self) -> bool {
        *self == Audit::default()
    }

    /// Compares the stand-in with the host's records of `rooms` (every room the run used).
    /// A room listed in `deleting` may have lost part of its folder to a failed delete, and
    /// is only checked for orphans.
    pub async fn of(
        standin: &impl Holdings,
        host: &SharedFolders,
        rooms: &[String],
        deleting: &[String],
    ) -> Audit {
        let mut audit = Audit::default();
        for room in standin.room_folders() {
            let recorded = rooms.contains(&room) && known(host, &room).await.is_some();
            if !recorded {
                audit.orphan_folders.push(room);
            }
        }
        let held = standin.link_tokens();
        let mut recorded_links = Vec::new();
        for room in rooms {
            let Some(record) = known(host, room).await else {
                continue;
            };
            // A link is known by its token, the last segment of its URL.
            let tokens: Vec<String> = [&record.read.url, &record.read_write.url]
                .iter()
                .map(|url| url.rsplit('/').next().unwrap_or_default().to_owned())
                .collect();
            recorded_links.extend(tokens.iter().cloned());
            if deleting.contains(room) {
                continue;
            }
            let links_there = tokens.iter().all(|token| held.contains(token));
            if !standin.folder_exists(&record.path) || !links_there {
                audit.lost_records.push(room.clone());
            }
        }
        audit.orphan_links = held
            .into_iter()
            .filter(|token| !recorded_links.contains(token))
            .collect();
        audit
    }
}

/// The folder the host keeps a record of for `room`: a ready one, or one whose delete has begun
/// and is still to be finished (the host will remove it; it is no orphan).
async fn known(host: &SharedFolders, room: &str) -> Option<FolderRecord> {
    match host.room_state(room).await {
        Ok(Some(RoomState::Ready(record) | RoomState::Deleting(record))) => Some(record),
        _ => None,
    }
}
