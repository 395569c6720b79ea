//! The host's API: shared folders of meeting rooms, made by the current provider.
//!
//! [`SharedFolders`] is what a controller embeds. It owns the provider slot (hot-swapped by
//! [`SharedFolders::swap_provider`]), the confinement of provider calls, and the records.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::bindings::WitError;
use crate::config::SharedFolderConfig;
use crate::connections::{ConnectionSettings, Connections};
use crate::engine::{EngineOptions, ProviderEngine};
use crate::error::{CallError, HostError, LoadError};
use crate::outbound::{Origin, Outbound, OutboundLimits};
use crate::provider::{CallLimits, Provider};
use crate::records::{FolderRecord, Records, RoomLocks, RoomState, Unfinished};
use crate::roles::{self, Access, Role};
use crate::room_id;
use crate::sandbox::SandboxLimits;

/// Limits on what a provider call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    pub sandbox: SandboxLimits,
    pub outbound: OutboundLimits,
    /// Deadline of one whole provider call.
    pub call_deadline: Duration,
}

impl Default for HostLimits {
    fn default() -> Self {
        HostLimits {
            sandbox: SandboxLimits::default(),
            outbound: OutboundLimits::default(),
            call_deadline: Duration::from_secs(120),
        }
    }
}

/// How a host is set up, besides its configuration and component.
#[derive(Debug, Default)]
pub struct HostOptions {
    pub limits: HostLimits,
    /// Where the records live; `None`: in memory.
    pub records: Option<Records>,
    /// Folder of precompiled components (by content digest); `None`: compile at every start.
    pub cache_dir: Option<PathBuf>,
    /// How the storage is reached: trusted CAs, connection reuse.
    pub connections: ConnectionSettings,
}

/// Which provider serves calls now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    pub name: String,
    /// SHA-256 of the component.
    pub digest: String,
}

/// What [`SharedFolders::create_folder`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation {
    /// The folder was made now.
    Created(FolderRecord),
    /// The room had its folder already; nothing was done.
    Existing(FolderRecord),
}

impl Creation {
    pub fn record(&self) -> &FolderRecord {
        match self {
            Creation::Created(record) | Creation::Existing(record) => record,
        }
    }

    pub fn into_record(self) -> FolderRecord {
        match self {
            Creation::Created(record) | Creation::Existing(record) => record,
        }
    }
}

/// What [`SharedFolders::reconcile`] finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Creates whose outcome was lost: their rooms' folders purged.
    pub lost_creates: usize,
    /// Deletes that had not completed: completed.
    pub deletes: usize,
}

/// What [`SharedFolders::delete_folder`] did.
#[derive(Debug, Clone)]
pub enum Deletion {
    /// The folder and its links are gone, and so is the record.
    Deleted,
    /// The room had no folder: nothing to do.
    NoFolder,
    /// Forced: the storage refused or failed (the error says how), the record went anyway.
    RecordOnly(HostError),
}

pub struct SharedFolders {
    engine: Arc<ProviderEngine>,
    config: SharedFolderConfig,
    limits: CallLimits,
    /// The provider new calls use. A call clones the `Arc` when it starts, so a swap never
    /// disturbs calls in flight: they finish on the component they started on.
    current: RwLock<Arc<Provider>>,
    records: Records,
    /// Operations on one room run one at a time.
    rooms: RoomLocks,
}

impl SharedFolders {
    /// A host serving `config` with the provider component `component` (its bytes), keeping
    /// its records in memory.
    pub fn new(
        config: SharedFolderConfig,
        component: &[u8],
        limits: HostLimits,
    ) -> Result<Self, HostError> {
        Self::with_options(
            config,
            component,
            HostOptions {
                limits,
                ..HostOptions::default()
            },
        )
    }

    /// A host keeping its records in `records` (e.g. [`Records::open`]ed from a file). Call
    /// [`SharedFolders::reconcile`] once it runs, to clean up after a predecessor that stopped
    /// in the middle of a create.
    pub fn with_records(
        config: SharedFolderConfig,
        component: &[u8],
        limits: HostLimits,
        records: Records,
    ) -> Result<Self, HostError> {
        Self::with_options(
            config,
            component,
            HostOptions {
                limits,
                records: Some(records),
                ..HostOptions::default()
            },
        )
    }

