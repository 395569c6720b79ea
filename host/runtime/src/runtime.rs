//! [`Runtime`]: what serves new rooms (a provider, hot-swapped by [`Runtime::swap_provider`],
//! and a storage configuration, replaced by [`Runtime::reconfigure`]), what made each record,
//! and the calls of the contract, each confined to its storage's origin, bounded in memory and
//! time.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::config::SharedFolderConfig;
use crate::connections::{ConnectionSettings, Connections};
use crate::contract::FoundFolder;
use crate::engine::{EngineOptions, ProviderEngine};
use crate::error::{CallError, ConfigError, Error, LoadError};
use crate::faults::FaultPlan;
use crate::folder::{FolderRecord, Maker};
use crate::metrics::{self, Change};
use crate::outbound::{Outbound, OutboundLimits};
use crate::provider::{CallLimits, Provider, ProviderInfo, Validation};
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
    /// Faults to inject into the storage requests of every call (`shared-folder-host
    /// conformance` tries a provider's all-or-nothing with them); `None` in service.
    pub outbound_faults: Option<Arc<FaultPlan>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            cache_dir: None,
            connections: ConnectionSettings::default(),
            pooling: true,
            allow_plain_http: false,
            outbound_faults: None,
        }
    }
}

/// One `[shared_folder]` configuration in service: its settings and where its calls' requests
/// may go, with its credentials.
#[derive(Debug)]
struct Storage {
    id: String,
    config: SharedFolderConfig,
    calls: CallLimits,
}

/// What serves new rooms: a storage's settings and a provider.
#[derive(Debug, Clone)]
pub struct Serving {
    storage: Arc<Storage>,
    provider: Arc<Provider>,
}

impl Serving {
    /// Who makes what is created through this: the record's [`Maker`].
    pub fn maker(&self) -> Maker {
        Maker {
            provider: self.provider.name().to_owned(),
            contract: self.provider.contract(),
            digest: self.provider.digest().to_owned(),
            storage: self.storage.id.clone(),
            account: self.storage.config.account(),
        }
    }

    /// The provider.
    pub fn provider(&self) -> ProviderInfo {
        self.provider.info()
    }

    /// The configuration.
    pub fn config(&self) -> &SharedFolderConfig {
        &self.storage.config
    }
}

/// Every storage and provider that has served here: records made by them are deleted by them.
#[derive(Debug, Default)]
struct Known {
    storages: Vec<Arc<Storage>>,
    /// Newest last.
    providers: Vec<Arc<Provider>>,
}

/// Runs shared-folder providers for a `[shared_folder]` configuration.
///
/// Every call runs in a fresh instance of a provider; a call clones what serves it when it
/// starts, so a swap ([`Runtime::swap_provider`]) or a new configuration
/// ([`Runtime::reconfigure`]) never disturbs calls in flight: they finish on the component and
/// settings they started with. New rooms go to what serves now; a record's delete goes to the
/// provider and settings that made it ([`FolderRecord::maker`]), which stay loaded.
pub struct Runtime {
    engine: Arc<ProviderEngine>,
    options: Options,
    current: RwLock<Serving>,
    known: Mutex<Known>,
    /// Held by a swap or a reconfiguration from its start to its end, so that two of them
    /// (a plugin file and a configuration reload, say) cannot interleave and undo each other.
    changes: tokio::sync::Mutex<()>,
}

