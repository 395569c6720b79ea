//! The folder records the host keeps: which room has which folder and links, in an embedded
//! SQLite database (a file for the binary, in memory for a library user who keeps no state).
//!
//! A create is recorded in two steps so that a host that stops midway leaves no orphan on the
//! storage: a *pending* row goes in before the provider is called, and becomes the full record
//! when it returns. A pending row found later (at start-up, or by the next operation on its
//! room) means the outcome was lost; the host then has the provider `purge` the room's folder
//! before anything else happens to it (see `folders.rs`).
//!
//! A delete is recorded the same way: the record is marked *deleting* before the provider is
//! called, and goes when it returns. A record found deleting later (the host stopped, or the
//! storage failed midway) is no longer shown to anyone — its links may be dead — and the delete
//! is finished by the next operation on the room or by recovery.
//!
//! Share passwords are stored as given: participants must be shown them. The database file is
//! created readable by its owner only.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use shared_folder_runtime::{Contract, FolderRecord, Maker, Secret, ShareLink};

/// What the records hold for a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomState {
    /// A create started and its outcome was never recorded.
    Pending {
        /// Who was making it (and so purges what it may have left).
        maker: Maker,
    },
    Ready(FolderRecord),
    /// A delete of this folder started and has not finished.
    Deleting(FolderRecord),
}

/// A room whose operation did not finish, for recovery to complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfinished {
    /// A create: the room's folder is purged.
    Create(String),
    /// A delete: it is done again.
    Delete(String),
}

/// The database could not be opened, read or written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("folder records ({location}): {message}")]
pub struct RecordsError {
    location: String,
    message: String,
}

/// Room → folder, in SQLite.
pub struct Records {
    db: Mutex<Connection>,
    location: String,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The table's columns after `room`.
const COLUMNS: &str = "
        provider            TEXT NOT NULL,
        contract            TEXT NOT NULL,
        digest              TEXT NOT NULL,
        storage             TEXT NOT NULL,
        account             TEXT NOT NULL,
        state               TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'deleting')),
        path                TEXT,
        handle              TEXT,
        read_url            TEXT,
        read_password       TEXT,
        read_write_url      TEXT,
        read_write_password TEXT,
        created_at          INTEGER NOT NULL";

/// The schema version this code writes (SQLite's `user_version`): 1 knew pending and ready
/// rows only; 2 added deleting ones; 3 records who made a folder (provider, contract
/// version, component digest, storage settings, account) and the provider's handle instead
/// of share ids.
const SCHEMA_VERSION: i64 = 3;

impl Records {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, RecordsError> {
        let location = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| RecordsError {
            location: location.clone(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        create_private(path).map_err(|e| fail(&e))?;
        let db = Connection::open(path).map_err(|e| fail(&e))?;
        // WAL lets a CLI command and a running service share the file; the busy timeout
        // makes one wait for the other's write instead of failing.
        db.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| db.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| db.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|e| fail(&e))?;
        Self::with_schema(db, location)
    }

    /// A database that lives as long as this value.
    pub fn in_memory() -> Result<Self, RecordsError> {
        let location = ":memory:".to_owned();
        let db = Connection::open_in_memory().map_err(|e| RecordsError {
            location: location.clone(),
            message: e.to_string(),
        })?;
        Self::with_schema(db, location)
    }

    fn with_schema(db: Connection, location: String) -> Result<Self, RecordsError> {
        let records = Records {
            db: Mutex::new(db),
            location,
        };
        records.run(migrate)?;
        Ok(records)
    }

