//! The folder records the host keeps: which room has which folder and links. They live in an
//! embedded SQLite database (`sqlite.rs`: a file for one host and the CLI beside it, or memory
//! for a library user who keeps no state) or in PostgreSQL (`postgres.rs`), which several
//! hosts of one platform share. Both have one schema, brought up to date by versioned
//! migrations (`migrations/`, run by refinery when the records are opened).
//!
//! A create is recorded in two steps so that a host that stops midway leaves no orphan on the
//! storage: a *pending* row goes in before the provider is called, and becomes the full record
//! when it returns. A pending row found later (by recovery, or by the next operation on its
//! room) means the outcome was lost; the host then has the provider `purge` the room's folder
//! before anything else happens to it (see `folders.rs`).
//!
//! A delete is recorded the same way: the record is marked *deleting* before the provider is
//! called, and goes when it returns. A record found deleting later (the host stopped, or the
//! storage failed midway) is no longer shown to anyone — its links may be dead — and the delete
//! is finished by the next operation on the room or by recovery.
//!
//! Operations on one room run one at a time: in this process by [`RoomLocks`], and across
//! hosts on PostgreSQL by a lease per room as well ([`Records::lock_room`], `leases.rs`).
//!
//! Share passwords are sealed before they are written ([`sealing`]): participants must be
//! shown them, so they are kept, but a dump or backup of the database does not hand them out.
//! A database file is created readable by its owner only.

mod leases;
pub(crate) mod postgres;
pub mod sealing;
mod sqlite;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use shared_folder_runtime::{Contract, FolderRecord, Maker, Secret, ShareLink};
use tokio::sync::broadcast;

use crate::events::{self, RoomEvent};
use leases::Lease;
pub use leases::LeaseTiming;
use postgres::Postgres;
use sealing::{Keys, Link};
use sqlite::Sqlite;

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

impl Unfinished {
    fn of(room: String, state: &str) -> Self {
        if state == "pending" {
            Unfinished::Create(room)
        } else {
            Unfinished::Delete(room)
        }
    }
}

/// The database could not be opened, read or written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("folder records ({location}): {message}")]
pub struct RecordsError {
    location: String,
    message: String,
    /// Whether the database could not be reached (rather than refusing or failing what was
    /// asked): it is down, restarting, or has no connection free now; asking again later may
    /// succeed.
    unavailable: bool,
}

impl RecordsError {
    /// Whether the database could not be reached: the same call may succeed later.
    pub fn unavailable(&self) -> bool {
        self.unavailable
    }
}

/// What a store's statement met.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The database could not be reached, or went away during the statement: down,
    /// restarting, refusing connections for now, or no connection free in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database answered, and refused or failed the statement (or its answer did not
    /// read).
    #[error("{0}")]
    Failed(String),
}

impl From<String> for StoreError {
    fn from(message: String) -> Self {
        StoreError::Failed(message)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        let unavailable = match error.as_db_error() {
            // 08: connection exceptions (a PgBouncer that cannot reach the server says
            // 08P01); 57P01-03: the server shutting down or starting; 53300: no connection
            // slot left.
            Some(db) => {
                let code = db.code().code();
                code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
            }
            None => {
                error.is_closed()
                    || std::error::Error::source(&error)
                        .is_some_and(|source| source.is::<std::io::Error>())
                    || error.to_string().starts_with("timeout")
            }
        };
        let message = describe(error);
        if unavailable {
            StoreError::Unavailable(message)
        } else {
            StoreError::Failed(message)
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        match error {
            PoolError::Backend(error) => error.into(),
            PoolError::Timeout(_) => StoreError::Unavailable(format!(
                "no database connection within the pool's wait: {error}"
            )),
            other => StoreError::Failed(other.to_string()),
        }
    }
}

/// How long a statement (with the wait for its connection) may take before the database
/// counts as unavailable: a PgBouncer that cannot reach the server keeps statements waiting
/// (its `query_wait_timeout` is 2 minutes by default), and a caller is better answered
/// "unavailable, try again" than kept waiting.
pub(crate) const STATEMENT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// `work` (a statement, or a few), bounded by [`STATEMENT_WAIT`].
pub(crate) async fn bounded<T>(
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(STATEMENT_WAIT, work)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no answer within {STATEMENT_WAIT:?}"
            )))
        })
}

