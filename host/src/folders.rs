//! The host's API: meeting rooms' shared folders, made by the runtime's current provider and
//! kept in the records.
//!
//! [`SharedFolders`] is what a controller embeds when it wants the host to keep the records
//! and recover from a host that stopped midway; one that keeps its own records embeds
//! [`Runtime`] alone.

use std::sync::Arc;

use shared_folder_runtime::{
    Access, ErrorKind, FolderRecord, Maker, Origin, Role, Runtime, check_room_id, roles,
};

use crate::error::HostError;
use crate::records::{Records, RoomState, Unfinished};

/// What [`SharedFolders::create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creation {
    /// The room's folder.
    pub record: FolderRecord,
    /// Whether it was made now (`false`: the room had it already, and nothing was done).
    pub created: bool,
}

/// What [`SharedFolders::reconcile`] finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Creates whose outcome was lost: their rooms' folders purged.
    pub lost_creates: usize,
    /// Deletes that had not completed: completed.
    pub deletes: usize,
}

/// What [`SharedFolders::delete`] did.
#[derive(Debug, Clone)]
pub enum Deletion {
    /// The folder and its links are gone, and so is the record.
    Deleted,
    /// The room had no folder: nothing to do.
    NoFolder,
    /// Forced: the storage refused or failed (the error says how), the record went anyway.
    RecordOnly(HostError),
}

/// What [`SharedFolders::purge`] found for the room, now purged from the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// No record: whatever a provider may have made for the room was removed.
    Unrecorded,
    /// A create left unfinished (pending): purged, as `reconcile` would have.
    Pending,
    /// A record (forced): purged from the storage and the record dropped.
    RecordDropped,
}

impl Deletion {
    /// Whether the room had a folder that is now gone from the storage.
    pub fn deleted(&self) -> bool {
        matches!(self, Deletion::Deleted)
    }
}

/// What the records must hold for a room that [`SharedFolders::recover`] takes over; when
/// they hold something else (they changed since an audit), nothing is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No row at all: a folder the records do not know.
    Nothing,
    /// A ready record, to be replaced.
    Folder,
    /// Either.
    Either,
}

pub struct SharedFolders {
    runtime: Runtime,
    /// The records, which also hold rooms for one operation at a time (on every host that
    /// shares them).
    records: Arc<Records>,
}

impl SharedFolders {
    /// A host making folders with `runtime` and keeping them in `records` (in memory, or in
    /// a file: see [`Records`]). Call [`SharedFolders::reconcile`] once it runs, to finish what
    /// a predecessor on the same records left unfinished.
    pub fn new(runtime: Runtime, records: Records) -> Self {
        SharedFolders {
            runtime,
            records: Arc::new(records),
        }
    }

    /// The runtime: which provider serves calls, and swapping it
    /// ([`Runtime::swap_provider`]).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The records: where they are, and the room events of their writes
    /// ([`Records::subscribe`]).
    pub fn records(&self) -> &Arc<Records> {
        &self.records
    }

    /// Finishes what was left unfinished: creates whose outcome was never recorded (the host
    /// stopped while they ran, or their clean-up failed) are purged at the storage, and deletes
    /// that did not complete are done again; then the rooms are forgotten. Returns how many of
    /// each were finished; a room whose clean-up fails stays as it is, is logged, and is tried
    /// again by the next operation on it or the next `reconcile`.
    pub async fn reconcile(&self) -> Result<Reconciled, HostError> {
        let mut done = Reconciled::default();
        // On shared records one host at a time recovers; the others skip this round.
        let Some(_recovering) = self.records.try_lock_recovery().await? else {
            return Ok(done);
        };
        for unfinished in self.records.unfinished().await? {
            let (Unfinished::Create(room) | Unfinished::Delete(room)) = &unfinished;
            // A room another operation (here or on another host) holds is under way, not
            // left: that operation finishes it.
            let Some(_room) = self.records.try_lock_room(room).await? else {
                continue;
            };
            // A record that does not read (a password whose key is gone, say) is logged and
            // left; the other rooms are still recovered.
            let state = match self.records.get(room).await {
                Ok(state) => state,
                Err(error) => {
                    tracing::warn!(room, %error, "unfinished operation not cleaned up: its record does not read");
                    continue;
                }
            };
            let finished = match (&unfinished, state) {
                (Unfinished::Create(_), Some(RoomState::Pending { maker })) => {
                    self.purge_lost(room, &maker).await
                }
                (Unfinished::Delete(_), Some(RoomState::Deleting(record))) => {
                    self.finish_delete(&record).await
                }
                // Another operation on the room finished it meanwhile.
                _ => continue,
            };
            match (finished, &unfinished) {
                (Ok(()), Unfinished::Create(_)) => done.lost_creates += 1,
                (Ok(()), Unfinished::Delete(_)) => done.deletes += 1,
                (Err(error), _) => {
                    tracing::warn!(room, %error, "unfinished operation not cleaned up yet; will retry");
                }
            }
        }
        Ok(done)
    }

