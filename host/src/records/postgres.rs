//! The records in PostgreSQL, shared by every host of a platform (and the CLI beside them).
//!
//! Besides the rows, PostgreSQL gives the hosts what one process gave itself before:
//! - **one operation per room across hosts**: a session-level advisory lock per room, held on
//!   a connection of its own while the operation runs ([`Postgres::lock_room`]). A host that
//!   dies loses its connection, and with it the lock, so another host can clean up after it;
//! - **one reconcile at a time** ([`Postgres::try_lock_reconcile`]);
//! - **room events for every host**: a change of a folder record is announced with
//!   `pg_notify` in the same statement that writes it, and [`listen`] hands every announcement
//!   to this host's sessions. LISTEN/NOTIFY rather than Redis: the database is already there,
//!   a notification is sent only if its write commits, and there is one server fewer to run.
//!
//! The password is never part of the URL (it is refused there): it comes from
//! `[host].database_password_file` or `database_password_env`. TLS is used when the URL asks
//! for it (`sslmode=require`, or `prefer`: when the server offers it), and then the server's
//! certificate and name are verified against the system's roots and `[host].ca_bundle` — more
//! than libpq's `require`, which does not verify. Without `sslmode` the connection is plain
//! (a unix socket, loopback or a private network), as Debian's own cluster would otherwise
//! be refused for its self-signed certificate.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{Stored, Unfinished, Written};
use crate::events::{CHANNEL, RoomEvent};

mod embedded {
    refinery::embed_migrations!("src/records/migrations/postgres");
}

/// The part of a statement that raises the version of the room its CTE `written` returned
/// (events.rs: a room's events carry its version), in the same statement as the write.
macro_rules! raise_room_version {
    () => {
        "raised AS (
             INSERT INTO room_versions AS v (room, version) SELECT room, 1 FROM written
             ON CONFLICT (room) DO UPDATE SET version = v.version + 1
             RETURNING room, version)"
    };
}

/// A folder event's notification payload, as `RoomEvent::parse` reads it, at the version
/// `raised` returned.
macro_rules! folder_event {
    () => {
        "json_build_object('folder',
             json_build_object('room', raised.room, 'version', raised.version))::text"
    };
}