impl Runtime {
    /// A runtime serving `config` with the provider component `component` (its bytes): it is
    /// compiled (or loaded from `options.cache_dir`) and checked against the world of the
    /// contract version it exports. Ask [`Runtime::validate`] before serving rooms: this
    /// constructor runs no guest code (the binary refuses to start on a refusal).
    pub fn new(
        config: SharedFolderConfig,
        component: &[u8],
        options: Options,
    ) -> Result<Self, Error> {
        let engine = ProviderEngine::with_options(EngineOptions {
            cache_dir: options.cache_dir.clone(),
            memory_bytes: options.limits.sandbox.memory_bytes,
            pooling: options.pooling,
            ..EngineOptions::default()
        })
        .map_err(load_failed(&config.provider))?;
        let storage = Arc::new(storage(config, &options)?);
        let provider = Arc::new(
            Provider::load(&engine, &storage.config.provider, component)
                .map_err(load_failed(&storage.config.provider))?,
        );
        tracing::info!(provider = %provider.name(), contract = %provider.contract(), digest = %provider.digest(), origin = %storage.config.url.origin(), "provider loaded");
        let serving = Serving { storage, provider };
        Ok(Runtime {
            engine,
            options,
            known: Mutex::new(Known {
                storages: vec![Arc::clone(&serving.storage)],
                providers: vec![Arc::clone(&serving.provider)],
            }),
            current: RwLock::new(serving),
            changes: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration new rooms are made with.
    pub fn config(&self) -> SharedFolderConfig {
        self.serving().storage.config.clone()
    }

    /// The provider serving new calls.
    pub fn provider(&self) -> ProviderInfo {
        self.serving().provider.info()
    }

    /// What serves new rooms now; [`Runtime::create_with`] makes a room's folder with it.
    pub fn serving(&self) -> Serving {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the current provider whether it accepts the current settings, without contacting
    /// the storage (contract 0.3's `validate`).
    pub async fn validate(&self) -> Result<Validation, Error> {
        let serving = self.serving();
        validate(&serving).await
    }

    /// Replaces the provider while calls run: the new component is compiled (on a blocking
    /// thread, once per distinct content), checked against its contract's world, and asked to
    /// validate the current settings; if any of that fails, the current provider keeps serving
    /// and the error says why. Calls in flight finish on the old component; calls that start
    /// after the swap use the new one, and folders the old one made are still deleted by it.
    pub async fn swap_provider(&self, name: &str, component: &[u8]) -> Result<ProviderInfo, Error> {
        let _change = self.changes.lock().await;
        let swapped = async {
            let provider = self.load(name, component).await?;
            let serving = Serving {
                storage: Arc::clone(&self.serving().storage),
                provider,
            };
            self.serve(serving, "provider swapped in").await
        }
        .await;
        metrics::swapped(name, Change::Swap, swapped.is_ok());
        swapped
    }

    /// Serves `config` from now on, with `component` as its provider: new rooms are made with
    /// them, while rooms made before keep being deleted by the provider and settings that made
    /// them, and calls in flight finish on what they started with. Refused — and what served
    /// keeps serving — when the configuration, the component or the provider's `validate`
    /// refuses.
    pub async fn reconfigure(
        &self,
        config: SharedFolderConfig,
        component: &[u8],
    ) -> Result<ProviderInfo, Error> {
        let _change = self.changes.lock().await;
        let name = config.provider.clone();
        let reconfigured = async {
            // The same settings keep their storage (and its connections and session), unless
            // the credentials changed (a rotated password): then a new one replaces it, for
            // the rooms it made too.
            let storage = match self.known_storage(&config.storage_id()) {
                Some(known) if known.config.credentials == config.credentials => known,
                _ => Arc::new(storage(config, &self.options)?),
            };
            let provider = self.load(&name, component).await?;
            self.serve(
                Serving { storage, provider },
                "configuration changed: new rooms go here",
            )
            .await
        }
        .await;
        metrics::swapped(&name, Change::Reconfigure, reconfigured.is_ok());
        reconfigured
    }

    /// Has the current provider create `room`'s folder and its two links. On an error the
    /// provider has undone its own work (the contract's all-or-nothing) unless
    /// [`crate::ErrorKind::may_have_left_work`] says otherwise: then [`Runtime::purge`] the room.
    pub async fn create(&self, room: &str) -> Result<FolderRecord, Error> {
        self.create_with(&self.serving(), room).await
    }

    /// As [`Runtime::create`], with `serving` (taken from [`Runtime::serving`] before, e.g.
    /// to record who is about to make the folder).
    pub async fn create_with(&self, serving: &Serving, room: &str) -> Result<FolderRecord, Error> {
        check_room_id(room)?;
        let Serving { storage, provider } = serving;
        let created = provider
            .create(&storage.calls, &storage.config.settings, room)
            .await
            .map_err(|source| call_failed(provider, room, source))?;
        Ok(FolderRecord::new(room, serving.maker(), created))
    }

    /// Has the provider that made `folder` delete it, with the settings it was made with: its
    /// links, then the folder with its files.
    pub async fn delete(&self, folder: &FolderRecord) -> Result<(), Error> {
        let Serving { storage, provider } = self.maker(&folder.maker, &folder.room)?;
        provider
            .delete(&storage.calls, &storage.config.settings, folder)
            .await
            .map_err(|source| call_failed(&provider, &folder.room, source))
    }

    /// Has the provider `maker` names remove whatever `room`'s folder left on the storage,
    /// found by the room id alone: after a create whose outcome was lost.
    pub async fn purge(&self, room: &str, maker: &Maker) -> Result<(), Error> {
        check_room_id(room)?;
        let Serving { storage, provider } = self.maker(maker, room)?;
        provider
            .purge(&storage.calls, &storage.config.settings, room)
            .await
            .map_err(|source| call_failed(&provider, room, source))
    }

    /// Asks the current provider which rooms have a folder under `directory` on the storage,
    /// with each folder's links (contract 0.4's `list-folders`; an older provider's contract
    /// has none: [`crate::ErrorKind::NotOffered`]). Nothing changes on the storage.
    pub async fn list_folders(&self) -> Result<Vec<FoundFolder>, Error> {
        let Serving { storage, provider } = self.serving();
        provider
            .list(&storage.calls, &storage.config.settings)
            .await
            .map_err(|source| call_failed(&provider, "", source))
    }

    /// Has the current provider take `room`'s folder over as it is on the storage (contract
    /// 0.4's `recover`): the folder and its files stay, its links get new passwords (a missing
    /// one is made), and the record returned is as [`Runtime::create`]'s, made by what serves
    /// now. For a folder the records do not know (or know wrongly): a database restored from a
    /// backup.
    pub async fn recover(&self, room: &str) -> Result<FolderRecord, Error> {
        check_room_id(room)?;
        let serving = self.serving();
        let Serving { storage, provider } = &serving;
        let recovered = provider
            .recover(&storage.calls, &storage.config.settings, room)
            .await
            .map_err(|source| call_failed(provider, room, source))?;
        Ok(FolderRecord::new(room, serving.maker(), recovered))
    }

    /// Makes a fresh instance of the current provider, as every call does, and drops it
    /// without calling it: whether a call could run now (readiness), and what that costs.
    pub async fn probe(&self) -> Result<(), Error> {
        let Serving { storage, provider } = self.serving();
        provider
            .instantiate_only(&storage.calls)
            .await
            .map_err(|source| call_failed(&provider, "", source))
    }

    /// What made a record, to delete or purge with: the component of its digest if it is
    /// loaded, else the newest provider of its name (a newer build reads its predecessors'
    /// handles); the storage settings of its id, else — made before a restart under a
    /// configuration since changed — the current ones when they are for the same provider and
    /// the same account (URL and user name; a record older than storage ids names neither and
    /// takes the current ones of its provider). A handle never goes to another account.
    fn maker(&self, maker: &Maker, room: &str) -> Result<Serving, Error> {
        let current = self.serving();
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let provider = known
            .providers
            .iter()
            .rev()
            .find(|p| p.digest() == maker.digest)
            .or_else(|| {
                known
                    .providers
                    .iter()
                    .rev()
                    .find(|p| p.name() == maker.provider)
            })
            .cloned();
        let storage = known
            .storages
            .iter()
            .find(|s| s.id == maker.storage)
            .cloned()
            .or_else(|| {
                let config = &current.storage.config;
                let legacy = maker.storage.is_empty() && maker.account.is_empty();
                let same_account = config.account() == maker.account;
                (config.provider == maker.provider && (legacy || same_account))
                    .then(|| Arc::clone(&current.storage))
            });
        match (provider, storage) {
            (Some(provider), Some(storage)) => Ok(Serving { storage, provider }),
            (None, _) => Err(Error::MakerGone {
                room: room.to_owned(),
                reason: format!(
                    "it was made by provider {:?} (contract {}, component {}), which this host has not loaded",
                    maker.provider,
                    maker.contract,
                    short(&maker.digest)
                ),
            }),
            (Some(_), None) => Err(Error::MakerGone {
                room: room.to_owned(),
                reason: format!(
                    "it was made with [shared_folder] settings (storage {}) for provider {:?}, account {}, that are no longer configured",
                    maker.storage, maker.provider, maker.account
                ),
            }),
        }
    }

    fn known_storage(&self, id: &str) -> Option<Arc<Storage>> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.storages.iter().find(|s| s.id == id).cloned()
    }

    /// Loads `component` as provider `name` (reusing a loaded one of the same content).
    async fn load(&self, name: &str, component: &[u8]) -> Result<Arc<Provider>, Error> {
        let digest = crate::engine::content_digest(component);
        if let Some(loaded) = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            known
                .providers
                .iter()
                .find(|p| p.digest() == digest && p.name() == name)
                .cloned()
        } {
            return Ok(loaded);
        }
        let engine = Arc::clone(&self.engine);
        let (owned_name, bytes) = (name.to_owned(), component.to_vec());
        let loaded =
            tokio::task::spawn_blocking(move || Provider::load(&engine, &owned_name, &bytes))
                .await
                .unwrap_or_else(|e| Err(LoadError::Engine(format!("loading thread failed: {e}"))));
        loaded.map(Arc::new).map_err(|source| {
            tracing::warn!(provider = name, error = %source, "provider refused; the current one keeps serving");
            load_failed(name)(source)
        })
    }

    /// Validates `serving`'s settings with its provider, then makes it what serves new rooms,
    /// logging `what` happened.
    async fn serve(&self, serving: Serving, what: &'static str) -> Result<ProviderInfo, Error> {
        match validate(&serving).await? {
            Validation::Invalid(problem) => {
                let error = Error::Config(ConfigError::field(&problem.field, problem.reason));
                tracing::warn!(provider = serving.provider.name(), %error, "settings refused by the provider; what served keeps serving");
                return Err(error);
            }
            Validation::Valid | Validation::NotOffered => {}
        }
        let info = serving.provider.info();
        {
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            if !known
                .storages
                .iter()
                .any(|s| Arc::ptr_eq(s, &serving.storage))
            {
                known.storages.retain(|s| s.id != serving.storage.id);
                known.storages.push(Arc::clone(&serving.storage));
            }
            // The one serving now is the newest (also a build rolled back to).
            known
                .providers
                .retain(|p| !Arc::ptr_eq(p, &serving.provider));
            known.providers.push(Arc::clone(&serving.provider));
        }
        let origin = serving.storage.config.url.origin().to_string();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = serving;
        tracing::info!(provider = %info.name, contract = %info.contract, digest = %info.digest, %origin, "{what}");
        Ok(info)
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let serving = self.serving();
        f.debug_struct("Runtime")
            .field("provider", &serving.provider.info())
            .field("origin", serving.storage.config.url.origin())
            .finish_non_exhaustive()
    }
}

/// The storage `config` describes, with its own outbound confinement and credentials.
fn storage(config: SharedFolderConfig, options: &Options) -> Result<Storage, Error> {
    if !config.url.https() && !options.allow_plain_http {
        return Err(ConfigError::field(
            "url",
            "is plain http, which sends the account's credentials and the shares' passwords \
             unencrypted; use https, or allow plain http explicitly \
             ([host].allow_plain_http, Options::allow_plain_http)",
        )
        .into());
    }
    let limits = options.limits;
    let origin = config.url.origin();
    let outbound = Outbound::new(
        origin.clone(),
        &config.credentials,
        limits.outbound,
        Connections::new(&options.connections, limits.outbound.connect_timeout)?,
        options.connections.session,
    )
    .counted_as(&config.provider)
    .with_faults(options.outbound_faults.clone());
    if !origin.https {
        tracing::warn!(%origin, "the storage is reached over plain http: the account's credentials and the shares' passwords cross the network unencrypted");
    }
    Ok(Storage {
        id: config.storage_id(),
        calls: CallLimits {
            outbound: Some(Arc::new(outbound)),
            sandbox: limits.sandbox,
            deadline: limits.call_deadline,
        },
        config,
    })
}

async fn validate(serving: &Serving) -> Result<Validation, Error> {
    let Serving { storage, provider } = serving;
    provider
        .validate(&storage.calls, &storage.config.settings)
        .await
        .map_err(|source| call_failed(provider, "", source))
}

/// The first 12 hex digits of a digest, for messages.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
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