    /// Creates the shared folder of `room`, or returns the one it has. Concurrent creates of
    /// one room make one folder: the later ones wait and return it.
    ///
    /// The create is recorded as pending before the provider runs and completed when it
    /// returns, so a host that stops in between cleans up on its next start. A provider that
    /// returns an error has undone its own work (the contract's all-or-nothing) — unless the
    /// storage stopped answering midway, so then, as after a trap or a timeout, the room is
    /// purged right away ([`shared_folder_runtime::ErrorKind::may_have_left_work`]). If that
    /// fails too, the room stays pending and the next operation on it, or
    /// [`SharedFolders::reconcile`], cleans up.
    pub async fn create(&self, room: &str) -> Result<Creation, HostError> {
        check_room_id(room)?;
        let _room = self.records.lock_room(room).await?;
        match self.records.get(room).await? {
            Some(RoomState::Ready(record)) => {
                return Ok(Creation {
                    record,
                    created: false,
                });
            }
            Some(RoomState::Pending { maker }) => self.purge_lost(room, &maker).await?,
            // The room's folder was being deleted: that is finished first, then it is new.
            Some(RoomState::Deleting(record)) => self.finish_delete(&record).await?,
            None => {}
        }
        // What serves now makes the folder, and is recorded first: a swap or a reload while
        // the call runs changes neither.
        let serving = self.runtime.serving();
        let maker = serving.maker();
        self.records.begin_create(room, &maker).await?;
        let record = match self.runtime.create_with(&serving, room).await {
            Ok(record) => record,
            Err(error) => {
                if error.kind().may_have_left_work() {
                    let _ = self.purge_lost(room, &maker).await;
                } else {
                    self.records.remove(room).await?;
                }
                if error.kind() == ErrorKind::AlreadyExists {
                    return Err(HostError::FolderWithoutRecord {
                        room: room.to_owned(),
                        source: error,
                    });
                }
                return Err(error.into());
            }
        };
        if let Err(error) = self.records.finish_create(&record).await {
            // Unrecorded, the folder would be an orphan: undo it (the room stays pending if
            // that fails, for a later purge). Unless the database did not answer: then the
            // record may be written all the same (its answer lost, or the statement run once
            // the database is back), and the folder stays — a record written keeps it, a row
            // left pending is purged with it later.
            if !error.unavailable() && self.runtime.delete(&record).await.is_ok() {
                let _ = self.records.remove(room).await;
            }
            return Err(error.into());
        }
        tracing::info!(room, provider = %record.maker.provider, path = %record.path, "shared folder created");
        warn_about_foreign_links(serving.config().url.origin(), &record);
        Ok(Creation {
            record,
            created: true,
        })
    }

    /// The folder of `room`, if it has one (a folder whose delete has begun has none).
    pub async fn folder(&self, room: &str) -> Result<Option<FolderRecord>, HostError> {
        check_room_id(room)?;
        Ok(match self.records.get(room).await? {
            Some(RoomState::Ready(record)) => Some(record),
            Some(RoomState::Pending { .. } | RoomState::Deleting(_)) | None => None,
        })
    }

    /// Everything the records hold for `room`: also a create or delete under way or left
    /// unfinished, which [`SharedFolders::folder`] does not show.
    pub async fn room_state(&self, room: &str) -> Result<Option<RoomState>, HostError> {
        check_room_id(room)?;
        Ok(self.records.get(room).await?)
    }

    /// How many rooms have a folder.
    pub async fn folder_count(&self) -> Result<u64, HostError> {
        Ok(self.records.count().await?)
    }

