//! [`Runtime`]: the provider slot (hot-swapped by [`Runtime::swap_provider`]) and the calls of
//! the contract, each confined to the storage's origin, bounded in memory and time.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::SharedFolderConfig;
use crate::connections::{ConnectionSettings, Connections};
use crate::engine::{EngineOptions, ProviderEngine};
use crate::error::{CallError, ConfigError, Error, LoadError};
use crate::folder::FolderRecord;
use crate::outbound::{Outbound, OutboundLimits};
use crate::provider::{CallLimits, Provider, ProviderInfo};
use crate::room_id;
use crate::sandbox::SandboxLimits;

/// Limits on what a provider call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// What one instance may use (memory, tables).
    pub sandbox: SandboxLimits,
    /// The waits and sizes of the storage requests.
    pub outbound: OutboundLimits,
    /// Deadline of one whole provider call.
    pub call_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sandbox: SandboxLimits::default(),
            outbound: OutboundLimits::default(),
            call_deadline: Duration::from_secs(120),
        }
    }
}

/// How a runtime is set up, besides its configuration and component.
#[derive(Debug, Clone)]
pub struct Options {
    /// Limits on what a call may use.
    pub limits: Limits,
    /// Folder of compiled components (by content digest), so that a restart loads instead of
    /// compiling; it must be writable by the host only. `None`: compile at every start.
    pub cache_dir: Option<PathBuf>,
    /// How the storage is reached: trusted CAs, connection reuse, session cookies.
    pub connections: ConnectionSettings,
    /// Instances reserved up front by the pooling allocator (the default: instantiation in
    /// microseconds); `false` maps each instance's memory anew instead.
    pub pooling: bool,
    /// Whether the storage may be reached over plain `http://`: the account's password and the
    /// shares' passwords then cross the network unencrypted. Off unless asked for.
    pub allow_plain_http: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            cache_dir: None,
            connections: ConnectionSettings::default(),
            pooling: true,
            allow_plain_http: false,
        }
    }
}

/// Runs shared-folder providers for one `[shared_folder]` configuration.
///
/// Every call runs in a fresh instance of the current provider; a call clones the provider's
/// `Arc` when it starts, so a swap never disturbs calls in flight: they finish on the
/// component they started on.
pub struct Runtime {
    engine: Arc<ProviderEngine>,
    config: SharedFolderConfig,
    calls: CallLimits,
    current: RwLock<Arc<Provider>>,
}

impl Runtime {
    /// A runtime serving `config` with the provider component `component` (its bytes): it is
    /// compiled (or loaded from `options.cache_dir`) and checked against the provider world.
    pub fn new(
        config: SharedFolderConfig,
        component: &[u8],
        options: Options,
    ) -> Result<Self, Error> {
        let Options {
            limits,
            cache_dir,
            connections,
            pooling,
            allow_plain_http,
        } = options;
        if !config.url.https() && !allow_plain_http {
            return Err(ConfigError::field(
                "url",
                "is plain http, which sends the account's password and the shares' passwords \
                 unencrypted; use https, or allow plain http explicitly \
                 ([host].allow_plain_http, Options::allow_plain_http)",
            )
            .into());
        }
        let engine = ProviderEngine::with_options(EngineOptions {
            cache_dir,
            memory_bytes: limits.sandbox.memory_bytes,
            pooling,
            ..EngineOptions::default()
        })
        .map_err(load_failed(&config.provider))?;
        let provider = Provider::load(&engine, &config.provider, component)
            .map_err(load_failed(&config.provider))?;
        let origin = config.url.origin();
        let outbound = Outbound::new(
            origin.clone(),
            &config.username,
            &config.password,
            limits.outbound,
            Connections::new(&connections, limits.outbound.connect_timeout)?,
            connections.session,
        );
        if !origin.https {
            tracing::warn!(%origin, "the storage is reached over plain http: the account's password and the shares' passwords cross the network unencrypted");
        }
        tracing::info!(provider = %config.provider, digest = %provider.digest(), %origin, "provider loaded");
        Ok(Runtime {
            engine,
            calls: CallLimits {
                outbound: Arc::new(outbound),
                sandbox: limits.sandbox,
                deadline: limits.call_deadline,
            },
            config,
            current: RwLock::new(Arc::new(provider)),
        })
    }