/// A PostgreSQL error with the server's own message and code, when it sent one.
pub fn describe(error: tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(&error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

/// Where the records are kept.
#[derive(Debug, Clone)]
pub enum Database {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL database: its URL (without password; the server, or a PgBouncer in
    /// transaction mode before it), the server's own URL for LISTEN when `url` is a PgBouncer,
    /// the password, a bundle of CA certificates trusted for its TLS besides the system's, and
    /// how long rooms' leases last.
    Postgres {
        url: String,
        listen_url: Option<String>,
        password: Option<Secret>,
        ca_bundle: Option<PathBuf>,
        leases: LeaseTiming,
    },
}

impl Database {
    /// How the database is named in errors and logs (never with a password).
    pub fn location(&self) -> String {
        match self {
            Database::File(path) => path.display().to_string(),
            Database::Postgres { url, .. } => postgres::location(url),
        }
    }
}

/// A row as stored (passwords sealed), between a backend and [`Records`].
pub(crate) struct Stored {
    provider: String,
    contract: String,
    digest: String,
    storage: String,
    account: String,
    state: String,
    path: Option<String>,
    handle: Option<String>,
    read_url: Option<String>,
    read_password: Option<String>,
    read_write_url: Option<String>,
    read_write_password: Option<String>,
    created_at: i64,
}

/// What a backend writes (passwords already sealed; link fields empty for a pending row).
pub(crate) struct Written<'a> {
    maker: &'a Maker,
    /// The maker's contract version, as the `contract` column holds it.
    contract: String,
    path: &'a str,
    handle: &'a str,
    read_url: &'a str,
    read_password: String,
    read_write_url: &'a str,
    read_write_password: String,
    created_at: i64,
}

enum Store {
    Sqlite(Sqlite),
    Postgres(Arc<Postgres>),
}

/// Room → folder, in SQLite or PostgreSQL.
pub struct Records {
    store: Store,
    keys: Keys,
    location: String,
    /// Room events of this process's writes (SQLite) or of every host's (PostgreSQL, once
    /// [`Records::subscribe`] started the listener).
    events: broadcast::Sender<RoomEvent>,
    listening: OnceLock<()>,
    /// The rooms' versions of this process's events (SQLite; PostgreSQL keeps them).
    versions: Mutex<std::collections::HashMap<String, u64>>,
    /// Whether room events of every host reach this process yet (at once on SQLite).
    listened: tokio::sync::watch::Sender<bool>,
    /// Operations on one room in this process run one at a time.
    rooms: RoomLocks,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("location", &self.location)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Holds a room for one operation: in this process, and on PostgreSQL for every host.
pub struct RoomLock<'a> {
    // Dropped in this order: the hosts' lease, then this process's lock.
    _shared: Option<Lease>,
    _local: RoomGuard<'a>,
}

/// The right to run recovery, while held.
pub struct RecoveryLock {
    _held: Option<Lease>,
}

impl Records {
    /// Opens (or creates) the database file at `path`; the key that seals its share passwords
    /// is `<path>.key`, made with a random key the first time. (Keep that file out of the
    /// backups of the database, or name a key elsewhere with [`Records::open_file`].)
    pub fn open(path: &Path) -> Result<Self, RecordsError> {
        let key_path = PathBuf::from(format!("{}.key", path.display()));
        let keys = Keys::from_file_or_new(&key_path)
            .map_err(|e| error_at(&path.display().to_string(), e.to_string().into()))?;
        Self::open_file(path, keys)
    }

    /// Opens (or creates) the database file at `path`, sealing share passwords with `keys`.
    pub fn open_file(path: &Path, keys: Keys) -> Result<Self, RecordsError> {
        let location = path.display().to_string();
        let store = Sqlite::open(path).map_err(|message| error_at(&location, message.into()))?;
        Ok(Self::with(Store::Sqlite(store), keys, location))
    }

    /// A database that lives as long as this value.
    pub fn in_memory() -> Result<Self, RecordsError> {
        let location = ":memory:".to_owned();
        let fail = |message: String| error_at(&location, message.into());
        let keys = Keys::ephemeral().map_err(|e| fail(e.to_string()))?;
        let store = Sqlite::in_memory().map_err(fail)?;
        Ok(Self::with(Store::Sqlite(store), keys, location))
    }

    /// Connects to a PostgreSQL database at `url` (no password in it) and brings its schema
    /// up to date. TLS, when the URL asks for it, trusts the system's roots.
    pub async fn connect(
        url: &str,
        password: Option<&Secret>,
        keys: Keys,
    ) -> Result<Self, RecordsError> {
        let database = Database::Postgres {
            url: url.to_owned(),
            listen_url: None,
            password: password.cloned(),
            ca_bundle: None,
            leases: LeaseTiming::default(),
        };
        Self::open_database(&database, keys).await
    }

    /// Opens `database` with `keys`.
    pub async fn open_database(database: &Database, keys: Keys) -> Result<Self, RecordsError> {
        let (url, listen_url, password, ca_bundle, leases) = match database {
            Database::File(path) => return Self::open_file(path, keys),
            Database::Postgres {
                url,
                listen_url,
                password,
                ca_bundle,
                leases,
            } => (url, listen_url, password, ca_bundle, leases),
        };
        let location = postgres::location(url);
        let fail = |error: StoreError| error_at(&location, error);
        let tls = shared_folder_runtime::tls_config(ca_bundle.as_deref())
            .map_err(|e| fail(StoreError::Failed(e.to_string())))?;
        let store = Postgres::connect(postgres::Connection {
            url,
            listen_url: listen_url.as_deref(),
            password: password.as_ref().map(Secret::expose),
            tls,
            leases: *leases,
        })
        .await
        .map_err(fail)?;
        Ok(Self::with(Store::Postgres(Arc::new(store)), keys, location))
    }

    fn with(store: Store, keys: Keys, location: String) -> Self {
        Records {
            store,
            keys,
            location,
            events: broadcast::channel(events::CAPACITY).0,
            listening: OnceLock::new(),
            versions: Mutex::default(),
            listened: tokio::sync::watch::Sender::new(false),
            rooms: RoomLocks::default(),
        }
    }

    /// Whether several hosts may share these records (PostgreSQL).
    pub fn shared(&self) -> bool {
        matches!(self.store, Store::Postgres(_))
    }

    /// The PostgreSQL database, when the records are there.
    pub(crate) fn postgres(&self) -> Option<&Arc<Postgres>> {
        match &self.store {
            Store::Postgres(postgres) => Some(postgres),
            Store::Sqlite(_) => None,
        }
    }

    /// Room events: this process's writes on SQLite; every host's on PostgreSQL (the first
    /// call starts listening for them).
    pub fn subscribe(&self) -> broadcast::Receiver<RoomEvent> {
        let receiver = self.events.subscribe();
        if let Some(postgres) = self.postgres()
            && self.listening.set(()).is_ok()
        {
            tokio::spawn(postgres::listen(
                postgres.listen_config(),
                self.events.clone(),
                self.listened.clone(),
            ));
        }
        receiver
    }

    /// Waits up to `within` until room events of every host reach this process (after
    /// [`Records::subscribe`]); whether they do. On SQLite they do at once.
    pub async fn listening(&self, within: std::time::Duration) -> bool {
        if self.postgres().is_none() {
            return true;
        }
        let mut listened = self.listened.subscribe();
        tokio::time::timeout(within, listened.wait_for(|yes| *yes))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Sends `event` to this process's sessions (events that are not announced on a shared
    /// database), at its room's next version, which this process counts.
    pub(crate) fn announce_here(&self, event: RoomEvent) {
        let event = match event.room() {
            Some(room) => {
                let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
                let version = versions.entry(room.to_owned()).or_insert(0);
                *version += 1;
                let version = *version;
                // Sent while counted, so that the events of a room leave in their order.
                let _ = self.events.send(event.at(version));
                return;
            }
            None => event,
        };
        let _ = self.events.send(event);
    }

    /// The version of `room`'s last event (0 before any): a session that reads it before the
    /// room's state has seen every event up to it in that state (events.rs).
    pub async fn room_version(&self, room: &str) -> Result<u64, RecordsError> {
        match &self.store {
            Store::Sqlite(_) => Ok(self
                .versions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(room)
                .copied()
                .unwrap_or(0)),
            Store::Postgres(db) => bounded(db.room_version(room))
                .await
                .map_err(|m| self.error(m)),
        }
    }

    /// What the records hold for `room`.
    pub async fn get(&self, room: &str) -> Result<Option<RoomState>, RecordsError> {
        let stored = match &self.store {
            Store::Sqlite(db) => db.get(room).map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.get(room)).await,
        }
        .map_err(|m| self.error(m))?;
        stored.map(|s| self.room_state(room, s)).transpose()
    }

    fn room_state(&self, room: &str, stored: Stored) -> Result<RoomState, RecordsError> {
        let maker = Maker {
            contract: Contract::parse(&format!("{}.0", stored.contract)).ok_or_else(|| {
                self.error(format!("unknown contract version {:?}", stored.contract))
            })?,
            provider: stored.provider,
            digest: stored.digest,
            storage: stored.storage,
            account: stored.account,
        };
        if stored.state == "pending" {
            return Ok(RoomState::Pending { maker });
        }
        let missing = |column: &str| self.error(format!("room {room:?} has no {column}"));
        let link = |url: Option<String>, password: Option<String>, which: Link| {
            let password = password.ok_or_else(|| missing("password"))?;
            Ok::<_, RecordsError>(ShareLink {
                url: url.ok_or_else(|| missing("link"))?,
                password: Secret::new(
                    self.keys
                        .open(room, which, &password)
                        .map_err(|e| self.error(e.to_string()))?,
                ),
            })
        };
        let record = FolderRecord {
            room: room.to_owned(),
            maker,
            path: stored.path.ok_or_else(|| missing("path"))?,
            handle: stored.handle.ok_or_else(|| missing("handle"))?,
            read: link(stored.read_url, stored.read_password, Link::Read)?,
            read_write: link(
                stored.read_write_url,
                stored.read_write_password,
                Link::ReadWrite,
            )?,
            created_at_unix: stored.created_at.try_into().unwrap_or(0),
        };
        Ok(if stored.state == "deleting" {
            RoomState::Deleting(record)
        } else {
            RoomState::Ready(record)
        })
    }

    /// The rooms whose create or delete started and never finished.
    pub async fn unfinished(&self) -> Result<Vec<Unfinished>, RecordsError> {
        match &self.store {
            Store::Sqlite(db) => db.unfinished().map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.unfinished()).await,
        }
        .map_err(|m| self.error(m))
    }

    /// How many rooms have a folder.
    pub async fn count(&self) -> Result<u64, RecordsError> {
        match &self.store {
            Store::Sqlite(db) => db.count().map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.count()).await,
        }
        .map(|n| n.try_into().unwrap_or(0))
        .map_err(|m| self.error(m))
    }

    /// Notes that a create of `room` by `maker` starts now.
    pub async fn begin_create(&self, room: &str, maker: &Maker) -> Result<(), RecordsError> {
        let written = Written {
            maker,
            contract: maker.contract.to_string(),
            path: "",
            handle: "",
            read_url: "",
            read_password: String::new(),
            read_write_url: "",
            read_write_password: String::new(),
            created_at: now_unix_i64(),
        };
        match &self.store {
            Store::Sqlite(db) => db.begin_create(room, &written).map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.begin_create(room, &written)).await,
        }
        .map_err(|m| self.error(m))
    }

    /// Stores the outcome of a create: the pending row becomes the record, and the room's
    /// sessions hear of it. Refused when the room has no pending create any more (recovery
    /// purged it — e.g. on another host, after this host's connection holding the room was
    /// lost): the caller must then undo what the provider made.
    pub async fn finish_create(&self, record: &FolderRecord) -> Result<(), RecordsError> {
        let room = record.room.as_str();
        let written = self.written(record);
        let finished = match &self.store {
            Store::Sqlite(db) => db.finish_create(room, &written).map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.finish_create(room, &written)).await,
        }
        .map_err(|m| self.error(m))?;
        if !finished {
            return Err(self.error(format!(
                "room {room:?} has no pending create any more (recovery cleaned it up meanwhile)"
            )));
        }
        if let Store::Sqlite(_) = self.store {
            self.announce_here(RoomEvent::folder(room));
        }
        Ok(())
    }

    /// Every room the records hold a row for (a folder, a create or a delete under way), in
    /// order.
    pub async fn rooms(&self) -> Result<Vec<String>, RecordsError> {
        match &self.store {
            Store::Sqlite(db) => db.rooms().map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.rooms()).await,
        }
        .map_err(|m| self.error(m))
    }

    /// Writes `record` as the room's folder, whether the room had no record or a ready one (a
    /// repair: a folder recovered from the storage), and the room's sessions hear of it. Never
    /// through a pending create, which a recovery would purge — with the folder's files. Refused
    /// while a create or delete of the room is under way.
    pub async fn adopt(&self, record: &FolderRecord) -> Result<(), RecordsError> {
        let room = record.room.as_str();
        let written = self.written(record);
        let adopted = match &self.store {
            Store::Sqlite(db) => db.adopt(room, &written).map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.adopt(room, &written)).await,
        }
        .map_err(|m| self.error(m))?;
        if !adopted {
            return Err(self.error(format!(
                "room {room:?} has a create or delete under way; its record was left as it is"
            )));
        }
        if let Store::Sqlite(_) = self.store {
            self.announce_here(RoomEvent::folder(room));
        }
        Ok(())
    }

    /// What the stores write of `record`, its passwords sealed.
    fn written<'a>(&self, record: &'a FolderRecord) -> Written<'a> {
        let room = record.room.as_str();
        Written {
            maker: &record.maker,
            contract: record.maker.contract.to_string(),
            path: &record.path,
            handle: &record.handle,
            read_url: &record.read.url,
            read_password: self
                .keys
                .seal(room, Link::Read, record.read.password.expose()),
            read_write_url: &record.read_write.url,
            read_write_password: self.keys.seal(
                room,
                Link::ReadWrite,
                record.read_write.password.expose(),
            ),
            created_at: i64::try_from(record.created_at_unix).unwrap_or(i64::MAX),
        }
    }

    /// Notes that a delete of `room`'s folder starts now: from here on the record is not
    /// shown, only finishing the delete removes it, and the room's sessions hear it is gone.
    pub async fn begin_delete(&self, room: &str) -> Result<(), RecordsError> {
        match &self.store {
            Store::Sqlite(db) => {
                if db.begin_delete(room).map_err(|m| self.error(m))? {
                    self.announce_here(RoomEvent::folder(room));
                }
                Ok(())
            }
            Store::Postgres(db) => bounded(db.begin_delete(room))
                .await
                .map(drop)
                .map_err(|m| self.error(m)),
        }
    }

    /// Forgets `room` (its record or pending create).
    pub async fn remove(&self, room: &str) -> Result<(), RecordsError> {
        match &self.store {
            Store::Sqlite(db) => db.remove(room).map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.remove(room)).await,
        }
        .map_err(|m| self.error(m))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), RecordsError> {
        match &self.store {
            Store::Sqlite(db) => db.ping().map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.ping()).await,
        }
        .map_err(|m| self.error(m))
    }

    /// Seals every share password with the key that seals now (after a key rotation, or for
    /// passwords a host wrote before sealing). Returns how many rooms' passwords it sealed
    /// again; a room changed meanwhile by another operation is left to that operation.
    pub async fn rekey(&self) -> Result<usize, RecordsError> {
        let rows = match &self.store {
            Store::Sqlite(db) => db.passwords().map_err(StoreError::from),
            Store::Postgres(db) => bounded(db.passwords()).await,
        }
        .map_err(|m| self.error(m))?;
        let mut sealed = 0;
        for (room, read, read_write) in rows {
            if self.keys.is_current(&read) && self.keys.is_current(&read_write) {
                continue;
            }
            let open = |link, stored: &str| {
                self.keys
                    .open(&room, link, stored)
                    .map(|plain| self.keys.seal(&room, link, &plain))
                    .map_err(|e| self.error(e.to_string()))
            };
            let after = (
                open(Link::Read, &read)?,
                open(Link::ReadWrite, &read_write)?,
            );
            let before = (read.as_str(), read_write.as_str());
            let after = (after.0.as_str(), after.1.as_str());
            let replaced = match &self.store {
                Store::Sqlite(db) => db
                    .replace_passwords(&room, before, after)
                    .map_err(StoreError::from),
                Store::Postgres(db) => bounded(db.replace_passwords(&room, before, after)).await,
            }
            .map_err(|m| self.error(m))?;
            sealed += usize::from(replaced);
        }
        Ok(sealed)
    }

    /// Holds `room` for one operation (waiting while another holds it, on any host).
    pub async fn lock_room(&self, room: &str) -> Result<RoomLock<'_>, RecordsError> {
        let local = self.rooms.lock(room).await;
        let shared = match &self.store {
            Store::Sqlite(_) => None,
            Store::Postgres(db) => Some(db.lock_room(room).await.map_err(|m| self.error(m))?),
        };
        Ok(RoomLock {
            _shared: shared,
            _local: local,
        })
    }

    /// Holds `room` if no operation (here or on another host) is working on it now: recovery
    /// neither waits for, nor undoes, an operation under way.
    pub async fn try_lock_room(&self, room: &str) -> Result<Option<RoomLock<'_>>, RecordsError> {
        let Some(local) = self.rooms.try_lock(room) else {
            return Ok(None);
        };
        let shared = match &self.store {
            Store::Sqlite(_) => None,
            Store::Postgres(db) => match db.try_lock_room(room).await.map_err(|m| self.error(m))? {
                Some(lock) => Some(lock),
                None => return Ok(None),
            },
        };
        Ok(Some(RoomLock {
            _shared: shared,
            _local: local,
        }))
    }

    /// The right to run recovery now: always for one host; on PostgreSQL, unless another
    /// host is running it (then `None`).
    pub async fn try_lock_recovery(&self) -> Result<Option<RecoveryLock>, RecordsError> {
        match &self.store {
            Store::Sqlite(_) => Ok(Some(RecoveryLock { _held: None })),
            Store::Postgres(db) => Ok(db
                .try_lock_reconcile()
                .await
                .map_err(|m| self.error(m))?
                .map(|lock| RecoveryLock { _held: Some(lock) })),
        }
    }

    fn error(&self, error: impl Into<StoreError>) -> RecordsError {
        error_at(&self.location, error.into())
    }
}