    /// A host set up with `options`.
    pub fn with_options(
        config: SharedFolderConfig,
        component: &[u8],
        options: HostOptions,
    ) -> Result<Self, HostError> {
        let HostOptions {
            limits,
            records,
            cache_dir,
            connections: connection_settings,
        } = options;
        let records = match records {
            Some(records) => records,
            None => Records::in_memory()?,
        };
        let engine = ProviderEngine::with_options(EngineOptions {
            cache_dir,
            memory_bytes: limits.sandbox.memory_bytes,
            ..EngineOptions::default()
        })
        .map_err(load_failed(&config.provider))?;
        let provider = Provider::load(&engine, &config.provider, component)
            .map_err(load_failed(&config.provider))?;
        let outbound = Outbound::new(
            config.origin.clone(),
            &config.username,
            &config.password,
            limits.outbound,
            Connections::new(&connection_settings, limits.outbound.connect_timeout)?,
            connection_settings.session,
        );
        if !config.origin.https {
            tracing::warn!(origin = %config.origin, "the storage is reached over plain http: the account's password and the shares' passwords cross the network unencrypted");
        }
        tracing::info!(provider = %config.provider, digest = %provider.digest(), origin = %config.origin, "provider loaded");
        Ok(SharedFolders {
            engine,
            limits: CallLimits {
                outbound: Arc::new(outbound),
                sandbox: limits.sandbox,
                deadline: limits.call_deadline,
            },
            config,
            current: RwLock::new(Arc::new(provider)),
            records,
            rooms: RoomLocks::default(),
        })
    }

    /// The provider serving new calls.
    pub fn provider(&self) -> ProviderInfo {
        self.current_provider().info()
    }

    /// The provider name the configuration asks for.
    pub fn configured_provider(&self) -> &str {
        &self.config.provider
    }