    /// The configuration it serves.
    pub fn config(&self) -> &SharedFolderConfig {
        &self.config
    }

    /// The provider serving new calls.
    pub fn provider(&self) -> ProviderInfo {
        self.current_provider().info()
    }

    /// Replaces the provider while calls run: the new component is compiled (on a blocking
    /// thread, once per distinct content) and checked against the world first; if that fails,
    /// the current provider keeps serving and the error says why. Calls in flight finish on
    /// the old component; calls that start after the swap use the new one.
    pub async fn swap_provider(&self, name: &str, component: &[u8]) -> Result<ProviderInfo, Error> {
        let engine = Arc::clone(&self.engine);
        let (owned_name, bytes) = (name.to_owned(), component.to_vec());
        let loaded =
            tokio::task::spawn_blocking(move || Provider::load(&engine, &owned_name, &bytes))
                .await
                .unwrap_or_else(|e| Err(LoadError::Engine(format!("loading thread failed: {e}"))));
        let provider = loaded.map_err(|source| {
            tracing::warn!(provider = name, error = %source, "provider refused; the current one keeps serving");
            load_failed(name)(source)
        })?;
        let info = provider.info();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(provider);
        tracing::info!(provider = %info.name, digest = %info.digest, "provider swapped in");
        Ok(info)
    }

    /// Has the current provider create `room`'s folder and its two links. On an error the
    /// provider has undone its own work (the contract's all-or-nothing) unless
    /// [`crate::ErrorKind::may_have_left_work`] says otherwise: then [`Runtime::purge`] the room.
    pub async fn create(&self, room: &str) -> Result<FolderRecord, Error> {
        check_room_id(room)?;
        let provider = self.current_provider();
        let folder = provider
            .create(&self.calls, &self.config.settings, room)
            .await
            .map_err(|source| call_failed(&provider, room, source))?;
        Ok(FolderRecord::new(room, provider.name(), folder))
    }

    /// Has the current provider delete `folder`: its links, then the folder with its files.
    pub async fn delete(&self, folder: &FolderRecord) -> Result<(), Error> {
        let provider = self.current_provider();
        provider
            .delete(&self.calls, &self.config.settings, &folder.to_wit())
            .await
            .map_err(|source| call_failed(&provider, &folder.room, source))
    }

    /// Has the current provider remove whatever `room`'s folder left on the storage, found by
    /// the room id alone: after a create whose outcome was lost.
    pub async fn purge(&self, room: &str) -> Result<(), Error> {
        check_room_id(room)?;
        let provider = self.current_provider();
        provider
            .purge(&self.calls, &self.config.settings, room)
            .await
            .map_err(|source| call_failed(&provider, room, source))
    }

    /// Makes a fresh instance of the current provider, as every call does, and drops it
    /// without calling it: whether a call could run now (readiness), and what that costs.
    pub async fn probe(&self) -> Result<(), Error> {
        let provider = self.current_provider();
        provider
            .instantiate_only(&self.calls)
            .await
            .map_err(|source| call_failed(&provider, "", source))
    }

    fn current_provider(&self) -> Arc<Provider> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("provider", &self.provider())
            .field("origin", self.config.url.origin())
            .finish_non_exhaustive()
    }
}

/// Whether `room` can name a folder: one path segment of at most 255 bytes, not `.` or `..`,
/// without `/`, `\` or control characters. Checked before any provider runs.
pub fn check_room_id(room: &str) -> Result<(), Error> {
    room_id::check(room).map_err(Error::InvalidRoom)
}

fn call_failed(provider: &Provider, room: &str, source: CallError) -> Error {
    tracing::warn!(room, provider = provider.name(), error = %source, "provider call failed");
    Error::Call {
        provider: provider.name().to_owned(),
        room: room.to_owned(),
        source,
    }
}

/// The error for a provider `name` that could not be loaded.
fn load_failed(name: &str) -> impl FnOnce(LoadError) -> Error {
    let provider = name.to_owned();
    move |source| Error::Load { provider, source }
}
