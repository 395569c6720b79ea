//! What happens to a room that its participants' sessions must hear about, wherever it was
//! done: a folder made or being deleted (through the REST API, the CLI or a clean-up, on this
//! host or another) or a participant's role changed.
//!
//! One host on SQLite hands events from the write to the sessions in this process; hosts on
//! PostgreSQL announce them on the database (`records/postgres.rs`), and each host's listener
//! hands them to its sessions. Either way the sessions get them from one
//! [`tokio::sync::broadcast`] channel, and look up what to send when they do.
//!
//! Each room's events carry its **version**, raised by the write that announces them (on
//! PostgreSQL in the same statement, so the versions of a room follow the order its writes
//! committed in). A session that joined knowing version N has seen every event up to N in
//! what it was shown, and is sent none of them again ([`RoomEvent::version`]).

use serde::{Deserialize, Serialize};
use shared_folder_runtime::roles::Role;

/// The PostgreSQL notification channel room events go through.
pub const CHANNEL: &str = "shared_folder_events";

/// How many events wait for a slow fan-out before it must resynchronise.
pub const CAPACITY: usize = 4096;

/// One thing that happened to a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomEvent {
    /// The room's folder record was written or began to be deleted: each session is sent its
    /// view of the folder as it is now, or that it is gone.
    Folder {
        room: String,
        /// The room's version this write raised it to; 0: not known (always delivered).
        #[serde(default)]
        version: u64,
    },
    /// A participant's role changed: their sessions in the room are sent the view of their
    /// new role, if their moderator status changed.
    Role {
        room: String,
        participant: String,
        before: Role,
        after: Role,
        /// As for `Folder`.
        #[serde(default)]
        version: u64,
    },
    /// Events may have been missed (the database connection was lost, or the fan-out fell
    /// behind): every session is sent its view again.
    Resync,
}

impl RoomEvent {
    /// A folder event without its version (given when it is announced).
    pub fn folder(room: &str) -> Self {
        RoomEvent::Folder {
            room: room.to_owned(),
            version: 0,
        }
    }

    /// The room it is about (none for `Resync`).
    pub fn room(&self) -> Option<&str> {
        match self {
            RoomEvent::Folder { room, .. } | RoomEvent::Role { room, .. } => Some(room),
            RoomEvent::Resync => None,
        }
    }

    /// The room's version it carries: 0 when not known (`Resync`, or a host before versions).
    pub fn version(&self) -> u64 {
        match self {
            RoomEvent::Folder { version, .. } | RoomEvent::Role { version, .. } => *version,
            RoomEvent::Resync => 0,
        }
    }

    /// The same event at `version`.
    pub fn at(mut self, at: u64) -> Self {
        if let RoomEvent::Folder { version, .. } | RoomEvent::Role { version, .. } = &mut self {
            *version = at;
        }
        self
    }

    /// The event as a notification payload (well under PostgreSQL's 8000 bytes: room ids and
    /// participant ids are bounded).
    pub fn payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An event from a notification payload.
    pub fn parse(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_travel_as_json_and_back() {
        for event in [
            RoomEvent::folder("room-1"),
            RoomEvent::folder("room-1").at(7),
            RoomEvent::Role {
                room: "room-1".into(),
                participant: "p\"1".into(),
                before: Role::Participant,
                after: Role::Moderator,
                version: 3,
            },
            RoomEvent::Resync,
        ] {
            assert_eq!(RoomEvent::parse(&event.payload()), Some(event));
        }
        assert_eq!(RoomEvent::parse("{\"other\":1}"), None);
        // What PostgreSQL builds (`records/postgres.rs`), and a host before versions sent.
        assert_eq!(
            RoomEvent::parse("{\"folder\" : {\"room\" : \"r\", \"version\" : 12}}"),
            Some(RoomEvent::folder("r").at(12))
        );
        assert_eq!(
            RoomEvent::parse("{\"folder\":{\"room\":\"r\"}}"),
            Some(RoomEvent::folder("r"))
        );
    }
}
