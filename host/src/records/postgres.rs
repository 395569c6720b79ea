//! The records in PostgreSQL, shared by every host of a platform (and the CLI beside them).
//!
//! Besides the rows, PostgreSQL gives the hosts what one process gave itself before:
//! - **one operation per room across hosts**: a lease per room in the `leases` table, held
//!   while the operation runs and renewed meanwhile (`leases.rs`). A host that dies stops
//!   renewing, and once its leases ran out another host cleans up after it;
//! - **one reconcile at a time**: a lease too ([`Postgres::try_lock_reconcile`]);
//! - **room events for every host**: a change of a folder record is announced with
//!   `pg_notify` in the same statement that writes it, and [`listen`] hands every announcement
//!   to this host's sessions. LISTEN/NOTIFY rather than Redis: the database is already there,
//!   a notification is sent only if its write commits, and there is one server fewer to run.
//!
//! Nothing but LISTEN keeps state in a session: every statement is sent with its parameters'
//! types in one round trip (`query_typed`: an unnamed statement, nothing prepared outlives
//! it), the pool recycles connections without a statement, and leases are rows. So `database`
//! may be a PgBouncer in transaction mode (any version: no `max_prepared_statements` needed),
//! and a host holds [`QUERY_CONNECTIONS`] connections at most whatever the number of rooms in
//! progress. LISTEN needs a session of its own, on a direct connection to the server:
//! `[host].database_listen_url` when `database` is a PgBouncer (one connection per host).
//!
//! The password is never part of the URL (it is refused there): it comes from
//! `[host].database_password_file` or `database_password_env`. TLS is used when the URL asks
//! for it (`sslmode=require`, or `prefer`: when the server offers it), and then the server's
//! certificate and name are verified against the system's roots and `[host].ca_bundle` — more
//! than libpq's `require`, which does not verify. Without `sslmode` the connection is plain
//! (a unix socket, loopback or a private network), as Debian's own cluster would otherwise
//! be refused for its self-signed certificate.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::leases::{Lease, LeaseTiming, Leases};
use super::{StoreError, Stored, Unfinished, Written, describe};
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

/// The values of a record's columns with their types, `$1`…`$13` in the order the statements
/// that write a record name them: room, maker (provider, contract, digest, storage, account),
/// path, handle, the links and their sealed passwords, when it was made.
fn record_values<'a>(
    room: &'a &'a str,
    written: &'a Written<'a>,
) -> [(&'a (dyn ToSql + Sync), Type); 13] {
    let maker = written.maker;
    [
        (room, Type::TEXT),
        (&maker.provider, Type::TEXT),
        (&written.contract, Type::TEXT),
        (&maker.digest, Type::TEXT),
        (&maker.storage, Type::TEXT),
        (&maker.account, Type::TEXT),
        (&written.path, Type::TEXT),
        (&written.handle, Type::TEXT),
        (&written.read_url, Type::TEXT),
        (&written.read_password, Type::TEXT),
        (&written.read_write_url, Type::TEXT),
        (&written.read_write_password, Type::TEXT),
        (&written.created_at, Type::INT8),
    ]
}

/// The connections to one PostgreSQL database.
pub struct Postgres {
    /// For statements: each one is short, and holds its connection for its own time only.
    queries: Pool,
    /// Rooms' and recovery's leases, taken and renewed with `queries`' connections.
    leases: Arc<Leases>,
    /// What [`listen`] connects with: directly to the server.
    listen: (tokio_postgres::Config, MakeRustlsConnect),
}

/// How long a connection is quiet before keepalive probes start.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Connections per host for statements, whatever the number of rooms in progress; with the
/// listener, 16 + 1 (README: a server's `max_connections` for N hosts).
pub const QUERY_CONNECTIONS: usize = 16;

/// Statements wait this long for a connection from the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// How often a migration that failed is run again (another host may have been migrating at
/// the same moment), and how long it waits in between.
const MIGRATE_ATTEMPTS: usize = 5;
const MIGRATE_WAIT: Duration = Duration::from_millis(200);

/// The lease of the reconcile round (rooms' leases are `room:<id>`).
const RECONCILE_LEASE: &str = "reconcile";

/// The columns [`Stored`] is read from, in its order.
const SELECT: &str = "SELECT provider, contract, digest, storage, account, state, path, handle,
        read_url, read_password, read_write_url, read_write_password, created_at
    FROM folders";

/// Where and how a host connects (see [`Postgres::connect`]).
pub struct Connection<'a> {
    /// The database for statements: the server, or a PgBouncer before it.
    pub url: &'a str,
    /// The server itself, for LISTEN, when `url` is a PgBouncer (`None`: `url`).
    pub listen_url: Option<&'a str>,
    pub password: Option<&'a str>,
    pub tls: rustls::ClientConfig,
    pub leases: LeaseTiming,
}

