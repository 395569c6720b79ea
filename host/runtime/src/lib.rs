//! The embeddable runtime of shared-folder provider components.
//!
//! A provider is a WebAssembly component of the `shared-folder-provider` world
//! (`wit/provider.wit`, contract 0.3; components built against 0.2 are served too) that makes a meeting room's shared folder on a storage system: a
//! folder, a read-write link and a read-only link, each with its own password. This crate
//! loads such a component with wasmtime, confines every call (the configured storage origin
//! is the only destination it can reach, and the host adds the account's credentials; memory
//! and time are bounded), runs each call in a fresh instance, and swaps the component while
//! calls run. It has no web framework, database, file watcher or command-line parser in its
//! dependencies: a controller that embeds it keeps the records where it likes.
//!
//! The parts, one way each:
//! - [`SharedFolderConfig`]: OpenTalk's `[shared_folder]` section
//!   ([`SharedFolderConfig::from_toml`]; [`from_toml`] is the same reader for a section of
//!   one's own);
//! - [`Runtime`]: [`validate`](Runtime::validate), [`create`](Runtime::create),
//!   [`delete`](Runtime::delete) and [`purge`](Runtime::purge) (by the record's maker),
//!   [`swap_provider`](Runtime::swap_provider), [`reconfigure`](Runtime::reconfigure),
//!   [`probe`](Runtime::probe); set up with [`Options`] and [`Limits`];
//! - [`FolderRecord`]: what a create made, to keep and to hand back to `delete`; its
//!   [`Maker`] says which provider, contract version, component and settings made it;
//! - [`roles`]: which links a moderator and a participant see;
//! - [`Error`] and its [`ErrorKind`]: the one classification of failures;
//! - [`metrics`]: what it records through the `metrics` facade (calls, the storage's
//!   answers, swaps, instantiation time), for a controller that installs a recorder.
//!
//! The NextCloud and OpenCloud providers are built in: [`NEXTCLOUD_PROVIDER`],
//! [`OPENCLOUD_PROVIDER`].
//!
//! # Embedding it
//!
//! ```
//! use shared_folder_runtime::{
//!     ErrorKind, NEXTCLOUD_PROVIDER, Options, Role, Runtime, SharedFolderConfig, Validation,
//!     roles,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), shared_folder_runtime::Error> {
//! let config = SharedFolderConfig::from_toml(
//!     r#"
//!     [shared_folder]
//!     provider = "nextcloud"
//!     url = "https://127.0.0.1:9/"    # nothing listens here in this example
//!     username = "opentalk"
//!     password = "an app password"
//!     directory = "meetings"
//!     "#,
//! )?;
//! let runtime = Runtime::new(config, NEXTCLOUD_PROVIDER, Options::default())?;
//! runtime.probe().await?; // a fresh instance can be made: ready to serve
//! // The provider accepts the settings (checked without contacting the storage).
//! assert_eq!(runtime.validate().await?, Validation::Valid);
//!
//! // What makes the folder, taken before the call, so that its maker can be noted as a
//! // create under way and purge what a lost create left.
//! let serving = runtime.serving();
//! let maker = serving.maker();
//! match runtime.create_with(&serving, "room-1").await {
//!     Ok(folder) => {
//!         // Keep `folder` (it holds the links and their passwords); show each participant
//!         // what their role allows, and hand it back to `delete` when the meeting goes.
//!         let view = roles::access(&folder, Role::Participant);
//!         assert!(view.read_write.is_none());
//!         runtime.delete(&folder).await?;
//!     }
//!     // A failure that may have left something on the storage (here: it could not be
//!     // reached, so a folder may or may not have been made): purge the room, now or later.
//!     Err(error) if error.kind().may_have_left_work() => {
//!         assert_eq!(error.kind(), ErrorKind::Transport);
//!         let _ = runtime.purge("room-1", &maker).await; // unreachable too; try again later
//!     }
//!     // A refusal (bad settings, a room id, credentials): nothing was made.
//!     Err(error) => return Err(error),
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod config;
mod connections;
mod contract;
mod credentials;
mod engine;
mod error;
pub mod faults;
mod folder;
mod function_cache;
pub mod metrics;
mod outbound;
mod provider;
pub mod roles;
mod room_id;
mod runtime;
mod sandbox;
mod secret;
pub mod trust;

pub use config::{Origin, SharedFolderConfig, StorageUrl, from_toml};
pub use connections::{ConnectionSettings, Connections, TlsError, tls_config};
pub use contract::{
    Contract, FieldProblem, FoundFolder, FoundLink, LinkAccess, ProviderError, Setting,
    SettingValue,
};
pub use credentials::{Credentials, TokenSource};
pub use engine::content_digest;
pub use error::{CallError, ConfigError, Error, ErrorKind, LoadError};
pub use folder::{FolderRecord, Maker, ShareLink};
pub use outbound::{Outbound, OutboundLimits};
pub use provider::{ProviderInfo, Validation};
pub use roles::{Access, Link, Role};
pub use runtime::{Limits, Options, Runtime, Serving, check_room_id};
pub use sandbox::SandboxLimits;
pub use secret::Secret;
/// The body of a request to the storage through [`Outbound::send`].
pub use wasmtime_wasi_http::WasiBody;

/// The NextCloud provider component (`plugin/nextcloud`), built for wasm32-wasip2 with this
/// crate.
pub const NEXTCLOUD_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nextcloud_provider.wasm"));

/// The OpenCloud provider component (`plugin/opencloud`), built for wasm32-wasip2 with this
/// crate.
pub const OPENCLOUD_PROVIDER: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/opencloud_provider.wasm"));