    /// What the records hold for `room`.
    pub fn get(&self, room: &str) -> Result<Option<RoomState>, RecordsError> {
        self.run(|db| {
            db.query_row(
                "SELECT provider, contract, digest, storage, account, state, path, handle,
                        read_url, read_password, read_write_url, read_write_password, created_at
                 FROM folders WHERE room = ?1",
                params![room],
                |row| {
                    let contract: String = row.get(1)?;
                    let maker = Maker {
                        provider: row.get(0)?,
                        contract: Contract::parse(&format!("{contract}.0")).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                1,
                                rusqlite::types::Type::Text,
                                format!("unknown contract version {contract:?}").into(),
                            )
                        })?,
                        digest: row.get(2)?,
                        storage: row.get(3)?,
                        account: row.get(4)?,
                    };
                    let state: String = row.get(5)?;
                    if state == "pending" {
                        return Ok(RoomState::Pending { maker });
                    }
                    let link = |at: usize| -> rusqlite::Result<ShareLink> {
                        Ok(ShareLink {
                            url: row.get(at)?,
                            password: Secret::new(row.get::<_, String>(at + 1)?),
                        })
                    };
                    let record = FolderRecord {
                        room: room.to_owned(),
                        maker,
                        path: row.get(6)?,
                        handle: row.get(7)?,
                        read: link(8)?,
                        read_write: link(10)?,
                        created_at_unix: row.get::<_, i64>(12)?.try_into().unwrap_or(0),
                    };
                    Ok(if state == "deleting" {
                        RoomState::Deleting(record)
                    } else {
                        RoomState::Ready(record)
                    })
                },
            )
            .optional()
        })
    }

    /// The rooms whose create or delete started and never finished.
    pub fn unfinished(&self) -> Result<Vec<Unfinished>, RecordsError> {
        self.run(|db| {
            let mut query = db.prepare(
                "SELECT room, state FROM folders WHERE state IN ('pending', 'deleting')
                 ORDER BY room",
            )?;
            let rooms = query.query_map([], |row| {
                let room: String = row.get(0)?;
                Ok(if row.get::<_, String>(1)? == "pending" {
                    Unfinished::Create(room)
                } else {
                    Unfinished::Delete(room)
                })
            })?;
            rooms.collect()
        })
    }

    /// How many rooms have a folder.
    pub fn count(&self) -> Result<u64, RecordsError> {
        self.run(|db| {
            db.query_row(
                "SELECT COUNT(*) FROM folders WHERE state = 'ready'",
                [],
                |row| row.get::<_, i64>(0),
            )
        })
        .map(|n| n.try_into().unwrap_or(0))
    }

    /// Notes that a create of `room` by `maker` starts now.
    pub fn begin_create(&self, room: &str, maker: &Maker) -> Result<(), RecordsError> {
        self.run(|db| {
            db.execute(
                "INSERT INTO folders (room, provider, contract, digest, storage, account, state,
                     created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
                params![
                    room,
                    maker.provider,
                    maker.contract.to_string(),
                    maker.digest,
                    maker.storage,
                    maker.account,
                    now_unix_i64()
                ],
            )
        })
        .map(drop)
    }

    /// Stores the outcome of a create: the pending row becomes the record.
    pub fn finish_create(&self, record: &FolderRecord) -> Result<(), RecordsError> {
        self.run(|db| {
            db.execute(
                "INSERT OR REPLACE INTO folders (room, provider, contract, digest, storage,
                     account, state, path, handle, read_url, read_password,
                     read_write_url, read_write_password, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ready', ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    record.room,
                    record.maker.provider,
                    record.maker.contract.to_string(),
                    record.maker.digest,
                    record.maker.storage,
                    record.maker.account,
                    record.path,
                    record.handle,
                    record.read.url,
                    record.read.password.expose(),
                    record.read_write.url,
                    record.read_write.password.expose(),
                    i64::try_from(record.created_at_unix).unwrap_or(i64::MAX),
                ],
            )
        })
        .map(drop)
    }

    /// Notes that a delete of `room`'s folder starts now: from here on the record is not
    /// shown, and only finishing the delete removes it.
    pub fn begin_delete(&self, room: &str) -> Result<(), RecordsError> {
        self.run(|db| {
            db.execute(
                "UPDATE folders SET state = 'deleting' WHERE room = ?1 AND state = 'ready'",
                params![room],
            )
        })
        .map(drop)
    }

    /// Forgets `room` (its record or pending create).
    pub fn remove(&self, room: &str) -> Result<(), RecordsError> {
        self.run(|db| db.execute("DELETE FROM folders WHERE room = ?1", params![room]))
            .map(drop)
    }

    fn run<T>(
        &self,
        operation: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, RecordsError> {
        // Each statement leaves the database consistent; a panic elsewhere cannot break it.
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        operation(&db).map_err(|e| RecordsError {
            location: self.location.clone(),
            message: e.to_string(),
        })
    }
}