/// The values of a record's columns, `$1`…`$13` in the order the statements that write a
/// record name them: room, maker (provider, contract, digest, storage, account), path,
/// handle, the links and their sealed passwords, when it was made.
fn record_values<'a>(room: &'a &'a str, written: &'a Written<'a>) -> [&'a (dyn ToSql + Sync); 13] {
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

/// The connections to one PostgreSQL database.
pub struct Postgres {
    /// For statements: each one is short.
    queries: Pool,
    /// For advisory locks, each held by its connection while a room's operation runs; apart,
    /// so that operations waiting for a room never keep a statement from a connection.
    locks: Pool,
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

/// How long a connection is quiet before keepalive probes start.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Connections per host: for statements, and for the room locks held while operations run
/// (one per room in progress on this host, up to the calls in flight); with the listener,
/// 16 + 32 + 1 (README: a server's `max_connections` for N hosts).
const QUERY_CONNECTIONS: usize = 16;
const LOCK_CONNECTIONS: usize = 32;

/// Statements wait this long for a connection from the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// The lock key of the reconcile round and of the schema migration (rooms' keys are hashes
/// and do not collide with these in practice).
const RECONCILE_KEY: i64 = 0x5346_5245_434f_4e43; // "SFRECONC"
const MIGRATE_KEY: i64 = 0x5346_4d49_4752_4154; // "SFMIGRAT"

/// The columns [`Stored`] is read from, in its order.
const SELECT: &str = "SELECT provider, contract, digest, storage, account, state, path, handle,
        read_url, read_password, read_write_url, read_write_password, created_at
    FROM folders";

impl Postgres {
    /// Connects to `url` with `password`, and brings the schema up to date (one host at a
    /// time: the migration holds an advisory lock).
    pub async fn connect(
        url: &str,
        password: Option<&str>,
        tls: rustls::ClientConfig,
    ) -> Result<Self, String> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
        if !url.contains("sslmode=") {
            config.ssl_mode(SslMode::Disable);
        }
        let tls = MakeRustlsConnect::new(tls);
        if config.get_password().is_some() {
            return Err(
                "the URL carries a password: give it in database_password_file or \
                 database_password_env instead, so it is not shown wherever the URL is"
                    .into(),
            );
        }
        if let Some(password) = password {
            config.password(password);
        }
        config.application_name("shared-folder-host");
        config.connect_timeout(Duration::from_secs(10));
        // A peer that vanishes without closing its sockets (power loss, a partition) is found
        // within about a minute, on both sides: this host's client gives up a dead server,
        // and the server drops a dead host's session — and with it the room locks it held,
        // for another host's recovery to clean up after it.
        config.keepalives(true);
        config.keepalives_idle(KEEPALIVE_IDLE);
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
        let server_keepalives =
            "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3";
        let options = match config.get_options() {
            Some(given) => format!("{given} {server_keepalives}"),
            None => server_keepalives.to_owned(),
        };
        config.options(&options);
        let pool = |size: usize| {
            let manager = Manager::from_config(
                config.clone(),
                tls.clone(),
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(manager)
                .max_size(size)
                .wait_timeout(Some(POOL_WAIT))
                .create_timeout(Some(Duration::from_secs(10)))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| e.to_string())
        };
        let postgres = Postgres {
            queries: pool(QUERY_CONNECTIONS)?,
            locks: pool(LOCK_CONNECTIONS)?,
            config,
            tls,
        };
        postgres.migrate().await?;
        Ok(postgres)
    }

    async fn migrate(&self) -> Result<(), String> {
        let (mut client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(describe)?;
        let driver = tokio::spawn(connection);
        let migrated = async {
            client
                .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_KEY])
                .await
                .map_err(describe)?;
            embedded::migrations::runner()
                .run_async(&mut client)
                .await
                .map_err(|e| format!("migrating the schema: {e}"))
        }
        .await;
        // Closing the connection releases the lock.
        drop(client);
        let _ = driver.await;
        migrated.map(drop)
    }

    /// A connection for statements.
    pub async fn client(&self) -> Result<Object, String> {
        self.queries.get().await.map_err(|e| e.to_string())
    }

    pub async fn get(&self, room: &str) -> Result<Option<Stored>, String> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("{SELECT} WHERE room = $1"), &[&room])
            .await
            .map_err(describe)?;
        row.map(|row| -> Result<Stored, tokio_postgres::Error> {
            Ok(Stored {
                provider: row.try_get(0)?,
                contract: row.try_get(1)?,
                digest: row.try_get(2)?,
                storage: row.try_get(3)?,
                account: row.try_get(4)?,
                state: row.try_get(5)?,
                path: row.try_get(6)?,
                handle: row.try_get(7)?,
                read_url: row.try_get(8)?,
                read_password: row.try_get(9)?,
                read_write_url: row.try_get(10)?,
                read_write_password: row.try_get(11)?,
                created_at: row.try_get(12)?,
            })
        })
        .transpose()
        .map_err(describe)
    }

    pub async fn unfinished(&self) -> Result<Vec<Unfinished>, String> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT room, state FROM folders WHERE state IN ('pending', 'deleting')
                 ORDER BY room",
                &[],
            )
            .await
            .map_err(describe)?;
        rows.iter()
            .map(|row| Ok(Unfinished::of(row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(describe)
    }

    pub async fn count(&self) -> Result<i64, String> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT COUNT(*) FROM folders WHERE state = 'ready'", &[])
            .await
            .map_err(describe)?;
        row.try_get(0).map_err(describe)
    }

    pub async fn begin_create(&self, room: &str, written: &Written<'_>) -> Result<(), String> {
        let maker = written.maker;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO folders (room, provider, contract, digest, storage, account, state,
                     created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
                &[
                    &room,
                    &maker.provider,
                    &written.contract,
                    &maker.digest,
                    &maker.storage,
                    &maker.account,
                    &written.created_at,
                ],
            )
            .await
            .map(drop)
            .map_err(describe)
    }

    /// Turns the room's pending row into the record and announces it, in one statement;
    /// whether it did (the row is not there when recovery purged the create meanwhile).
    pub async fn finish_create(&self, room: &str, written: &Written<'_>) -> Result<bool, String> {
        let client = self.client().await?;
        client
            .execute(
                concat!(
                    "WITH written AS (
                     UPDATE folders SET provider = $2, contract = $3, digest = $4,
                         storage = $5, account = $6, state = 'ready', path = $7, handle = $8,
                         read_url = $9, read_password = $10, read_write_url = $11,
                         read_write_password = $12, created_at = $13
                     WHERE room = $1 AND state = 'pending'
                     RETURNING room),
                 ",
                    raise_room_version!(),
                    "
                 SELECT pg_notify($14, ",
                    folder_event!(),
                    ") FROM raised"
                ),
                &[record_values(&room, written).as_slice(), &[&CHANNEL]].concat(),
            )
            .await
            .map(|rows| rows > 0)
            .map_err(describe)
    }

    /// The room's version: that of its last event (0 before any).
    pub async fn room_version(&self, room: &str) -> Result<u64, String> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT version FROM room_versions WHERE room = $1",
                &[&room],
            )
            .await
            .map_err(describe)?;
        match row {
            Some(row) => {
                let version: i64 = row.try_get(0).map_err(describe)?;
                Ok(u64::try_from(version).unwrap_or(0))
            }
            None => Ok(0),
        }
    }

    /// Every room with a row, in order.
    pub async fn rooms(&self) -> Result<Vec<String>, String> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT room FROM folders ORDER BY room", &[])
            .await
            .map_err(describe)?;
        rows.iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(describe)
    }

    /// Writes a ready record for `room`, whether it had none or a ready one, and announces it,
    /// in one statement; whether it did (a create or delete under way is left alone).
    pub async fn adopt(&self, room: &str, written: &Written<'_>) -> Result<bool, String> {
        let client = self.client().await?;
        client
            .execute(
                concat!(
                "WITH written AS (
                     INSERT INTO folders (room, provider, contract, digest, storage, account, state, path, handle,
                     read_url, read_password, read_write_url, read_write_password, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'ready', $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (room) DO UPDATE SET provider = excluded.provider,
                         contract = excluded.contract, digest = excluded.digest,
                         storage = excluded.storage, account = excluded.account,
                         path = excluded.path, handle = excluded.handle,
                         read_url = excluded.read_url, read_password = excluded.read_password,
                         read_write_url = excluded.read_write_url,
                         read_write_password = excluded.read_write_password,
                         created_at = excluded.created_at
                     WHERE folders.state = 'ready'
                     RETURNING room),
                 ", raise_room_version!(), "
                 SELECT pg_notify($14, ", folder_event!(), ") FROM raised"),
                &[record_values(&room, written).as_slice(), &[&CHANNEL]].concat(),
            )
            .await
            .map(|rows| rows > 0)
            .map_err(describe)
    }

    /// Marks a ready record as being deleted and announces it, in one statement; whether it
    /// was ready.
    pub async fn begin_delete(&self, room: &str) -> Result<bool, String> {
        let client = self.client().await?;
        client
            .execute(
                concat!(
                    "WITH written AS (
                     UPDATE folders SET state = 'deleting' WHERE room = $1 AND state = 'ready'
                     RETURNING room),
                 ",
                    raise_room_version!(),
                    "
                 SELECT pg_notify($2, ",
                    folder_event!(),
                    ") FROM raised"
                ),
                &[&room, &CHANNEL],
            )
            .await
            .map(|rows| rows > 0)
            .map_err(describe)
    }

    pub async fn remove(&self, room: &str) -> Result<(), String> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM folders WHERE room = $1", &[&room])
            .await
            .map(drop)
            .map_err(describe)
    }

    /// Every room with stored passwords, and them as stored.
    pub async fn passwords(&self) -> Result<Vec<(String, String, String)>, String> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT room, read_password, read_write_password FROM folders
                 WHERE read_password IS NOT NULL AND read_write_password IS NOT NULL",
                &[],
            )
            .await
            .map_err(describe)?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(describe)
    }

    /// Replaces a room's stored passwords, if they are still `before`.
    pub async fn replace_passwords(
        &self,
        room: &str,
        before: (&str, &str),
        after: (&str, &str),
    ) -> Result<bool, String> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE folders SET read_password = $4, read_write_password = $5
                 WHERE room = $1 AND read_password = $2 AND read_write_password = $3",
                &[&room, &before.0, &before.1, &after.0, &after.1],
            )
            .await
            .map(|rows| rows > 0)
            .map_err(describe)
    }

    pub async fn ping(&self) -> Result<(), String> {
        let client = self.client().await?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map(drop)
            .map_err(describe)
    }

    /// Waits until no other host (or task) holds `room`'s lock, and holds it.
    pub async fn lock_room(&self, room: &str) -> Result<AdvisoryLock, String> {
        let key = room_key(room);
        let mut lock = AdvisoryLock {
            client: Some(self.locks.get().await.map_err(|e| e.to_string())?),
            key,
            held: false,
        };
        // Until it is held, dropping `lock` (this future cancelled) closes its connection, so
        // that a lock granted after the wait was given up is not kept by the pool.
        if let Some(client) = &lock.client {
            client
                .execute("SELECT pg_advisory_lock($1)", &[&key])
                .await
                .map_err(describe)?;
        }
        lock.held = true;
        Ok(lock)
    }

    /// The reconcile lock, if no other host holds it now.
    pub async fn try_lock_reconcile(&self) -> Result<Option<AdvisoryLock>, String> {
        self.try_lock(RECONCILE_KEY).await
    }

    /// `room`'s lock, if nobody holds it now.
    pub async fn try_lock_room(&self, room: &str) -> Result<Option<AdvisoryLock>, String> {
        self.try_lock(room_key(room)).await
    }

    async fn try_lock(&self, key: i64) -> Result<Option<AdvisoryLock>, String> {
        let mut lock = AdvisoryLock {
            client: Some(self.locks.get().await.map_err(|e| e.to_string())?),
            key,
            held: false,
        };
        let Some(client) = &lock.client else {
            return Ok(None);
        };
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(describe)?;
        let taken: bool = row.try_get(0).map_err(describe)?;
        lock.held = taken;
        if !taken {
            // Nothing is held on it: back to the pool, not closed.
            drop(lock.client.take());
            return Ok(None);
        }
        Ok(Some(lock))
    }
}

