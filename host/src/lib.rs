//! The reference host for shared-folder provider components, on top of the embeddable
//! [`shared_folder_runtime`]: the folder records ([`records`], in SQLite or in PostgreSQL
//! shared by several hosts) and the room events of their changes ([`events`]), the host's API that keeps
//! them ([`SharedFolders`]), the records compared with the storage and repaired ([`audit`]), where provider components come from and what they must be to serve — built in, the watched plugins folder, an OCI registry followed; signed and pinned ([`components`], keys and signatures: [`signing`]),
//! the configuration reread while serving ([`reload`]), how participants open a storage's links ([`public_links`]), the controller's REST API and the participants' signaling ([`service`]), and the
//! configuration file of the `shared-folder-host` binary ([`HostConfig`]).
//!
//! See `ARCHITECTURE.md` for how the parts fit together.

pub mod audit;
pub mod components;
mod error;
pub mod events;
mod folders;
mod host_config;
pub mod public_links;
pub mod records;
pub mod reload;
pub mod service;
pub mod signing;

pub use error::HostError;
pub use folders::{Creation, Deletion, Expected, Purge, Reconciled, SharedFolders, foreign_links};
pub use host_config::{HostConfig, HostSection, LogFormat};
pub use records::{Database, LeaseTiming, Records, RecordsError, RoomState};
/// The runtime this host is built on; its items are re-exported here for convenience.
pub use shared_folder_runtime as runtime;
pub use shared_folder_runtime::{
    Access, ConfigError, Error, ErrorKind, FolderRecord, Limits, NEXTCLOUD_PROVIDER, Options, Role,
    Runtime, Secret, ShareLink, SharedFolderConfig,
};
