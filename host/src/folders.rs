//! The host's API: shared folders of meeting rooms, made by the current provider.
//!
//! [`SharedFolders`] is what a controller embeds. It owns the provider slot (hot-swapped by
//! [`SharedFolders::swap_provider`]), the confinement of provider calls, and the records.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::SharedFolderConfig;
use crate::engine::ProviderEngine;
use crate::error::{CallError, HostError, LoadError};
use crate::outbound::{Outbound, OutboundLimits};
use crate::provider::{CallLimits, Provider};
use crate::records::{FolderRecord, Records, RoomLocks};
use crate::roles::{self, Access, Role};
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

/// Which provider serves calls now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    pub name: String,
    /// SHA-256 of the component.
    pub digest: String,
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
    /// A host serving `config` with the provider component `component` (its bytes).
    pub fn new(
        config: SharedFolderConfig,
        component: &[u8],
        limits: HostLimits,
    ) -> Result<Self, HostError> {
        let engine = ProviderEngine::new().map_err(load_failed(&config.provider))?;
        let provider = Provider::load(&engine, &config.provider, component)
            .map_err(load_failed(&config.provider))?;
        let outbound = Outbound::new(
            config.origin.clone(),
            &config.username,
            &config.password,
            limits.outbound,
        );
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
            records: Records::default(),
            rooms: RoomLocks::default(),
        })
    }

    /// The provider serving new calls.
    pub fn provider(&self) -> ProviderInfo {
        self.current_provider().info()
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

    /// Creates the shared folder of `room`, or returns the one it has. Concurrent creates of
    /// one room make one folder: the later ones wait and return it.
    pub async fn create(&self, room: &str) -> Result<FolderRecord, HostError> {
        let _room = self.rooms.lock(room).await;
        if let Some(existing) = self.records.get(room) {
            return Ok(existing);
        }
        let provider = self.current_provider();
        let folder = provider
            .create(&self.limits, &self.config.settings, room)
            .await
            .map_err(|source| self.call_failed(&provider, room, source))?;
        let record = FolderRecord::new(room, provider.name(), folder);
        self.records.insert(record.clone());
        tracing::info!(room, provider = provider.name(), path = %record.path, "shared folder created");
        Ok(record)
    }

    /// The folder of `room`, if it has one.
    pub fn folder(&self, room: &str) -> Option<FolderRecord> {
        self.records.get(room)
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
    /// when the room had none. The record goes only once the provider succeeded.
    pub async fn delete(&self, room: &str) -> Result<bool, HostError> {
        let _room = self.rooms.lock(room).await;
        let Some(record) = self.records.get(room) else {
            return Ok(false);
        };
        let provider = self.current_provider();
        provider
            .delete(&self.limits, &self.config.settings, &record.to_wit())
            .await
            .map_err(|source| self.call_failed(&provider, room, source))?;
        self.records.remove(room);
        tracing::info!(room, provider = provider.name(), "shared folder deleted");
        Ok(true)
    }

    fn existing(&self, room: &str) -> Result<FolderRecord, HostError> {
        self.records
            .get(room)
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

/// The error for a provider `name` that could not be loaded.
fn load_failed(name: &str) -> impl FnOnce(LoadError) -> HostError {
    let provider = name.to_owned();
    move |source| HostError::Load { provider, source }
}
