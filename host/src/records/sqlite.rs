//! The records in an embedded SQLite database: a file for the binary (one host, and the CLI
//! beside it), in memory for a library user who keeps no state.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Stored, Unfinished, Written};

mod embedded {
    refinery::embed_migrations!("src/records/migrations/sqlite");
}

/// The file (or memory) and the one connection to it.
pub struct Sqlite {
    db: Mutex<Connection>,
}

/// The columns [`Stored`] is read from, in its order.
const SELECT: &str = "SELECT provider, contract, digest, storage, account, state, path, handle,
        read_url, read_password, read_write_url, read_write_password, created_at
    FROM folders";

impl Sqlite {
    /// Opens (or creates) the database file at `path`, readable by its owner only.
    pub fn open(path: &Path) -> Result<Self, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        create_private(path).map_err(|e| e.to_string())?;
        let db = Connection::open(path).map_err(|e| e.to_string())?;
        // WAL lets a CLI command and a running service share the file; the busy timeout
        // makes one wait for the other's write instead of failing.
        db.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| db.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| db.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        Self::with_schema(db)
    }

    /// A database that lives as long as this value.
    pub fn in_memory() -> Result<Self, String> {
        Self::with_schema(Connection::open_in_memory().map_err(|e| e.to_string())?)
    }

    fn with_schema(mut db: Connection) -> Result<Self, String> {
        migrate_legacy(&db).map_err(|e| e.to_string())?;
        // A CLI command and `serve` may open a new file at the same moment: the one whose
        // migration loses the race finds the other's done when it looks again.
        let mut attempt = 0;
        while let Err(error) = embedded::migrations::runner().run(&mut db) {
            attempt += 1;
            if attempt == 5 {
                return Err(format!("migrating the schema: {error}"));
            }
            std::thread::sleep(std::time::Duration::from_millis(100 * attempt));
        }
        Ok(Sqlite { db: Mutex::new(db) })
    }

    pub fn get(&self, room: &str) -> Result<Option<Stored>, String> {
        self.run(|db| {
            db.query_row(&format!("{SELECT} WHERE room = ?1"), params![room], |row| {
                Ok(Stored {
                    provider: row.get(0)?,
                    contract: row.get(1)?,
                    digest: row.get(2)?,
                    storage: row.get(3)?,
                    account: row.get(4)?,
                    state: row.get(5)?,
                    path: row.get(6)?,
                    handle: row.get(7)?,
                    read_url: row.get(8)?,
                    read_password: row.get(9)?,
                    read_write_url: row.get(10)?,
                    read_write_password: row.get(11)?,
                    created_at: row.get(12)?,
                })
            })
            .optional()
        })
    }

    pub fn unfinished(&self) -> Result<Vec<Unfinished>, String> {
        self.run(|db| {
            let mut query = db.prepare(
                "SELECT room, state FROM folders WHERE state IN ('pending', 'deleting')
                 ORDER BY room",
            )?;
            let rooms = query.query_map([], |row| {
                Ok(Unfinished::of(row.get(0)?, &row.get::<_, String>(1)?))
            })?;
            rooms.collect()
        })
    }

    pub fn count(&self) -> Result<i64, String> {
        self.run(|db| {
            db.query_row(
                "SELECT COUNT(*) FROM folders WHERE state = 'ready'",
                [],
                |row| row.get(0),
            )
        })
    }

    pub fn begin_create(&self, room: &str, written: &Written<'_>) -> Result<(), String> {
        let maker = written.maker;
        self.run(|db| {
            db.execute(
                "INSERT INTO folders (room, provider, contract, digest, storage, account, state,
                     created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
                params![
                    room,
                    maker.provider,
                    written.contract,
                    maker.digest,
                    maker.storage,
                    maker.account,
                    written.created_at
                ],
            )
        })
        .map(drop)
    }

    /// Whether the room's pending row became the record (it is not there when recovery
    /// purged the create meanwhile).
    pub fn finish_create(&self, room: &str, written: &Written<'_>) -> Result<bool, String> {
        self.run(|db| {
            db.execute(
                "UPDATE folders SET provider = ?2, contract = ?3, digest = ?4, storage = ?5,
                     account = ?6, state = 'ready', path = ?7, handle = ?8, read_url = ?9,
                     read_password = ?10, read_write_url = ?11, read_write_password = ?12,
                     created_at = ?13
                 WHERE room = ?1 AND state = 'pending'",
                record_values(&room, written),
            )
        })
        .map(|changed| changed > 0)
    }

    /// Every room with a row, in order.
    pub fn rooms(&self) -> Result<Vec<String>, String> {
        self.run(|db| {
            let mut query = db.prepare("SELECT room FROM folders ORDER BY room")?;
            let rooms = query.query_map([], |row| row.get(0))?;
            rooms.collect()
        })
    }

    /// Writes a ready record for `room`, whether it had none or a ready one; whether it did (a
    /// create or delete under way is left alone).
    pub fn adopt(&self, room: &str, written: &Written<'_>) -> Result<bool, String> {
        self.run(|db| {
            db.execute(
                "INSERT INTO folders (room, provider, contract, digest, storage, account, state, path, handle,
                     read_url, read_password, read_write_url, read_write_password, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ready', ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (room) DO UPDATE SET provider = excluded.provider,
                     contract = excluded.contract, digest = excluded.digest,
                     storage = excluded.storage, account = excluded.account, path = excluded.path,
                     handle = excluded.handle, read_url = excluded.read_url,
                     read_password = excluded.read_password,
                     read_write_url = excluded.read_write_url,
                     read_write_password = excluded.read_write_password,
                     created_at = excluded.created_at
                 WHERE folders.state = 'ready'",
                record_values(&room, written),
            )
        })
        .map(|changed| changed > 0)
    }

    /// Whether a ready record became a deleting one.
    pub fn begin_delete(&self, room: &str) -> Result<bool, String> {
        self.run(|db| {
            db.execute(
                "UPDATE folders SET state = 'deleting' WHERE room = ?1 AND state = 'ready'",
                params![room],
            )
        })
        .map(|changed| changed > 0)
    }

    pub fn remove(&self, room: &str) -> Result<(), String> {
        self.run(|db| db.execute("DELETE FROM folders WHERE room = ?1", params![room]))
            .map(drop)
    }

    /// Every room with stored passwords, and them as stored.
    pub fn passwords(&self) -> Result<Vec<(String, String, String)>, String> {
        self.run(|db| {
            let mut query = db.prepare(
                "SELECT room, read_password, read_write_password FROM folders
                 WHERE read_password IS NOT NULL AND read_write_password IS NOT NULL",
            )?;
            let rows = query.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            rows.collect()
        })
    }

    /// Replaces a room's stored passwords, if they are still `before`.
    pub fn replace_passwords(
        &self,
        room: &str,
        before: (&str, &str),
        after: (&str, &str),
    ) -> Result<bool, String> {
        self.run(|db| {
            db.execute(
                "UPDATE folders SET read_password = ?4, read_write_password = ?5
                 WHERE room = ?1 AND read_password = ?2 AND read_write_password = ?3",
                params![room, before.0, before.1, after.0, after.1],
            )
        })
        .map(|changed| changed > 0)
    }

    pub fn ping(&self) -> Result<(), String> {
        self.run(|db| db.query_row("SELECT 1", [], |_| Ok(())))
    }

    fn run<T>(
        &self,
        operation: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, String> {
        // Each statement leaves the database consistent; a panic elsewhere cannot break it.
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        operation(&db).map_err(|e| e.to_string())
    }
}

