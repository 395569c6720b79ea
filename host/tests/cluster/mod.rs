//! Several `shared-folder-host serve` processes on one PostgreSQL database, as a controller
//! runs them behind a load balancer: one stand-in, one database, hosts A and B with the same
//! configuration file. What one host does must reach sessions on the other, a room must get
//! one folder whichever hosts are asked at once, and a host that dies must leave nothing that
//! the others do not clean up.
//!
//! Each test starts its own PostgreSQL server (`shared_folder_test_support::postgres`, which
//! installs Debian's `postgresql` the first time when it may) and its own database.
//!
//! ```text
//! cargo test -p shared-folder-host --test integration cluster::
//! ```

mod fixture;

mod creates;
mod drill;
mod load;
mod restart;
mod signaling;