/// `error`, met by the records at `location`.
fn error_at(location: &str, error: StoreError) -> RecordsError {
    let unavailable = matches!(error, StoreError::Unavailable(_));
    let message = error.to_string();
    RecordsError {
        location: location.to_owned(),
        message,
        unavailable,
    }
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
        let guard = self.mutex(room).lock_owned().await;
        self.guard(room, guard)
    }

    /// The room's lock, if nobody holds it now.
    pub fn try_lock(&self, room: &str) -> Option<RoomGuard<'_>> {
        // Held: then its holder's guard forgets the room when it is done.
        let guard = self.mutex(room).try_lock_owned().ok()?;
        Some(self.guard(room, guard))
    }

    /// The room's mutex, made when the room has none (clones are taken under the map's lock
    /// only: see `RoomGuard`'s drop).
    fn mutex(&self, room: &str) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(
            self.held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(room.to_owned())
                .or_default(),
        )
    }

    fn guard(&self, room: &str, guard: tokio::sync::OwnedMutexGuard<()>) -> RoomGuard<'_> {
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
    use rusqlite::Connection;

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

    #[tokio::test]
    async fn records_survive_reopening_the_file() {
        let dir = std::env::temp_dir().join(format!("records-test-{}", std::process::id()));
        let path = dir.join("state").join("folders.sqlite3");
        let _ = std::fs::remove_dir_all(&dir);
        {
            let records = Records::open(&path).unwrap();
            records.begin_create("a", &maker()).await.unwrap();
            records.finish_create(&record("a")).await.unwrap();
            records.begin_create("b", &maker()).await.unwrap();
        }
        let records = Records::open(&path).unwrap();
        assert_eq!(
            records.get("a").await.unwrap(),
            Some(RoomState::Ready(record("a")))
        );
        assert_eq!(
            records.get("b").await.unwrap(),
            Some(RoomState::Pending { maker: maker() })
        );
        assert_eq!(
            records.unfinished().await.unwrap(),
            [Unfinished::Create("b".into())]
        );
        assert_eq!(records.count().await.unwrap(), 1);
        records.remove("b").await.unwrap();
        assert_eq!(records.get("b").await.unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_delete_under_way_hides_the_record_until_it_is_finished() {
        let records = Records::in_memory().unwrap();
        records.begin_create("a", &maker()).await.unwrap();
        records.finish_create(&record("a")).await.unwrap();
        records.begin_delete("a").await.unwrap();
        assert_eq!(
            records.get("a").await.unwrap(),
            Some(RoomState::Deleting(record("a")))
        );
        assert_eq!(records.count().await.unwrap(), 0);
        assert_eq!(
            records.unfinished().await.unwrap(),
            [Unfinished::Delete("a".into())]
        );
        // A pending create is not turned into a delete.
        records.begin_create("b", &maker()).await.unwrap();
        records.begin_delete("b").await.unwrap();
        assert!(matches!(
            records.get("b").await.unwrap(),
            Some(RoomState::Pending { .. })
        ));
    }

    #[tokio::test]
    async fn a_version_1_file_is_migrated_with_its_rows() {
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
        let Some(RoomState::Ready(a)) = records.get("a").await.unwrap() else {
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
        records.begin_delete("a").await.unwrap();
        assert_eq!(
            records.unfinished().await.unwrap(),
            [
                Unfinished::Delete("a".into()),
                Unfinished::Create("b".into())
            ]
        );
        drop(records);
        // Opening it again changes nothing.
        let records = Records::open(&path).unwrap();
        assert_eq!(records.unfinished().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_second_pending_create_of_a_room_is_refused() {
        let records = Records::in_memory().unwrap();
        records.begin_create("a", &maker()).await.unwrap();
        let error = records.begin_create("a", &maker()).await.unwrap_err();
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
        // A try while it is held gets nothing, and leaves nothing behind.
        let held = locks.lock("a").await;
        assert!(locks.try_lock("a").is_none());
        drop(held);
        assert!(locks.try_lock("a").is_some());
        assert_eq!(locks.rooms(), 0);
    }
}