/// The schema a host wrote before versioned migrations (SQLite's `user_version`): 1 knew
/// pending and ready rows only; 2 added deleting ones; 3 recorded who made a folder. Version 3
/// is migration 1's table; older files are rebuilt to it here, keeping every row. Rows from
/// before version 3 were made by a 0.2 provider whose component is not known (an empty
/// digest) under the settings then current (an empty storage id and account, see
/// `Runtime::delete`); their share ids and path become the handle the host keeps for a 0.2
/// provider's folder.
fn migrate_legacy(db: &Connection) -> rusqlite::Result<()> {
    // A table without the `contract` column is a version 1 or 2 one.
    let legacy = |db: &Connection| -> rusqlite::Result<bool> {
        db.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'folders')
                AND NOT EXISTS (SELECT 1 FROM pragma_table_info('folders') WHERE name = 'contract')",
            [],
            |row| row.get(0),
        )
    };
    if !legacy(db)? {
        return Ok(());
    }
    // Another process (a CLI command beside `serve`) may be migrating the same file: take the
    // write lock first, then look again.
    db.execute_batch("BEGIN IMMEDIATE")?;
    let migrated = (|| {
        if !legacy(db)? {
            return Ok(());
        }
        let v1 = include_str!("migrations/sqlite/V1__folders.sql")
            .replace("IF NOT EXISTS folders", "folders_next");
        db.execute_batch(&format!(
            "{v1}
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
             PRAGMA user_version = 3;"
        ))
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

/// The values of a record's columns, `?1`…`?13` in the order the statements that write a
/// record name them (as `postgres.rs` does).
fn record_values<'a>(room: &'a &'a str, written: &'a Written<'a>) -> [&'a dyn rusqlite::ToSql; 13] {
    let maker = written.maker;
    [
        room,
        &maker.provider,
        &written.contract,
        &maker.digest,
        &maker.storage,
        &maker.account,
        &written.path,
        &written.handle,
        &written.read_url,
        &written.read_password,
        &written.read_write_url,
        &written.read_write_password,
        &written.created_at,
    ]
}
