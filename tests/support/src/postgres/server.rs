//! The server process: initialised, started on a free port, waited for, stopped.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::local::free_port;

use super::{
    DATABASE, ROLE, SUPERUSER, SYSTEM_USER, as_server_user, client, new_password, psql_client, run,
    running_as_root, temporary_root,
};

/// How long a server may take to accept connections: generous, since every test binary's
/// tests start theirs at once on a small machine.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// How many ports are tried: another process may take the free port we found before our
/// server binds it.
const PORT_ATTEMPTS: usize = 10;

/// A private PostgreSQL server (see the module's documentation). Stopped (immediate shutdown)
/// and its folder removed on drop.
pub struct Postgres {
    /// Dropped after `server` stopped (see `Drop`).
    folder: tempfile::TempDir,
    /// The postmaster (another one after [`Postgres::start_again`]).
    server: Mutex<Child>,
    port: u16,
    password: String,
}

impl Postgres {
    /// Starts a server: `initdb` in a new temporary folder, listening on a free loopback port
    /// (`scram-sha-256`) and on a unix socket in that folder (the superuser, trusted), with a
    /// login role [`ROLE`] whose password is [`Postgres::password`] and a database
    /// [`DATABASE`] owned by it. Installs PostgreSQL first if needed and allowed.
    ///
    /// Panics when it cannot, with the server's log.
    pub fn start() -> Postgres {
        let folder = tempfile::Builder::new()
            .prefix("shared-folder-pg-")
            .tempdir_in(temporary_root())
            .expect("a temporary folder for PostgreSQL");
        if running_as_root() {
            give_to_system_user(folder.path());
        }
        initdb(folder.path());
        let (server, port) = start_on_a_free_port(folder.path());
        let postgres = Postgres {
            folder,
            server: Mutex::new(server),
            port,
            password: new_password(),
        };
        postgres.psql(
            "postgres",
            &format!(
                "CREATE ROLE {ROLE} LOGIN PASSWORD '{}';\nCREATE DATABASE {DATABASE} OWNER {ROLE};",
                postgres.password
            ),
        );
        postgres
    }

    /// `postgres://shared_folder@127.0.0.1:<port>/shared_folders`: no password in it (see
    /// [`Postgres::password`]).
    pub fn url(&self) -> String {
        self.url_of(DATABASE)
    }

    /// The password of [`ROLE`].
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The loopback TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's folder: its data directory (`data/`), its unix socket, its log.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// The server's process id (the postmaster).
    pub fn pid(&self) -> u32 {
        self.server().id()
    }