    /// What a participant with `role` sees of `room`'s folder.
    pub async fn access(&self, room: &str, role: Role) -> Result<Access, HostError> {
        Ok(roles::access(&self.existing(room).await?, role))
    }

    /// The update for a participant of `room` whose role changed, if they must get one.
    pub async fn role_changed(
        &self,
        room: &str,
        before: Role,
        after: Role,
    ) -> Result<Option<Access>, HostError> {
        Ok(roles::update_on_role_change(
            &self.existing(room).await?,
            before,
            after,
        ))
    }

    /// Deletes `room`'s folder: its links first, then the folder with its files. The record
    /// is marked as being deleted first (from then on the room shows no folder), so that a
    /// host that stops midway finishes the delete on its next start. Unless `force`d, the
    /// record stays (marked) when the storage fails, so that a later delete, or
    /// [`SharedFolders::reconcile`], finishes it; `force` drops it anyway (OpenTalk's
    /// `force_delete_reference_if_shared_folder_deletion_fails`).
    pub async fn delete(&self, room: &str, force: bool) -> Result<Deletion, HostError> {
        check_room_id(room)?;
        let _room = self.records.lock_room(room).await?;
        let outcome = match self.records.get(room).await? {
            None => return Ok(Deletion::NoFolder),
            Some(RoomState::Pending { maker }) => self.purge_lost(room, &maker).await,
            Some(RoomState::Ready(record)) => {
                self.records.begin_delete(room).await?;
                self.finish_delete(&record).await
            }
            Some(RoomState::Deleting(record)) => self.finish_delete(&record).await,
        };
        match outcome {
            Ok(()) => Ok(Deletion::Deleted),
            Err(error) if force => {
                self.records.remove(room).await?;
                tracing::warn!(room, %error, "storage delete failed; record dropped as forced");
                Ok(Deletion::RecordOnly(error))
            }
            Err(error) => Err(error),
        }
    }

    /// Removes whatever a provider may have made for `room` on the storage, found by the room
    /// id alone (the provider's `purge`): for a folder the storage holds without a record here
    /// (a database restored from an older backup, a record dropped by hand), which answers
    /// every create of the room with "exists". Refused while the room has a record, unless
    /// `force`d: then the record's own provider purges and the record goes too. Everything in
    /// the folder is deleted.
    pub async fn purge(&self, room: &str, force: bool) -> Result<Purge, HostError> {
        check_room_id(room)?;
        let _room = self.records.lock_room(room).await?;
        match self.records.get(room).await? {
            None => {
                let maker = self.runtime.serving().maker();
                self.runtime.purge(room, &maker).await?;
                tracing::info!(room, "room purged from the storage (no record)");
                Ok(Purge::Unrecorded)
            }
            Some(RoomState::Pending { maker }) => {
                self.purge_lost(room, &maker).await?;
                Ok(Purge::Pending)
            }
            Some(RoomState::Ready(_) | RoomState::Deleting(_)) if !force => {
                Err(HostError::RoomHasRecord(room.to_owned()))
            }
            Some(RoomState::Ready(record) | RoomState::Deleting(record)) => {
                self.records.begin_delete(room).await?;
                // The record's handle says where its folder and links are (settings may have
                // changed since, `directory` too); the purge by room id is for what it does
                // not name.
                if let Err(error) = self.runtime.delete(&record).await {
                    tracing::warn!(room, %error, "forced purge: the record's delete failed; purging by the room id");
                }
                self.runtime.purge(room, &record.maker).await?;
                self.records.remove(room).await?;
                tracing::warn!(
                    room,
                    "room purged from the storage and its record dropped (forced)"
                );
                Ok(Purge::RecordDropped)
            }
        }
    }

