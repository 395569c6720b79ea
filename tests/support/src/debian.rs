//! What the tests' own set-up needs of the machine: a program from a Debian package,
//! installed the first time when we may (as root, with apt-get, one process at a time), so
//! that a fresh machine needs no hand-made set-up. PostgreSQL and the OCI registry come this
//! way.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Whether this process is root. Asked of `id` once: the crate has no libc binding, and this
/// is not hot.
pub(crate) fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
    })
}

/// What to install and how to tell it is there.
pub(crate) struct Package<'a> {
    /// Debian's package name.
    pub name: &'a str,
    /// What it is for, at the start of each line printed ("PostgreSQL for the tests").
    pub purpose: &'a str,
    /// What to tell a developer who must install it by hand.
    pub advice: &'a str,
    /// A lock file serialising installs between test processes.
    pub lock: &'a str,
}

/// Installs `package` with apt-get (as root only, one process at a time; `apt-get update` and
/// again when the first try fails) and returns what `find` then finds. Panics with the
/// package's advice when it cannot.
pub(crate) fn install(package: &Package<'_>, find: impl Fn() -> Option<PathBuf>) -> PathBuf {
    let Package {
        name,
        purpose,
        advice,
        lock,
    } = package;
    if !running_as_root() || !Path::new("/usr/bin/apt-get").exists() {
        panic!("{advice}");
    }
    let held = File::create(lock)
        .and_then(|file| file.lock().map(|()| file))
        .unwrap_or_else(|e| panic!("{advice} (cannot take the lock {lock}: {e})"));
    // Another process may have installed it while this one waited for the lock.
    if let Some(found) = find() {
        return found;
    }
    eprintln!("{purpose}: installing Debian's `{name}` (one-time set-up)");
    let command = ["install", "-y", "--no-install-recommends", name];
    if !apt_get(purpose, &command) {
        eprintln!("{purpose}: apt-get install failed; apt-get update, then again");
        if !apt_get(purpose, &["update"]) || !apt_get(purpose, &command) {
            panic!("{advice} (apt-get failed, see above)");
        }
    }
    drop(held);
    find().unwrap_or_else(|| panic!("{advice} (installed, yet not found)"))
}

/// Runs apt-get with its output on this process's stderr, where cargo shows it.
fn apt_get(purpose: &str, args: &[&str]) -> bool {
    eprintln!("{purpose}: apt-get {}", args.join(" "));
    Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(std::io::stderr())
        .status()
        .is_ok_and(|status| status.success())
}