/// Brings the database to [`SCHEMA_VERSION`]: creates the table in a new one, or rebuilds the
/// table of an older file, keeping every row. Rows from before version 3 were made by a 0.2
/// provider whose component is not known (an empty digest) under the settings then current
/// (an empty storage id and account, see `Runtime::delete`); their share ids and path become
/// the handle the host keeps for a 0.2 provider's folder.
fn migrate(db: &Connection) -> rusqlite::Result<()> {
    let version = |db: &Connection| -> rusqlite::Result<i64> {
        db.query_row("PRAGMA user_version", [], |row| row.get(0))
    };
    if version(db)? >= SCHEMA_VERSION {
        return Ok(());
    }
    // Another process (a CLI command beside `serve`) may be migrating the same file: take the
    // write lock first, then look again.
    db.execute_batch("BEGIN IMMEDIATE")?;
    let migrated = (|| {
        if version(db)? >= SCHEMA_VERSION {
            return Ok(());
        }
        let exists: bool = db.query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'folders'",
            [],
            |row| row.get(0),
        )?;
        let create = |table: &str| {
            format!("CREATE TABLE {table} (room TEXT PRIMARY KEY NOT NULL, {COLUMNS}) STRICT;")
        };
        let script = if exists {
            format!(
                "{}
                 INSERT INTO folders_next
                    SELECT room, provider, '0.2', '', '', '', state, path,
                           CASE WHEN state = 'pending' THEN NULL
                                ELSE json_object('path', path, 'read', read_id,
                                                 'read_write', read_write_id) END,
                           read_url, read_password, read_write_url, read_write_password,
                           created_at
                    FROM folders;
                 DROP TABLE folders;
                 ALTER TABLE folders_next RENAME TO folders;
                 PRAGMA user_version = {SCHEMA_VERSION};",
                create("folders_next")
            )
        } else {
            format!(
                "{} PRAGMA user_version = {SCHEMA_VERSION};",
                create("folders")
            )
        };
        db.execute_batch(&script)
    })();
    match migrated {
        Ok(()) => db.execute_batch("COMMIT"),
        Err(error) => {
            let _ = db.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

/// Creates `path` readable and writable by its owner only, if it does not exist yet.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

fn now_unix_i64() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(now).unwrap_or(i64::MAX)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn maker() -> Maker {
        Maker {
            provider: "nextcloud".into(),
            contract: Contract::V0_3,
            digest: "d".repeat(64),
            storage: "0123456789abcdef".into(),
            account: "opentalk at https://c/".into(),
        }
    }

    fn record(room: &str) -> FolderRecord {
        let share = |kind: &str| ShareLink {
            url: format!("https://c/s/{kind}"),
            password: Secret::new(format!("{kind}-Passw0rd")),
        };
        FolderRecord {
            room: room.to_owned(),
            maker: maker(),
            path: format!("meetings/{room}"),
            read: share("ro"),
            read_write: share("rw"),
            handle: format!(r#"{{"path":"meetings/{room}","read":"1","read_write":"2"}}"#),
            created_at_unix: 1_700_000_000,
        }
    }

    #[test]
    fn records_survive_reopening_the_file() {
        let dir = std::env::temp_dir().join(format!("records-test-{}", std::process::id()));
        let path = dir.join("state").join("folders.sqlite3");
        let _ = std::fs::remove_dir_all(&dir);
        {
            let records = Records::open(&path).unwrap();
            records.begin_create("a", &maker()).unwrap();
            records.finish_create(&record("a")).unwrap();
            records.begin_create("b", &maker()).unwrap();
        }
        let records = Records::open(&path).unwrap();
        assert_eq!(
            records.get("a").unwrap(),
            Some(RoomState::Ready(record("a")))
        );
        assert_eq!(
            records.get("b").unwrap(),
            Some(RoomState::Pending { maker: maker() })
        );
        assert_eq!(
            records.unfinished().unwrap(),
            [Unfinished::Create("b".into())]
        );
        assert_eq!(records.count().unwrap(), 1);
        records.remove("b").unwrap();
        assert_eq!(records.get("b").unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_delete_under_way_hides_the_record_until_it_is_finished() {
        let records = Records::in_memory().unwrap();
        records.begin_create("a", &maker()).unwrap();
        records.finish_create(&record("a")).unwrap();
        records.begin_delete("a").unwrap();
        assert_eq!(
            records.get("a").unwrap(),
            Some(RoomState::Deleting(record("a")))
        );
        assert_eq!(records.count().unwrap(), 0);
        assert_eq!(
            records.unfinished().unwrap(),
            [Unfinished::Delete("a".into())]
        );
        // A pending create is not turned into a delete.
        records.begin_create("b", &maker()).unwrap();
        records.begin_delete("b").unwrap();
        assert!(matches!(
            records.get("b").unwrap(),
            Some(RoomState::Pending { .. })
        ));
    }

    #[test]
    fn a_version_1_file_is_migrated_with_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite3");
        {
            let db = Connection::open(&path).unwrap();
            db.execute_batch(
                "CREATE TABLE folders (
                    room TEXT PRIMARY KEY NOT NULL, provider TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'ready')),
                    path TEXT, read_id TEXT, read_url TEXT, read_password TEXT,
                    read_write_id TEXT, read_write_url TEXT, read_write_password TEXT,
                    created_at INTEGER NOT NULL) STRICT;
                 INSERT INTO folders VALUES ('a', 'nextcloud', 'ready', 'meetings/a',
                    'ro-id', 'https://c/s/ro', 'ro-Passw0rd', 'rw-id', 'https://c/s/rw',
                    'rw-Passw0rd', 7);
                 INSERT INTO folders (room, provider, state, created_at)
                    VALUES ('b', 'nextcloud', 'pending', 8);",
            )
            .unwrap();
        }
        let records = Records::open(&path).unwrap();
        let Some(RoomState::Ready(a)) = records.get("a").unwrap() else {
            panic!("room a lost in the migration");
        };
        assert_eq!(a.read.password.expose(), "ro-Passw0rd");
        assert_eq!(a.created_at_unix, 7);
        // Made by a 0.2 provider: its share ids and path are the handle the host keeps.
        assert_eq!(a.maker.contract, Contract::V0_2);
        assert_eq!(
            (
                a.maker.digest.as_str(),
                a.maker.storage.as_str(),
                a.maker.account.as_str()
            ),
            ("", "", "")
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&a.handle).unwrap(),
            serde_json::json!({"path": "meetings/a", "read": "ro-id", "read_write": "rw-id"})
        );
        records.begin_delete("a").unwrap();
        assert_eq!(
            records.unfinished().unwrap(),
            [
                Unfinished::Delete("a".into()),
                Unfinished::Create("b".into())
            ]
        );
        drop(records);
        // Opening it again changes nothing.
        let records = Records::open(&path).unwrap();
        assert_eq!(records.unfinished().unwrap().len(), 2);
    }

    #[test]
    fn a_second_pending_create_of_a_room_is_refused() {
        let records = Records::in_memory().unwrap();
        records.begin_create("a", &maker()).unwrap();
        let error = records.begin_create("a", &maker()).unwrap_err();
        assert!(error.to_string().contains("UNIQUE"), "{error}");
    }

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