    /// Takes `room`'s folder over as the storage has it (the provider's `recover`: links kept
    /// with new passwords, a missing one made, the files untouched) and writes its record, for
    /// a folder the records do not know or know wrongly (`repair`). The room's sessions get
    /// the new view. Done under the room's lock, only while the records hold what `expected`
    /// says; never through a pending create, which a recovery could purge with the files.
    pub async fn recover(&self, room: &str, expected: Expected) -> Result<FolderRecord, HostError> {
        check_room_id(room)?;
        let _room = self.records.lock_room(room).await?;
        let state = self.records.get(room).await?;
        let holds = matches!(
            (&state, expected),
            (None, Expected::Nothing | Expected::Either)
                | (
                    Some(RoomState::Ready(_)),
                    Expected::Folder | Expected::Either
                )
        );
        if !holds {
            return Err(HostError::RecordChanged {
                room: room.to_owned(),
                holds: match state {
                    None => "no record",
                    Some(RoomState::Ready(_)) => "a record",
                    Some(RoomState::Pending { .. }) => "a create under way",
                    Some(RoomState::Deleting(_)) => "a delete under way",
                },
            });
        }
        let record = self.runtime.recover(room).await?;
        if let Err(error) = self.records.adopt(&record).await {
            // The links' old passwords no longer open them, and the new ones are not kept.
            tracing::error!(room, %error, "the recovered folder's links have new passwords that could not be recorded: run the repair again");
            return Err(error.into());
        }
        tracing::info!(room, path = %record.path, "shared folder recovered from the storage: its links have new passwords");
        warn_about_foreign_links(self.runtime.serving().config().url.origin(), &record);
        Ok(record)
    }

    /// Drops `room`'s record, whose folder an audit found gone from the storage, without a
    /// word to the storage: a folder in the trash bin stays there with its files and links
    /// (restored, the next audit finds it and `recover` takes it over). The room's sessions
    /// hear it is gone. Done under the room's lock only while the record is the one the audit
    /// read (`handle`).
    pub async fn forget_missing(&self, room: &str, handle: &str) -> Result<(), HostError> {
        check_room_id(room)?;
        let _room = self.records.lock_room(room).await?;
        match self.records.get(room).await? {
            Some(RoomState::Ready(record)) if record.handle == handle => {}
            other => {
                return Err(HostError::RecordChanged {
                    room: room.to_owned(),
                    holds: match other {
                        None => "no record",
                        Some(RoomState::Ready(_)) => "another record",
                        Some(RoomState::Pending { .. }) => "a create under way",
                        Some(RoomState::Deleting(_)) => "a delete under way",
                    },
                });
            }
        }
        self.records.begin_delete(room).await?;
        self.records.remove(room).await?;
        tracing::warn!(room, "record dropped: its folder is not on the storage");
        Ok(())
    }

    /// Has the provider that made `record` delete its folder and links, then forgets the room.
    async fn finish_delete(&self, record: &FolderRecord) -> Result<(), HostError> {
        self.runtime.delete(record).await?;
        self.records.remove(&record.room).await?;
        tracing::info!(room = %record.room, "shared folder deleted");
        Ok(())
    }

    /// Has `maker` purge the folder of a create whose outcome was lost, then forgets the room.
    async fn purge_lost(&self, room: &str, maker: &Maker) -> Result<(), HostError> {
        self.runtime.purge(room, maker).await?;
        self.records.remove(room).await?;
        tracing::info!(room, "lost create cleaned up");
        Ok(())
    }

    async fn existing(&self, room: &str) -> Result<FolderRecord, HostError> {
        self.folder(room)
            .await?
            .ok_or_else(|| HostError::NoFolder(room.to_owned()))
    }
}

/// Warns when a new folder's links lead elsewhere than the configured storage: participants'
/// browsers may not reach them. NextCloud builds a link from its own view of the request, so
/// behind a TLS-terminating proxy that was not told about it the links say `http://` on an
/// https site (docs/nextcloud-behaviour.md, "Links behind a proxy").
fn warn_about_foreign_links(configured: &Origin, record: &FolderRecord) {
    if let Some(links) = foreign_links(configured, record) {
        tracing::warn!(
            room = %record.room,
            links = %links,
            configured = %configured,
            "the storage's share links do not point at the configured url: participants may \
             not be able to open them (NextCloud behind a proxy: set overwriteprotocol, and \
             overwritehost or overwrite.cli.url, in its config.php)"
        );
    }
}

/// Where `record`'s links point, when that is not the `configured` origin (the first such
/// link's origin, or its URL when it has none).
pub fn foreign_links(configured: &Origin, record: &FolderRecord) -> Option<String> {
    [&record.read, &record.read_write]
        .into_iter()
        .find_map(|link| match Origin::parse(&link.url) {
            Ok(origin) if origin == *configured => None,
            Ok(origin) => Some(origin.to_string()),
            Err(_) => Some(link.url.clone()),
        })
}