/// An advisory lock held by a connection of its own. Dropping it unlocks it and gives the
/// connection back (or, if that cannot be done, closes the connection, which unlocks too).
pub struct AdvisoryLock {
    client: Option<Object>,
    key: i64,
    /// Whether the lock was granted; a lock not (yet) granted closes its connection on drop.
    held: bool,
}

impl Drop for AdvisoryLock {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let runtime = tokio::runtime::Handle::try_current();
        match runtime {
            Ok(runtime) if self.held => {
                let key = self.key;
                runtime.spawn(async move {
                    let unlocked = client
                        .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                        .await
                        .and_then(|row| row.try_get::<_, bool>(0));
                    if !matches!(unlocked, Ok(true)) {
                        drop(Object::take(client));
                    }
                });
            }
            _ => drop(Object::take(client)),
        }
    }
}

/// A room's advisory lock key: the first 8 bytes of a SHA-256 of its id.
fn room_key(room: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"shared-folder room\0")
        .chain_update(room.as_bytes())
        .finalize();
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

/// Hands every room event announced on the database to `events`, for as long as `events`
/// has receivers. The first time it listens it says so on `listening` (the service waits for
/// that before it accepts anyone); after every reconnection it sends [`RoomEvent::Resync`]:
/// announcements made while it was away are lost, so sessions are brought up to date instead.
pub async fn listen(
    (config, tls): (tokio_postgres::Config, MakeRustlsConnect),
    events: broadcast::Sender<RoomEvent>,
    listening: tokio::sync::watch::Sender<bool>,
) {
    let mut wait = Duration::from_millis(200);
    while events.receiver_count() > 0 {
        match config.connect(tls.clone()).await {
            Ok((client, mut connection)) => {
                let (found, mut notifications) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    while let Some(message) =
                        std::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                if found.send(n.payload().to_owned()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(error) => {
                                tracing::warn!(error = %describe(error), "lost the database's event connection");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        wait = Duration::from_millis(200);
                        if *listening.borrow() {
                            let _ = events.send(RoomEvent::Resync);
                        } else {
                            listening.send_replace(true);
                        }
                        while let Some(payload) = notifications.recv().await {
                            match RoomEvent::parse(&payload) {
                                Some(event) => {
                                    if events.send(event).is_err() {
                                        break;
                                    }
                                }
                                None => tracing::warn!(
                                    "an event on the database that is not one of ours"
                                ),
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %describe(error), "could not listen for room events");
                    }
                }
                driver.abort();
            }
            Err(error) => {
                tracing::warn!(error = %describe(error), "could not connect for room events; trying again");
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}

impl Postgres {
    /// What [`listen`] connects with.
    pub fn listen_config(&self) -> (tokio_postgres::Config, MakeRustlsConnect) {
        (self.config.clone(), self.tls.clone())
    }
}

/// How the database at `url` is named in errors and logs: user, hosts, ports and database
/// as parsed, never a password (even from a URL that wrongly carries one).
pub fn location(url: &str) -> String {
    let Ok(config) = tokio_postgres::Config::from_str(url) else {
        return "the PostgreSQL URL (which does not read as one)".to_owned();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// Whether `url` reads as a PostgreSQL URL, and whether it carries a password.
pub fn check_url(url: &str) -> Result<(), &'static str> {
    match tokio_postgres::Config::from_str(url) {
        Err(_) => {
            Err("is not a PostgreSQL URL (postgres://user@host:port/database[?sslmode=require])")
        }
        Ok(config) if config.get_password().is_some() => Err(
            "the URL carries a password: give it in database_password_file or \
             database_password_env instead",
        ),
        Ok(_) => Ok(()),
    }
}

/// A database error with PostgreSQL's own message and code, when it sent one.
pub fn describe(error: tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(&error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}
