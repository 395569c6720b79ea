//! The reference host for shared-folder provider components.
//!
//! A controller embeds [`SharedFolders`]: give it the `[shared_folder]` configuration and a
//! provider component (the NextCloud one is built in: [`NEXTCLOUD_PROVIDER`]), then create,
//! show per role, and delete meeting rooms' shared folders. The provider runs in wasmtime,
//! confined to the configured storage origin, with bounded memory and time, and can be
//! replaced while the host runs ([`SharedFolders::swap_provider`]).
//!
//! See `ARCHITECTURE.md` for how the modules fit together.

pub mod bindings;
pub mod config;
pub mod connections;
pub mod engine;
pub mod error;
pub mod folders;
pub mod host_config;
pub mod outbound;
pub mod plugins;
pub mod provider;
pub mod records;
pub mod roles;
pub mod room_id;
pub mod sandbox;
pub mod secret;
pub mod service;

pub use config::{ConfigError, SharedFolderConfig};
pub use error::{CallError, HostError, LoadError};
pub use folders::{
    Creation, Deletion, HostLimits, HostOptions, ProviderInfo, Reconciled, SharedFolders,
};
pub use host_config::{HostConfig, HostSection, LogFormat};
pub use outbound::OutboundLimits;
pub use records::{FolderRecord, Records, RecordsError, RoomState, ShareLink};
pub use roles::{Access, Link, Role};
pub use sandbox::SandboxLimits;
pub use secret::Secret;

/// The NextCloud provider component (`plugin/`), built for wasm32-wasip2 with this crate.
pub const NEXTCLOUD_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nextcloud_provider.wasm"));
