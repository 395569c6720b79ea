//! A real PostgreSQL server for tests, private to the test that starts it: `initdb` in a
//! temporary folder, listening on a free loopback port (password required, as a deployed
//! server would) and on a unix socket in that folder (the superuser, no password, for the
//! test's own set-up and assertions). Stopped and removed on drop.
//!
//! Why a real server rather than a mock: what the host needs from PostgreSQL across processes
//! (one row per room under concurrent inserts, notifications, a dead host's rows found by
//! another) is exactly what a mock would get wrong. `initdb` takes about half a second, so
//! each test has a server of its own and no state outlives it.

mod binaries;
mod pgbouncer;
mod server;

use std::process::{Command, Stdio};

use crate::debian::running_as_root;
use crate::local::{new_password, temporary_root};

pub use pgbouncer::PgBouncer;
pub use server::Postgres;

/// The login role the host connects as (over TCP, with [`Postgres::password`]).
pub const ROLE: &str = "shared_folder";

/// The database [`Postgres::url`] names, owned by [`ROLE`].
pub const DATABASE: &str = "shared_folders";

/// The superuser, reached through the unix socket only (trust): never in a URL given to a
/// host.
const SUPERUSER: &str = "postgres";

/// The system user Debian's package creates; the server runs as it when the tests run as root
/// (PostgreSQL refuses to run as root).
const SYSTEM_USER: &str = "postgres";

/// `program` from the PostgreSQL installation, run as the server's user
/// ([`as_system_user`]), without the libpq environment.
fn as_server_user(program: &str) -> Command {
    let mut command = as_system_user(&binaries::bin_dir().join(program));
    without_libpq_environment(&mut command);
    command
}

/// `program` run as [`SYSTEM_USER`] when we are root (PostgreSQL and PgBouncer refuse to run as
/// root; `setpriv` execs in place, so the child we hold *is* the program, and a signal to it
/// reaches the program itself), as ourselves otherwise.
fn as_system_user(program: &std::path::Path) -> Command {
    if running_as_root() {
        let mut setpriv = Command::new("setpriv");
        setpriv
            .args([
                "--reuid",
                SYSTEM_USER,
                "--regid",
                SYSTEM_USER,
                "--init-groups",
                "--",
            ])
            .arg(program);
        setpriv
    } else {
        Command::new(program)
    }
}

/// `psql` as a client (any user): no `~/.psqlrc`, never a password prompt (it would read the
/// terminal and hang a test), unaligned tuples only.
fn psql_client() -> Command {
    let mut command = client("psql");
    command.args(["-X", "-w", "-At", "-q", "-v", "ON_ERROR_STOP=1"]);
    command
}

/// A client `program` of the installation (`psql`, `pg_isready`), run as ourselves: root
/// reaches the socket in the server's folder, and the superuser is trusted there whoever asks.
fn client(program: &str) -> Command {
    let mut command = Command::new(binaries::bin_dir().join(program));
    without_libpq_environment(&mut command);
    command
}

/// Removes the caller's `PG*` variables (`PGPASSWORD`, `PGHOST`, …): libpq would take them
/// over what the test means.
fn without_libpq_environment(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") {
            command.env_remove(name);
        }
    }
}

/// Runs `command` with `stdin` as its input; its stdout, or a panic naming `what` with both
/// outputs.
fn run(mut command: Command, stdin: &str, what: &str) -> String {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {command:?}: {e}"));
    let written = child
        .stdin
        .take()
        .map(|mut input| input.write_all(stdin.as_bytes()));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() || !matches!(written, Some(Ok(()))) {
        panic!(
            "{what} failed ({}):\n{}{stdout}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_server_serves_a_new_database_and_wants_the_password_over_tcp() {
        let postgres = Postgres::start();
        let url = postgres.create_database("a_test");
        assert_eq!(
            url,
            format!("postgres://{ROLE}@127.0.0.1:{}/a_test", postgres.port())
        );
        assert_eq!(postgres.psql("a_test", "SELECT 1").trim(), "1");
        assert_eq!(
            postgres.psql(DATABASE, "SELECT current_database()").trim(),
            DATABASE
        );

        let over_tcp = |password: Option<&str>| {
            let mut psql = psql_client();
            psql.arg("-d").arg(&url).args(["-c", "SELECT current_user"]);
            if let Some(password) = password {
                psql.env("PGPASSWORD", password);
            }
            psql.output().expect("psql runs")
        };
        let refused = over_tcp(None);
        assert!(!refused.status.success(), "no password, yet: {refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("password"),
            "{refused:?}"
        );
        let wrong = over_tcp(Some("not-the-password"));
        assert!(!wrong.status.success(), "a wrong password, yet: {wrong:?}");
        let accepted = over_tcp(Some(postgres.password()));
        assert!(accepted.status.success(), "{accepted:?}");
        assert_eq!(String::from_utf8_lossy(&accepted.stdout).trim(), ROLE);
    }

    #[test]
    fn the_server_and_its_folder_are_gone_after_drop() {
        let postgres = Postgres::start();
        let folder = postgres.folder().to_path_buf();
        let pid = postgres.pid();
        drop(postgres);
        assert!(!folder.exists(), "{} is left", folder.display());
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the server (pid {pid}) still runs"
        );
    }
}
