//! The folder records behave the same in SQLite and in a real PostgreSQL (started by
//! `shared_folder_test_support::postgres`): the rows crash recovery needs, share passwords
//! sealed at rest and their key rotation, and — PostgreSQL's part for several hosts — rooms
//! and recovery held by one holder at a time.

use std::time::Duration;

use base64::Engine as _;
use shared_folder_host::records::sealing::Keys;
use shared_folder_host::records::{Records, RoomState, Unfinished};
use shared_folder_host::runtime::{Contract, Maker};
use shared_folder_host::{FolderRecord, Secret, ShareLink};
use shared_folder_test_support::postgres::{PgBouncer, Postgres};

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
        url: format!("https://c/s/{kind}-{room}"),
        password: Secret::new(format!("{kind}-Passw0rd-{room}")),
    };
    FolderRecord {
        room: room.to_owned(),
        maker: maker(),
        path: format!("meetings/{room}"),
        read: share("ro"),
        read_write: share("rw"),
        handle: format!(r#"{{"path":"meetings/{room}"}}"#),
        created_at_unix: 1_700_000_000,
    }
}

fn key_text(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

fn keys(bytes: &[u8]) -> Keys {
    let text: Vec<String> = bytes.iter().map(|b| key_text(*b)).collect();
    Keys::parse(&text.join("\n"), "test").expect("keys")
}

/// One database of each kind, opened with `key_bytes`' keys as often as a test likes.
struct Stores {
    _dir: tempfile::TempDir,
    file: std::path::PathBuf,
    postgres: Postgres,
    url: String,
}

impl Stores {
    async fn new() -> Stores {
        let dir = tempfile::tempdir().expect("folder");
        let file = dir.path().join("records.sqlite3");
        let (postgres, url) = tokio::task::spawn_blocking(|| {
            let postgres = Postgres::start();
            let url = postgres.create_database("records");
            (postgres, url)
        })
        .await
        .expect("PostgreSQL starts");
        Stores {
            _dir: dir,
            file,
            postgres,
            url,
        }
    }

    /// Both stores, opened with keys made of `key_bytes` (the first seals).
    async fn open(&self, key_bytes: &[u8]) -> [(&'static str, Records); 2] {
        let password = Secret::new(self.postgres.password());
        let sqlite = Records::open_file(&self.file, keys(key_bytes)).expect("SQLite opens");
        let postgres = Records::connect(&self.url, Some(&password), keys(key_bytes))
            .await
            .expect("PostgreSQL connects");
        [("sqlite", sqlite), ("postgres", postgres)]
    }

    /// The text stored in `column` of `room`'s row, read past the host.
    fn raw(&self, store: &str, room: &str, column: &str) -> String {
        let sql = format!("SELECT {column} FROM folders WHERE room = '{room}'");
        match store {
            "sqlite" => rusqlite::Connection::open(&self.file)
                .and_then(|db| db.query_row(&sql, [], |row| row.get(0)))
                .expect("raw read"),
            _ => self.postgres.psql("records", &sql).trim().to_owned(),
        }
    }
}

#[tokio::test]
async fn crash_recovery_rows_behave_the_same_in_sqlite_and_postgresql() {
    let stores = Stores::new().await;
    for (store, records) in stores.open(&[1]).await {
        records.begin_create("a", &maker()).await.unwrap();
        assert_eq!(
            records.get("a").await.unwrap(),
            Some(RoomState::Pending { maker: maker() }),
            "{store}"
        );
        let second = records.begin_create("a", &maker()).await;
        assert!(
            second.is_err(),
            "{store}: a second pending create of a room"
        );
        records.finish_create(&record("a")).await.unwrap();
        assert_eq!(
            records.get("a").await.unwrap(),
            Some(RoomState::Ready(record("a"))),
            "{store}"
        );
        records.begin_create("b", &maker()).await.unwrap();
        records.begin_delete("a").await.unwrap();
        // A pending create is not turned into a delete.
        records.begin_delete("b").await.unwrap();
        assert_eq!(
            records.get("a").await.unwrap(),
            Some(RoomState::Deleting(record("a"))),
            "{store}"
        );
        assert_eq!(records.count().await.unwrap(), 0, "{store}");
        assert_eq!(
            records.unfinished().await.unwrap(),
            [
                Unfinished::Delete("a".into()),
                Unfinished::Create("b".into())
            ],
            "{store}"
        );
        records.remove("a").await.unwrap();
        // Recovery purged b's create meanwhile: its outcome is not written back.
        records.remove("b").await.unwrap();
        let late = records.finish_create(&record("b")).await.unwrap_err();
        assert!(
            late.to_string().contains("no pending create"),
            "{store}: {late}"
        );
        assert_eq!(records.get("b").await.unwrap(), None, "{store}");
        assert_eq!(records.get("a").await.unwrap(), None, "{store}");
        assert!(records.unfinished().await.unwrap().is_empty(), "{store}");
        records.ping().await.unwrap();
    }
}

#[tokio::test]
async fn share_passwords_are_sealed_at_rest_and_survive_a_key_rotation() {
    let stores = Stores::new().await;
    for (store, records) in stores.open(&[1]).await {
        records.begin_create("room", &maker()).await.unwrap();
        records.finish_create(&record("room")).await.unwrap();
        for column in ["read_password", "read_write_password"] {
            let stored = stores.raw(store, "room", column);
            assert!(
                stored.starts_with("sealed:v1:"),
                "{store} {column}: {stored}"
            );
            assert!(!stored.contains("Passw0rd"), "{store} {column} in clear");
        }
    }
    // Rotation: the new key first, the old one below it, then `rekey`.
    for (store, records) in stores.open(&[2, 1]).await {
        assert_eq!(
            records.get("room").await.unwrap(),
            Some(RoomState::Ready(record("room"))),
            "{store}: read with the old key"
        );
        assert_eq!(records.rekey().await.unwrap(), 1, "{store}");
        assert_eq!(
            records.rekey().await.unwrap(),
            0,
            "{store}: nothing left to seal"
        );
    }
    for (store, records) in stores.open(&[2]).await {
        assert_eq!(
            records.get("room").await.unwrap(),
            Some(RoomState::Ready(record("room"))),
            "{store}: the old key is no longer needed"
        );
    }
    // Without the key that sealed them, the passwords do not open, and the error says which
    // key it needs without showing anything secret.
    for (store, records) in stores.open(&[1]).await {
        let error = records.get("room").await.unwrap_err().to_string();
        assert!(error.contains("does not open"), "{store}: {error}");
        assert!(
            !error.contains("Passw0rd") && !error.contains(&key_text(2)),
            "{error}"
        );
    }
}

#[tokio::test]
async fn passwords_written_before_sealing_are_read_and_then_sealed_by_rekey() {
    let stores = Stores::new().await;
    for (store, records) in stores.open(&[1]).await {
        records.begin_create("old", &maker()).await.unwrap();
        records.finish_create(&record("old")).await.unwrap();
        // As a host from before sealing wrote them: in clear.
        let sql = "UPDATE folders SET read_password = 'ro-Passw0rd-old', \
                   read_write_password = 'rw-Passw0rd-old' WHERE room = 'old'";
        match store {
            "sqlite" => {
                rusqlite::Connection::open(&stores.file)
                    .and_then(|db| db.execute(sql, []))
                    .unwrap();
            }
            _ => {
                stores.postgres.psql("records", sql);
            }
        }
        assert_eq!(
            records.get("old").await.unwrap(),
            Some(RoomState::Ready(record("old"))),
            "{store}"
        );
        assert_eq!(records.rekey().await.unwrap(), 1, "{store}");
        assert!(
            stores
                .raw(store, "old", "read_password")
                .starts_with("sealed:v1:")
        );
        assert_eq!(
            records.get("old").await.unwrap(),
            Some(RoomState::Ready(record("old"))),
            "{store}"
        );
    }
}

#[tokio::test]
async fn on_postgresql_a_room_and_recovery_have_one_holder_across_hosts() {
    let stores = Stores::new().await;
    let [_, (_, a)] = stores.open(&[1]).await;
    let [_, (_, b)] = stores.open(&[1]).await;
    let short = Duration::from_millis(300);

    let held = a.lock_room("room").await.unwrap();
    assert!(
        tokio::time::timeout(short, b.lock_room("room"))
            .await
            .is_err(),
        "B waits while A holds the room"
    );
    assert!(b.try_lock_room("room").await.unwrap().is_none());
    // Another room is free.
    drop(b.lock_room("other").await.unwrap());
    drop(held);
    let taken = tokio::time::timeout(Duration::from_secs(5), b.lock_room("room"))
        .await
        .expect("B gets the room once A lets go")
        .unwrap();
    drop(taken);

    // A wait given up (its future dropped) does not keep the lock once it is granted.
    let held = a.lock_room("room").await.unwrap();
    assert!(
        tokio::time::timeout(short, b.lock_room("room"))
            .await
            .is_err()
    );
    drop(held);
    tokio::time::timeout(Duration::from_secs(5), a.lock_room("room"))
        .await
        .expect("the abandoned wait did not take the room")
        .unwrap();

    let recovering = a.try_lock_recovery().await.unwrap();
    assert!(recovering.is_some());
    assert!(
        b.try_lock_recovery().await.unwrap().is_none(),
        "one host recovers"
    );
    drop(recovering);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(b.try_lock_recovery().await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_starting_at_once_on_a_new_database_all_migrate_it() {
    const HOSTS: usize = 6;
    let stores = Stores::new().await;
    let password = Secret::new(stores.postgres.password());
    let mut starting = tokio::task::JoinSet::new();
    for _ in 0..HOSTS {
        let (url, password) = (stores.url.clone(), password.clone());
        starting.spawn(async move { Records::connect(&url, Some(&password), keys(&[1])).await });
    }
    while let Some(started) = starting.join_next().await {
        let records = started.expect("a host's task").expect("the host starts");
        records.ping().await.unwrap();
    }
    let versions = stores.postgres.psql(
        "records",
        "SELECT string_agg(version::text, ',' ORDER BY version) FROM refinery_schema_history",
    );
    assert_eq!(versions.trim(), "1,2,3,4");
}

#[tokio::test]
async fn a_host_whose_lease_was_taken_over_changes_the_room_no_more() {
    let stores = Stores::new().await;
    // Leases of a second that are never renewed: A's runs out while it works.
    let database = shared_folder_host::Database::Postgres {
        url: stores.url.clone(),
        listen_url: None,
        password: Some(Secret::new(stores.postgres.password())),
        ca_bundle: None,
        leases: shared_folder_host::LeaseTiming {
            duration: Duration::from_secs(1),
            renew_every: Duration::from_secs(3600),
        },
    };
    let a = Records::open_database(&database, keys(&[1])).await.unwrap();
    let b = Records::open_database(&database, keys(&[1])).await.unwrap();

    let held = a.lock_room("room").await.unwrap();
    a.begin_create("room", &maker()).await.unwrap();
    assert!(
        b.try_lock_room("room").await.unwrap().is_none(),
        "A holds it"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let taken = b
        .try_lock_room("room")
        .await
        .unwrap()
        .expect("B takes the room over once A's lease ran out");
    // A, not knowing, finishes its create: refused, so that the folder B's recovery purges is
    // never on record; the row stays pending for B.
    assert!(a.finish_create(&record("room")).await.is_err());
    assert!(matches!(
        b.get("room").await.unwrap(),
        Some(RoomState::Pending { .. })
    ));
    // B purges and the room is made again; A's late clean-up does not remove the new row.
    b.remove("room").await.unwrap();
    b.begin_create("room", &maker()).await.unwrap();
    a.remove("room").await.unwrap();
    assert!(matches!(
        b.get("room").await.unwrap(),
        Some(RoomState::Pending { .. })
    ));
    drop((held, taken));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_pgbouncer_in_transaction_mode_hosts_keep_no_session_state() {
    const HOSTS: usize = 4;
    const ROUNDS: usize = 100;
    let stores = Stores::new().await;
    // Two server connections for 64 clients: one client's consecutive transactions seldom
    // meet the same one (a statement prepared in one and run in the next fails here).
    let pgbouncer = tokio::task::block_in_place(|| PgBouncer::start_with_pool(&stores.postgres, 2));
    let url = pgbouncer.url("records");
    let password = Secret::new(stores.postgres.password());
    let mut hosts = Vec::new();
    for _ in 0..HOSTS {
        let records = Records::connect(&url, Some(&password), keys(&[1]))
            .await
            .expect("connects through PgBouncer");
        hosts.push(std::sync::Arc::new(records));
    }
    // Each host's statements, many at once: through PgBouncer's server connections they go
    // to whichever is free, transaction by transaction. A statement prepared on one and
    // used on another, or a lock kept by a session, would fail or leak here.
    let mut work = tokio::task::JoinSet::new();
    for (h, records) in hosts.iter().enumerate() {
        for task in 0..16 {
            let records = std::sync::Arc::clone(records);
            work.spawn(async move {
                for round in 0..ROUNDS {
                    let room = format!("room-{h}-{task}-{}", round % 4);
                    let held = records.lock_room(&room).await.expect("a room's lease");
                    records.begin_create(&room, &maker()).await.expect("begin");
                    assert!(matches!(
                        records.get(&room).await.expect("get"),
                        Some(RoomState::Pending { .. })
                    ));
                    records.remove(&room).await.expect("remove");
                    records.count().await.expect("count");
                    drop(held);
                }
            });
        }
    }
    while let Some(done) = work.join_next().await {
        done.expect("a task's statements through PgBouncer");
    }
    // One room's lease has one holder among the hosts, through PgBouncer too.
    let held = hosts[0].lock_room("shared").await.unwrap();
    for other in &hosts[1..] {
        assert!(other.try_lock_room("shared").await.unwrap().is_none());
    }
    drop(held);
    let taken = tokio::time::timeout(Duration::from_secs(5), hosts[1].lock_room("shared"))
        .await
        .expect("the lease is released through PgBouncer");
    drop(taken);
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

#[tokio::test]
async fn postgresql_over_tls_is_verified_against_the_trusted_roots() {
    let postgres = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let url = postgres.create_database("tls");
    // A CA of our own and a certificate for 127.0.0.1 signed by it, for the server.
    let certificates = tempfile::tempdir().unwrap();
    let dir = certificates.path();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName = IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    for file in ["server.pem", "server.key"] {
        let to = postgres.folder().join(file);
        std::fs::copy(dir.join(file), &to).unwrap();
        // The server (the `postgres` user when the tests run as root) must own its key.
        let _ = std::process::Command::new("chown")
            .arg("postgres:")
            .arg(&to)
            .status();
        let _ = std::process::Command::new("chmod")
            .arg("600")
            .arg(&to)
            .status();
    }
    let folder = postgres.folder().display().to_string();
    postgres.psql(
        "postgres",
        &format!("ALTER SYSTEM SET ssl_cert_file = '{folder}/server.pem'"),
    );
    postgres.psql(
        "postgres",
        &format!("ALTER SYSTEM SET ssl_key_file = '{folder}/server.key'"),
    );
    postgres.psql("postgres", "ALTER SYSTEM SET ssl = on");
    postgres.psql("postgres", "SELECT pg_reload_conf()");

    let database = |ca_bundle: Option<std::path::PathBuf>| shared_folder_host::Database::Postgres {
        url: format!("{url}?sslmode=require"),
        listen_url: None,
        password: Some(Secret::new(postgres.password())),
        ca_bundle,
        leases: shared_folder_host::LeaseTiming::default(),
    };
    // Trusting only the system's roots, the certificate is refused.
    let refused = Records::open_database(&database(None), keys(&[1]))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // With the CA in the bundle, the connection is made, and it is encrypted.
    let records = Records::open_database(&database(Some(dir.join("ca.pem"))), keys(&[1]))
        .await
        .expect("connected over TLS");
    records.ping().await.unwrap();
    let encrypted = postgres.psql(
        "postgres",
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE application_name = 'shared-folder-host' AND ssl",
    );
    assert_ne!(encrypted.trim(), "0", "no encrypted connection of the host");
}
