//! What the servers the tests start on this machine (PostgreSQL, the OCI registry) share: a
//! free loopback port, a password, and where their temporary folders go.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use rand::Rng as _;

/// A port no one listens on at this moment (the kernel's choice for port 0).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// A password: 24 alphanumeric characters, so it needs no quoting in SQL, a URL or a file.
pub(crate) fn new_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

/// Where the temporary folders go: `/tmp` when there is one, since PostgreSQL's unix socket
/// lives there (a socket path is limited to 107 bytes, which a long `TMPDIR` can exceed) and
/// the `postgres` user must be able to reach it (not so under `/root`).
pub(crate) fn temporary_root() -> PathBuf {
    let tmp = Path::new("/tmp");
    if tmp.is_dir() {
        tmp.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}
