//! Where the PostgreSQL server programs are, installing Debian's `postgresql` package the
//! first time when we may (as `tools/guest-build` installs the `wasm32-wasip2` target): a fresh
//! CI machine has no PostgreSQL, and the tests must not depend on a hand-made set-up.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::debian::Package;

/// The programs a test server needs, all from one installation (an `initdb` of one version
/// and a `postgres` of another refuse each other's data directory).
const PROGRAMS: [&str; 4] = ["initdb", "postgres", "pg_isready", "psql"];

/// Serialises installs between test processes: cargo runs test binaries one after another,
/// but `cargo test -p a -p b` or a developer's second terminal may not.
const INSTALL_LOCK: &str = "/tmp/shared-folder-tests-postgresql-install.lock";

/// The folder holding PostgreSQL's server programs; installed once per machine if missing.
///
/// Panics, naming the package to install, when they are missing and cannot be installed here.
pub(super) fn bin_dir() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| find().unwrap_or_else(install))
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else the folder of an
/// `initdb` on `PATH` (symbolic links followed: Debian puts none on `PATH`, other systems do).
fn find() -> Option<PathBuf> {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: Vec<u32> = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<_>>()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin);
    debian.or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("initdb"))
            .filter(|initdb| initdb.is_file())
            .filter_map(|initdb| std::fs::canonicalize(initdb).ok())
            .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
            .find(|bin| complete(bin))
    })
}

fn complete(bin: &Path) -> bool {
    PROGRAMS.iter().all(|program| bin.join(program).is_file())
}

/// Installs Debian's `postgresql` (see [`crate::debian`]).
fn install() -> PathBuf {
    let package = Package {
        name: "postgresql",
        purpose: "PostgreSQL for the tests",
        advice: "PostgreSQL's server programs (initdb, postgres) were not found in \
                 /usr/lib/postgresql/*/bin nor on PATH; install them, e.g. Debian's package \
                 `postgresql` (apt-get install postgresql)",
        lock: INSTALL_LOCK,
    };
    crate::debian::install(&package, find)
}
