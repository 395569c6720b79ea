//! A real PgBouncer before a test's PostgreSQL server, in transaction pool mode — as large
//! installations run one, and the mode that breaks whatever keeps state in a session (advisory
//! locks, LISTEN, prepared statements kept across transactions). Debian's `pgbouncer`,
//! installed by the set-up when missing (as PostgreSQL is); its configuration in a temporary
//! folder, a free loopback port, the role's password checked with SCRAM on both sides. Stopped
//! and removed on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::debian::Package;
use crate::local::free_port;

use super::server::give_to_system_user;
use super::{Postgres, ROLE, SYSTEM_USER, as_system_user, client, running_as_root, temporary_root};

/// How many server connections PgBouncer opens per database and role: what the hosts behind
/// it share.
pub const POOL_SIZE: usize = 16;

/// How long PgBouncer may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(30);

const PORT_ATTEMPTS: usize = 10;

const INSTALL_LOCK: &str = "/tmp/shared-folder-tests-pgbouncer-install.lock";

/// A PgBouncer in transaction mode before one [`Postgres`] server (see the module's
/// documentation).
pub struct PgBouncer {
    /// Dropped after `process` stopped.
    folder: tempfile::TempDir,
    process: Child,
    port: u16,
}

impl PgBouncer {
    /// Starts PgBouncer before `postgres`: every database of the server, for [`ROLE`] with
    /// the server's password, in transaction mode, [`POOL_SIZE`] server connections per
    /// database. Installs Debian's `pgbouncer` first if needed and allowed; panics with its
    /// log when it does not start.
    pub fn start(postgres: &Postgres) -> PgBouncer {
        Self::start_with_pool(postgres, POOL_SIZE)
    }

    /// As [`PgBouncer::start`], with `pool` server connections per database: few, and
    /// consecutive transactions of one client rarely find the same server connection again
    /// (what breaks a statement prepared in one and executed in the next).
    pub fn start_with_pool(postgres: &Postgres, pool: usize) -> PgBouncer {
        let folder = tempfile::Builder::new()
            .prefix("shared-folder-pgbouncer-")
            .tempdir_in(temporary_root())
            .expect("a temporary folder for PgBouncer");
        std::fs::write(
            folder.path().join("users.txt"),
            format!("\"{ROLE}\" \"{}\"\n", postgres.password()),
        )
        .expect("PgBouncer's users file");
        if running_as_root() {
            give_to_system_user(folder.path());
            let _ = std::process::Command::new("chown")
                .arg(format!("{SYSTEM_USER}:"))
                .arg(folder.path().join("users.txt"))
                .status();
        }
        let mut logs = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let log = folder.path().join(format!("pgbouncer-{port}.log"));
            let ini = write_configuration(folder.path(), postgres.port(), port, pool, &log);
            let mut process = spawn(&ini, &log);
            match wait_until_ready(&mut process, port, &log) {
                Ready::Yes => {
                    return PgBouncer {
                        folder,
                        process,
                        port,
                    };
                }
                Ready::PortTaken => logs.push(read(&log)),
            }
        }
        panic!(
            "PgBouncer found no free port in {PORT_ATTEMPTS} attempts:\n{}",
            logs.join("\n---\n")
        );
    }

    /// The loopback port PgBouncer listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://shared_folder@127.0.0.1:<port>/<database>`: `database` through PgBouncer,
    /// no password in it (the server's, [`Postgres::password`]).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{database}", self.port)
    }

    /// PgBouncer's folder: its configuration and log.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// What PgBouncer logged so far.
    pub fn log(&self) -> String {
        read(
            &self
                .folder
                .path()
                .join(format!("pgbouncer-{}.log", self.port)),
        )
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// PgBouncer's configuration, in `folder`: listening on `port`, before the server on
/// `server_port`.
fn write_configuration(
    folder: &Path,
    server_port: u16,
    port: u16,
    pool: usize,
    log: &Path,
) -> PathBuf {
    let ini = folder.join(format!("pgbouncer-{port}.ini"));
    let text = format!(
        "[databases]\n\
         * = host=127.0.0.1 port={server_port}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = scram-sha-256\n\
         auth_file = {users}\n\
         pool_mode = transaction\n\
         default_pool_size = {pool}\n\
         max_client_conn = 1000\n\
         logfile = {log}\n\
         pidfile =\n",
        users = folder.join("users.txt").display(),
        log = log.display(),
    );
    std::fs::write(&ini, text).expect("PgBouncer's configuration");
    if running_as_root() {
        let _ = std::process::Command::new("chown")
            .arg(format!("{SYSTEM_USER}:"))
            .arg(&ini)
            .status();
    }
    ini
}

/// PgBouncer in the foreground, as the server's user when we are root (it refuses to run as
/// root).
fn spawn(ini: &Path, log: &Path) -> Child {
    let mut command = as_system_user(program());
    let errors = File::create(log.with_extension("stderr")).expect("PgBouncer's stderr file");
    command
        .arg(ini)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(errors)
        .spawn()
        .unwrap_or_else(|e| panic!("PgBouncer does not start: {e}"))
}

enum Ready {
    Yes,
    PortTaken,
}

fn wait_until_ready(process: &mut Child, port: u16, log: &Path) -> Ready {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = process.try_wait() {
            let text = read(log);
            if text.contains("Address already in use") {
                return Ready::PortTaken;
            }
            panic!("PgBouncer stopped ({status}) before it was ready:\n{text}");
        }
        let ready = client("pg_isready")
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-t", "1"])
            .args(["-U", ROLE, "-d", "pgbouncer"])
            .status()
            .is_ok_and(|status| status.success());
        if ready {
            return Ready::Yes;
        }
        if start.elapsed() > READY_WITHIN {
            let _ = process.kill();
            let _ = process.wait();
            panic!(
                "PgBouncer was not ready within {READY_WITHIN:?}:\n{}",
                read(log)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// PgBouncer's log, and what it wrote on stderr before it opened the log.
fn read(log: &Path) -> String {
    let mut text = std::fs::read_to_string(log).unwrap_or_default();
    text.push_str(&std::fs::read_to_string(log.with_extension("stderr")).unwrap_or_default());
    text
}

/// `pgbouncer`, installed the first time when we may.
fn program() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| {
        find().unwrap_or_else(|| {
            let package = Package {
                name: "pgbouncer",
                purpose: "PgBouncer for the tests",
                advice: "PgBouncer was not found (/usr/sbin/pgbouncer, or on PATH); install it, \
                         e.g. Debian's package `pgbouncer` (apt-get install pgbouncer)",
                lock: INSTALL_LOCK,
            };
            crate::debian::install(&package, find)
        })
    })
}

fn find() -> Option<PathBuf> {
    let debian = Path::new("/usr/sbin/pgbouncer");
    if debian.is_file() {
        return Some(debian.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("pgbouncer"))
        .find(|program| program.is_file())
}