    fn server(&self) -> MutexGuard<'_, Child> {
        self.server.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the server as an operator's restart does (a fast shutdown: its sessions are
    /// ended, every client sees its connection closed) and waits until it has; its data
    /// stays, for [`Postgres::start_again`]. Panics when it does not stop within 30 s.
    pub fn stop(&self) {
        let mut server = self.server();
        let _ = Command::new("kill")
            .args(["-INT", &server.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if !matches!(server.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("PostgreSQL did not stop within 30 s");
    }

    /// Starts the server stopped by [`Postgres::stop`] again, on the same port, and waits
    /// until it accepts connections (panics with its log when it does not).
    pub fn start_again(&self) {
        let mut server = self.server();
        let log = (1..)
            .map(|n| {
                self.folder
                    .path()
                    .join(format!("server-{}-{n}.log", self.port))
            })
            .find(|log| !log.exists())
            .expect("a name for the log");
        let mut again = spawn(self.folder.path(), self.port, &log);
        match wait_until_ready(&mut again, self.folder.path(), self.port, &log) {
            Ready::Yes => *server = again,
            Ready::PortTaken => panic!(
                "PostgreSQL's port {} was taken while it was stopped:\n{}",
                self.port,
                read(&log)
            ),
        }
    }

    /// Creates a database `name` owned by [`ROLE`], for one test; its URL (as
    /// [`Postgres::url`]). `name` is a lower-case SQL identifier (letters, digits, `_`).
    pub fn create_database(&self, name: &str) -> String {
        let plain = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(
            plain && name.len() < 64,
            "database name {name:?}: lower-case letters, digits and _ only"
        );
        self.psql("postgres", &format!("CREATE DATABASE {name} OWNER {ROLE}"));
        self.url_of(name)
    }

    /// Runs `sql` (one or more statements) in `database` as the superuser, through the unix
    /// socket, with `psql -At`: its output, one row a line, columns separated by `|`. Panics
    /// with psql's messages when a statement fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let mut psql = psql_client();
        psql.arg("-h")
            .arg(self.folder.path())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", database, "-f", "-"]);
        run(psql, sql, &format!("psql in {database}: {sql}"))
    }

    fn url_of(&self, database: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Postgres {
    /// Immediate shutdown (SIGQUIT: the server ends its backends and exits without a
    /// checkpoint; nothing here is worth keeping), SIGKILL if that takes too long. The folder
    /// is removed after, by `TempDir`'s own drop.
    fn drop(&mut self) {
        let server = self.server.get_mut().unwrap_or_else(|p| p.into_inner());
        if !matches!(server.try_wait(), Ok(None)) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-QUIT", &server.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if !matches!(server.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = server.kill();
        let _ = server.wait();
    }
}

/// Makes `folder` the system user's: `initdb` writes there as that user.
pub(super) fn give_to_system_user(folder: &Path) {
    let status = Command::new("chown")
        .arg(format!("{SYSTEM_USER}:"))
        .arg(folder)
        .status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "chown {SYSTEM_USER}: {} ({status:?}): running as root, the server runs as the \
         `{SYSTEM_USER}` user, which Debian's `postgresql` package creates",
        folder.display()
    );
}

/// A cluster in `folder/data`: the superuser trusted on the unix socket, TCP by
/// `scram-sha-256`; no fsync (a test's data need not survive a crash of the machine).
fn initdb(folder: &Path) {
    let mut initdb = as_server_user("initdb");
    initdb
        .current_dir(folder)
        .arg("-D")
        .arg(folder.join("data"))
        .args([
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "--no-instructions",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
    run(initdb, "", "initdb");
}

/// Starts the server on a port found free, again on another when that one was taken
/// meanwhile.
fn start_on_a_free_port(folder: &Path) -> (Child, u16) {
    let mut logs = Vec::new();
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port();
        let log = folder.join(format!("server-{port}.log"));
        let mut server = spawn(folder, port, &log);
        match wait_until_ready(&mut server, folder, port, &log) {
            Ready::Yes => return (server, port),
            Ready::PortTaken => logs.push(read(&log)),
        }
    }
    panic!(
        "PostgreSQL found no free port in {PORT_ATTEMPTS} attempts:\n{}",
        logs.join("\n---\n")
    );
}

fn spawn(folder: &Path, port: u16, log: &Path) -> Child {
    let log_file = File::create(log).expect("the server's log file");
    let mut postgres = as_server_user("postgres");
    postgres
        .current_dir(folder)
        .arg("-D")
        .arg(folder.join("data"))
        .arg("-c")
        .arg(format!("unix_socket_directories={}", folder.display()))
        .args(["-c", &format!("port={port}")])
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=16MB",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "password_encryption=scram-sha-256",
            // The logging collector would detach the log from our file.
            "-c",
            "logging_collector=off",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("PostgreSQL's server does not start: {e}"))
}

enum Ready {
    Yes,
    PortTaken,
}

/// Waits until the server accepts connections on its socket; a server that exited because
/// its port was taken is told apart from any other failure, which panics with the log.
fn wait_until_ready(server: &mut Child, folder: &Path, port: u16, log: &Path) -> Ready {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            let text = read(log);
            if text.contains("could not bind") || text.contains("Address already in use") {
                return Ready::PortTaken;
            }
            panic!("PostgreSQL's server stopped ({status}) before it was ready:\n{text}");
        }
        let ready = client("pg_isready")
            .arg("-q")
            .arg("-h")
            .arg(folder)
            .args(["-p", &port.to_string(), "-t", "1"])
            .status()
            .is_ok_and(|status| status.success());
        if ready {
            return Ready::Yes;
        }
        if start.elapsed() > READY_WITHIN {
            let _ = server.kill();
            let _ = server.wait();
            panic!(
                "PostgreSQL's server was not ready within {READY_WITHIN:?}:\n{}",
                read(log)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log)
        .unwrap_or_else(|e| format!("(the log {} is unreadable: {e})", log.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_port_taken_meanwhile_is_told_apart_from_a_failure() {
        let folder = tempfile::Builder::new()
            .prefix("shared-folder-pg-")
            .tempdir_in(temporary_root())
            .expect("a temporary folder");
        if running_as_root() {
            give_to_system_user(folder.path());
        }
        initdb(folder.path());
        let taken = TcpListener::bind(("127.0.0.1", 0)).expect("a port");
        let port = taken.local_addr().expect("its address").port();
        let log = folder.path().join("server.log");
        let mut server = spawn(folder.path(), port, &log);
        let ready = wait_until_ready(&mut server, folder.path(), port, &log);
        let _ = server.kill();
        let _ = server.wait();
        assert!(matches!(ready, Ready::PortTaken), "{}", read(&log));
    }
}