    /// Replaces the provider while the host runs: the new component is compiled (on a
    /// blocking thread, once per distinct content) and checked against the world first; if
    /// that fails, the current provider keeps serving and the error says why. Calls in flight
    /// finish on the old component; calls that start after the swap use the new one.
    pub async fn swap_provider(
        &self,
        name: &str,
        component: &[u8],
    ) -> Result<ProviderInfo, HostError> {
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

    /// Finishes what was left unfinished: creates whose outcome was never recorded (the host
    /// stopped while they ran, or their clean-up failed) are purged at the storage, and deletes
    /// that did not complete are done again; then the rooms are forgotten. Returns how many of
    /// each were finished; a room whose clean-up fails stays as it is, is logged, and is tried
    /// again by the next operation on it or the next `reconcile`.
    pub async fn reconcile(&self) -> Result<Reconciled, HostError> {
        let mut done = Reconciled::default();
        for unfinished in self.records.unfinished()? {
            let (Unfinished::Create(room) | Unfinished::Delete(room)) = &unfinished;
            let _room = self.rooms.lock(room).await;
            let finished = match (&unfinished, self.records.get(room)?) {
                (Unfinished::Create(_), Some(RoomState::Pending { .. })) => {
                    self.purge_lost(room).await
                }
                (Unfinished::Delete(_), Some(RoomState::Deleting(record))) => {
                    self.finish_delete(&record).await
                }
                // Another operation on the room finished it meanwhile.
                _ => continue,
            };
            match (finished, &unfinished) {
                (Ok(()), Unfinished::Create(_)) => done.lost_creates += 1,
                (Ok(()), Unfinished::Delete(_)) => done.deletes += 1,
                (Err(error), _) => {
                    tracing::warn!(room, %error, "unfinished operation not cleaned up yet; will retry");
                }
            }
        }
        Ok(done)
    }

    /// Creates the shared folder of `room`, or returns the one it has. Concurrent creates of
    /// one room make one folder: the later ones wait and return it.
    pub async fn create(&self, room: &str) -> Result<FolderRecord, HostError> {
        self.create_folder(room).await.map(Creation::into_record)
    }

    /// As [`SharedFolders::create`], telling whether the folder was made now.
    ///
    /// The create is recorded as pending before the provider runs and completed when it
    /// returns, so a host that stops in between cleans up on its next start. A provider that
    /// returns an error has undone its own work (the contract's all-or-nothing) — unless the
    /// storage stopped answering midway, so then, as after a trap or a timeout, the room is
    /// purged right away ([`may_have_left_work`]). If that fails too, the room stays pending
    /// and the next operation on it, or [`SharedFolders::reconcile`], cleans up.
    pub async fn create_folder(&self, room: &str) -> Result<Creation, HostError> {
        check_room(room)?;
        let _room = self.rooms.lock(room).await;
        match self.records.get(room)? {
            Some(RoomState::Ready(existing)) => return Ok(Creation::Existing(existing)),
            Some(RoomState::Pending { .. }) => self.purge_lost(room).await?,
            // The room's folder was being deleted: that is finished first, then it is new.
            Some(RoomState::Deleting(record)) => self.finish_delete(&record).await?,
            None => {}
        }
        let provider = self.current_provider();
        self.records.begin_create(room, provider.name())?;
        let folder = match provider
            .create(&self.limits, &self.config.settings, room)
            .await
        {
            Ok(folder) => folder,
            Err(source) => {
                if may_have_left_work(&source) {
                    let _ = self.purge_lost(room).await;
                } else {
                    self.records.remove(room)?;
                }
                return Err(self.call_failed(&provider, room, source));
            }
        };
        let record = FolderRecord::new(room, provider.name(), folder);
        if let Err(error) = self.records.finish_create(&record) {
            // Unrecorded, the folder would be an orphan: undo it (the room stays pending if
            // that fails, for a later purge).
            let undone = provider
                .delete(&self.limits, &self.config.settings, &record.to_wit())
                .await;
            if undone.is_ok() {
                let _ = self.records.remove(room);
            }
            return Err(error.into());
        }
        tracing::info!(room, provider = provider.name(), path = %record.path, "shared folder created");
        warn_about_foreign_links(&self.config.origin, &record);
        Ok(Creation::Created(record))
    }

    /// The folder of `room`, if it has one (a folder whose delete has begun has none).
    pub fn folder(&self, room: &str) -> Result<Option<FolderRecord>, HostError> {
        check_room(room)?;
        Ok(match self.records.get(room)? {
            Some(RoomState::Ready(record)) => Some(record),
            Some(RoomState::Pending { .. } | RoomState::Deleting(_)) | None => None,
        })
    }

    /// Everything the records hold for `room`: also a create or delete under way or left
    /// unfinished, which [`SharedFolders::folder`] does not show.
    pub fn room_state(&self, room: &str) -> Result<Option<RoomState>, HostError> {
        check_room(room)?;
        Ok(self.records.get(room)?)
    }

    /// How many rooms have a folder.
    pub fn folder_count(&self) -> Result<u64, HostError> {
        Ok(self.records.count()?)
    }

    /// What a participant with `role` sees of `room`'s folder.
    pub fn access(&self, room: &str, role: Role) -> Result<Access, HostError> {
        Ok(roles::access(&self.existing(room)?, role))
    }

    /// The update for a participant of `room` whose role changed, if they must get one.
    pub fn role_changed(
        &self,
        room: &str,
        before: Role,
        after: Role,
    ) -> Result<Option<Access>, HostError> {
        Ok(roles::update_on_role_change(
            &self.existing(room)?,
            before,
            after,
        ))
    }

    /// Deletes `room`'s folder (links first, then the folder with its files). Returns `false`
    /// when the room had none. The record goes only once the provider succeeded; until then
    /// the room shows no folder, and a later delete (or [`SharedFolders::reconcile`]) finishes.
    pub async fn delete(&self, room: &str) -> Result<bool, HostError> {
        match self.delete_folder(room, false).await? {
            Deletion::Deleted => Ok(true),
            Deletion::NoFolder => Ok(false),
            Deletion::RecordOnly(error) => Err(error),
        }
    }

    /// Deletes `room`'s folder. The record is marked as being deleted first, so that a host
    /// that stops midway finishes the delete on its next start. Unless `force`d, the record
    /// stays (marked) when the storage fails, so the delete can be retried; `force` drops it
    /// anyway (OpenTalk's `force_delete_reference_if_shared_folder_deletion_fails`).
    pub async fn delete_folder(&self, room: &str, force: bool) -> Result<Deletion, HostError> {
        check_room(room)?;
        let _room = self.rooms.lock(room).await;
        let outcome = match self.records.get(room)? {
            None => return Ok(Deletion::NoFolder),
            Some(RoomState::Pending { .. }) => self.purge_lost(room).await,
            Some(RoomState::Ready(record)) => {
                self.records.begin_delete(room)?;
                self.finish_delete(&record).await
            }
            Some(RoomState::Deleting(record)) => self.finish_delete(&record).await,
        };
        match outcome {
            Ok(()) => Ok(Deletion::Deleted),
            Err(error) if force => {
                self.records.remove(room)?;
                tracing::warn!(room, %error, "storage delete failed; record dropped as forced");
                Ok(Deletion::RecordOnly(error))
            }
            Err(error) => Err(error),
        }
    }

    /// Has the provider delete `record`'s folder and links, then forgets the room.
    async fn finish_delete(&self, record: &FolderRecord) -> Result<(), HostError> {
        let room = record.room.as_str();
        let provider = self.current_provider();
        provider
            .delete(&self.limits, &self.config.settings, &record.to_wit())
            .await
            .map_err(|source| self.call_failed(&provider, room, source))?;
        self.records.remove(room)?;
        tracing::info!(room, provider = provider.name(), "shared folder deleted");
        Ok(())
    }

    /// Purges the folder of a create whose outcome was lost, then forgets the room.
    async fn purge_lost(&self, room: &str) -> Result<(), HostError> {
        let provider = self.current_provider();
        provider
            .purge(&self.limits, &self.config.settings, room)
            .await
            .map_err(|source| self.call_failed(&provider, room, source))?;
        self.records.remove(room)?;
        tracing::info!(room, provider = provider.name(), "lost create cleaned up");
        Ok(())
    }

    fn existing(&self, room: &str) -> Result<FolderRecord, HostError> {
        self.folder(room)?
            .ok_or_else(|| HostError::NoFolder(room.to_owned()))
    }

    fn current_provider(&self) -> Arc<Provider> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn call_failed(&self, provider: &Provider, room: &str, source: CallError) -> HostError {
        tracing::warn!(room, provider = provider.name(), error = %source, "provider call failed");
        HostError::Call {
            provider: provider.name().to_owned(),
            room: room.to_owned(),
            source,
        }
    }
}

fn check_room(room: &str) -> Result<(), HostError> {
    room_id::check(room).map_err(HostError::InvalidRoom)
}

/// Warns when a new folder's links lead elsewhere than the configured storage: participants'
/// browsers may not reach them. NextCloud builds a link from its own view of the request, so
/// behind a TLS-terminating proxy that was not told about it the links say `http://` on an
/// https site (docs/nextcloud-behaviour.md, "Links behind a proxy"; recording
/// `18-share-links-behind-a-tls-proxy.txt`).
fn warn_about_foreign_links(configured: &Origin, record: &FolderRecord) {
    if let Some(links) = foreign_links(configured, record) {
        tracing::warn!(
            room = %record.room,
            links = %links,
            configured = %configured,
            "the storage's share links do not point at the configured url: participants may \
             not be able to open them (NextCloud behind a proxy: set overwriteprotocol, and \
             overwritehost or overwrite.cli.url, in its config.php)"
        );
    }
}

/// Where `record`'s links point, when that is not the `configured` origin (the first such
/// link's origin, or its URL when it has none).
pub fn foreign_links(configured: &Origin, record: &FolderRecord) -> Option<String> {
    [&record.read, &record.read_write]
        .into_iter()
        .find_map(|link| match Origin::parse(&link.url) {
            Ok(origin) if origin == *configured => None,
            Ok(origin) => Some(origin.to_string()),
            Err(_) => Some(link.url.clone()),
        })
}

/// Whether a failed create may have left a folder or share on the storage that the provider
/// could not take away: it was stopped, or the storage failed in a way that may also have
/// failed the provider's clean-up. A refusal (bad settings or room, credentials refused, the
/// folder exists already) made nothing, and a folder that exists already is not ours to purge.
fn may_have_left_work(error: &CallError) -> bool {
    match error {
        CallError::Trapped(_) | CallError::TimedOut(_) | CallError::Unusable(_) => true,
        CallError::Instantiation(_) => false,
        CallError::Provider(error) => !matches!(
            error,
            WitError::InvalidConfig(_)
                | WitError::InvalidRoom(_)
                | WitError::Unauthorized(_)
                | WitError::AlreadyExists(_)
        ),
    }
}

/// The error for a provider `name` that could not be loaded.
fn load_failed(name: &str) -> impl FnOnce(LoadError) -> HostError {
    let provider = name.to_owned();
    move |source| HostError::Load { provider, source }
}