impl Postgres {
    /// Connects as `connection` says, and brings the schema up to date.
    pub async fn connect(connection: Connection<'_>) -> Result<Self, StoreError> {
        let tls = MakeRustlsConnect::new(connection.tls);
        let config = client_config(connection.url, connection.password)?;
        let mut listen = match connection.listen_url {
            Some(url) => client_config(url, connection.password)?,
            None => config.clone(),
        };
        // The server drops a dead host's listening session within about a minute. (Not on the
        // pool's connections: a PgBouncer refuses the `options` parameter, and a dead host's
        // leases run out without the server's help.)
        let server_keepalives =
            "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3";
        let options = match listen.get_options() {
            Some(given) => format!("{given} {server_keepalives}"),
            None => server_keepalives.to_owned(),
        };
        listen.options(&options);
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                // No statement when a connection goes back to the pool (it would be one more
                // round trip each time, and a PgBouncer resets its own server connections).
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let queries = Pool::builder(manager)
            .max_size(QUERY_CONNECTIONS)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        migrate(&config, &tls).await?;
        Ok(Postgres {
            leases: Leases::new(queries.clone(), connection.leases),
            queries,
            listen: (listen, tls),
        })
    }

    /// A connection for statements.
    pub async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.queries.get().await?)
    }

    pub async fn get(&self, room: &str) -> Result<Option<Stored>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_typed_opt(&format!("{SELECT} WHERE room = $1"), &[(&room, Type::TEXT)])
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Stored {
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
        }))
    }

    pub async fn unfinished(&self) -> Result<Vec<Unfinished>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query_typed(
                "SELECT room, state FROM folders WHERE state IN ('pending', 'deleting')
                 ORDER BY room",
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| Ok(Unfinished::of(row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_typed_one("SELECT COUNT(*) FROM folders WHERE state = 'ready'", &[])
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn begin_create(&self, room: &str, written: &Written<'_>) -> Result<(), StoreError> {
        let maker = written.maker;
        let client = self.client().await?;
        client
            .execute_typed(
                "INSERT INTO folders (room, provider, contract, digest, storage, account, state,
                     created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
                &[
                    (&room, Type::TEXT),
                    (&maker.provider, Type::TEXT),
                    (&written.contract, Type::TEXT),
                    (&maker.digest, Type::TEXT),
                    (&maker.storage, Type::TEXT),
                    (&maker.account, Type::TEXT),
                    (&written.created_at, Type::INT8),
                ],
            )
            .await?;
        Ok(())
    }

    /// Turns the room's pending row into the record and announces it, in one statement;
    /// whether it did (the row is not there when recovery purged the create meanwhile). When
    /// this process holds the room's lease, only while it still does: a host whose lease ran
    /// out (the database away longer than a lease) and was taken over by another host's
    /// recovery, which purges the room, must not record a folder that purge removes. (The
    /// lease's row is locked meanwhile, so a takeover waits for this statement, or this
    /// statement sees it.)
    pub async fn finish_create(
        &self,
        room: &str,
        written: &Written<'_>,
    ) -> Result<bool, StoreError> {
        let lease = room_lease(room);
        let grant = self.leases.grant(&lease);
        let client = self.client().await?;
        let rows = client
            .query_typed(
                concat!(
                    "WITH written AS (
                     UPDATE folders SET provider = $2, contract = $3, digest = $4,
                         storage = $5, account = $6, state = 'ready', path = $7, handle = $8,
                         read_url = $9, read_password = $10, read_write_url = $11,
                         read_write_password = $12, created_at = $13
                     WHERE room = $1 AND state = 'pending'
                         AND ($16::BIGINT IS NULL OR EXISTS (
                             SELECT 1 FROM leases WHERE name = $15 AND grant_id = $16
                             FOR SHARE))
                     RETURNING room),
                 ",
                    raise_room_version!(),
                    "
                 SELECT pg_notify($14, ",
                    folder_event!(),
                    ") FROM raised"
                ),
                &[
                    record_values(&room, written).as_slice(),
                    &[
                        (&CHANNEL, Type::TEXT),
                        (&lease, Type::TEXT),
                        (&grant, Type::INT8),
                    ],
                ]
                .concat(),
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// The room's version: that of its last event (0 before any).
    pub async fn room_version(&self, room: &str) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_typed_opt(
                "SELECT version FROM room_versions WHERE room = $1",
                &[(&room, Type::TEXT)],
            )
            .await?;
        match row {
            Some(row) => {
                let version: i64 = row.try_get(0)?;
                Ok(u64::try_from(version).unwrap_or(0))
            }
            None => Ok(0),
        }
    }

    /// Every room with a row, in order.
    pub async fn rooms(&self) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query_typed("SELECT room FROM folders ORDER BY room", &[])
            .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, tokio_postgres::Error>>()?)
    }

    /// Writes a ready record for `room`, whether it had none or a ready one, and announces it,
    /// in one statement; whether it did (a create or delete under way is left alone).
    pub async fn adopt(&self, room: &str, written: &Written<'_>) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query_typed(
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
                &[
                    record_values(&room, written).as_slice(),
                    &[(&CHANNEL, Type::TEXT)],
                ]
                .concat(),
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Marks a ready record as being deleted and announces it, in one statement; whether it
    /// was ready (and, under this process's lease of the room, whether that is still held).
    pub async fn begin_delete(&self, room: &str) -> Result<bool, StoreError> {
        let lease = room_lease(room);
        let grant = self.leases.grant(&lease);
        let client = self.client().await?;
        let rows = client
            .query_typed(
                concat!(
                    "WITH written AS (
                     UPDATE folders SET state = 'deleting' WHERE room = $1 AND state = 'ready'
                         AND ($4::BIGINT IS NULL OR EXISTS (
                             SELECT 1 FROM leases WHERE name = $3 AND grant_id = $4
                             FOR SHARE))
                     RETURNING room),
                 ",
                    raise_room_version!(),
                    "
                 SELECT pg_notify($2, ",
                    folder_event!(),
                    ") FROM raised"
                ),
                &[
                    (&room, Type::TEXT),
                    (&CHANNEL, Type::TEXT),
                    (&lease, Type::TEXT),
                    (&grant, Type::INT8),
                ],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Forgets the room's row — when this process holds the room's lease, only while it
    /// still does (see [`Postgres::finish_create`]): a host whose lease was taken over must not
    /// remove the row of a create another host made since.
    pub async fn remove(&self, room: &str) -> Result<(), StoreError> {
        let lease = room_lease(room);
        let grant = self.leases.grant(&lease);
        let client = self.client().await?;
        client
            .execute_typed(
                "DELETE FROM folders WHERE room = $1
                     AND ($3::BIGINT IS NULL OR EXISTS (
                         SELECT 1 FROM leases WHERE name = $2 AND grant_id = $3 FOR SHARE))",
                &[
                    (&room, Type::TEXT),
                    (&lease, Type::TEXT),
                    (&grant, Type::INT8),
                ],
            )
            .await?;
        Ok(())
    }

    /// Every room with stored passwords, and them as stored.
    pub async fn passwords(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query_typed(
                "SELECT room, read_password, read_write_password FROM folders
                 WHERE read_password IS NOT NULL AND read_write_password IS NOT NULL",
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// Replaces a room's stored passwords, if they are still `before`.
    pub async fn replace_passwords(
        &self,
        room: &str,
        before: (&str, &str),
        after: (&str, &str),
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let replaced = client
            .execute_typed(
                "UPDATE folders SET read_password = $4, read_write_password = $5
                 WHERE room = $1 AND read_password = $2 AND read_write_password = $3",
                &[
                    (&room, Type::TEXT),
                    (&before.0, Type::TEXT),
                    (&before.1, Type::TEXT),
                    (&after.0, Type::TEXT),
                    (&after.1, Type::TEXT),
                ],
            )
            .await?;
        Ok(replaced > 0)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.query_typed_one("SELECT 1", &[]).await?;
        Ok(())
    }

    /// Waits until no other host (or task) holds `room`'s lease, and holds it.
    pub async fn lock_room(&self, room: &str) -> Result<Lease, StoreError> {
        self.leases.acquire(&room_lease(room)).await
    }

    /// The reconcile lease, if no other host holds it now.
    pub async fn try_lock_reconcile(&self) -> Result<Option<Lease>, StoreError> {
        self.leases.try_acquire(RECONCILE_LEASE).await
    }

    /// `room`'s lease, if nobody holds it now.
    pub async fn try_lock_room(&self, room: &str) -> Result<Option<Lease>, StoreError> {
        self.leases.try_acquire(&room_lease(room)).await
    }

    /// What [`listen`] connects with.
    pub fn listen_config(&self) -> (tokio_postgres::Config, MakeRustlsConnect) {
        self.listen.clone()
    }
}

/// The lease of `room`.
fn room_lease(room: &str) -> String {
    format!("room:{room}")
}

/// The client configuration of `url` (which must not carry a password) with `password`.
fn client_config(url: &str, password: Option<&str>) -> Result<tokio_postgres::Config, StoreError> {
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Failed(format!("not a PostgreSQL URL: {e}")))?;
    if !url.contains("sslmode=") {
        config.ssl_mode(SslMode::Disable);
    }
    if config.get_password().is_some() {
        return Err(StoreError::Failed(
            "the URL carries a password: give it in database_password_file or \
             database_password_env instead, so it is not shown wherever the URL is"
                .into(),
        ));
    }
    if let Some(password) = password {
        config.password(password);
    }
    config.application_name("shared-folder-host");
    config.connect_timeout(Duration::from_secs(10));
    // A server that vanishes without closing its sockets (power loss, a partition) is given
    // up within about a minute.
    config.keepalives(true);
    config.keepalives_idle(KEEPALIVE_IDLE);
    config.keepalives_interval(Duration::from_secs(10));
    config.keepalives_retries(3);
    Ok(config)
}

/// Brings the schema up to date, on a connection of its own (closed after). Without a lock,
/// which would be session state: each migration commits together with its row in refinery's
/// history table (PostgreSQL's DDL is transactional, and the history's key is the version),
/// so of two hosts migrating at once one fails — and runs again, to find it done.
async fn migrate(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
) -> Result<(), StoreError> {
    let mut attempt = 1;
    loop {
        let (mut client, connection) = config.connect(tls.clone()).await?;
        let driver = tokio::spawn(connection);
        let migrated = embedded::migrations::runner()
            .run_async(&mut client)
            .await
            .map(drop)
            .map_err(|e| StoreError::Failed(format!("migrating the schema: {e}")));
        drop(client);
        let _ = driver.await;
        match migrated {
            Err(error) if attempt < MIGRATE_ATTEMPTS => {
                tracing::debug!(%error, attempt, "migration failed; running it again");
                attempt += 1;
                tokio::time::sleep(MIGRATE_WAIT).await;
            }
            done => return done,
        }
    }
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
                            tracing::info!(
                                "listening for room events again; bringing sessions up to date"
                            );
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
