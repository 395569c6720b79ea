//! A loaded provider: a component checked against the world and pre-instantiated, and the
//! two calls of the contract, each in a fresh, confined instance.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, UpdateDeadline};

use crate::bindings::exports::shared_folder::provider::provider::Guest as ProviderExports;
use crate::bindings::{
    Setting, SharedFolder, SharedFolderProvider, SharedFolderProviderPre, WitError,
};
use crate::engine::{ContentDigest, ProviderEngine};
use crate::error::{CallError, LoadError};
use crate::outbound::Outbound;
use crate::sandbox::{CallState, SandboxLimits};

/// Confinement of one call: where it may send requests, how much memory and time it gets.
#[derive(Debug, Clone)]
pub struct CallLimits {
    pub outbound: Arc<Outbound>,
    pub sandbox: SandboxLimits,
    /// Wall-clock deadline of a whole call (instantiation, guest code, outbound requests).
    pub deadline: Duration,
}

/// Which provider serves calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// The provider's name (`[shared_folder].provider`, or the name it was swapped in as).
    pub name: String,
    /// SHA-256 of the component, in hex.
    pub digest: String,
}

pub struct Provider {
    name: String,
    digest: ContentDigest,
    pre: SharedFolderProviderPre<CallState>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Compiles (or reuses) the component and checks its imports and exports against the
    /// `shared-folder-provider` world.
    pub fn load(engine: &Arc<ProviderEngine>, name: &str, bytes: &[u8]) -> Result<Self, LoadError> {
        let (digest, component) = engine.compile(bytes)?;
        let instance_pre = engine
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| LoadError::WrongWorld(crate::error::one_line(&e)))?;
        let pre = SharedFolderProviderPre::new(instance_pre)
            .map_err(|e| LoadError::WrongWorld(crate::error::one_line(&e)))?;
        Ok(Provider {
            name: name.to_owned(),
            digest,
            pre,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the component's bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: self.name.clone(),
            digest: self.digest.clone(),
        }
    }

    pub async fn create(
        &self,
        limits: &CallLimits,
        settings: &Vec<Setting>,
        room: &str,
    ) -> Result<SharedFolder, CallError> {
        let folder = self
            .call(limits, async |guest, store| {
                guest.call_create(store, settings, room).await
            })
            .await?;
        usable(&folder).map_err(CallError::Unusable)?;
        Ok(folder)
    }

    pub async fn delete(
        &self,
        limits: &CallLimits,
        settings: &Vec<Setting>,
        folder: &SharedFolder,
    ) -> Result<(), CallError> {
        self.call(limits, async |guest, store| {
            guest.call_delete(store, settings, folder).await
        })
        .await
    }

    /// Removes `room`'s folder found by its id alone: after a create whose result was lost.
    pub async fn purge(
        &self,
        limits: &CallLimits,
        settings: &Vec<Setting>,
        room: &str,
    ) -> Result<(), CallError> {
        self.call(limits, async |guest, store| {
            guest.call_purge(store, settings, room).await
        })
        .await
    }

    /// One function of the `provider` interface, in a fresh instance, under the deadline.
    async fn call<T>(
        &self,
        limits: &CallLimits,
        function: impl AsyncFnOnce(
            &ProviderExports,
            &mut Store<CallState>,
        ) -> wasmtime::Result<Result<T, WitError>>,
    ) -> Result<T, CallError> {
        within(limits.deadline, async {
            let (mut store, bindings) = self.instantiate(limits).await?;
            guest_result(function(bindings.shared_folder_provider_provider(), &mut store).await)
        })
        .await
    }

    /// Makes a fresh instance, as every call does, and drops it without calling it.
    pub async fn instantiate_only(&self, limits: &CallLimits) -> Result<(), CallError> {
        within(limits.deadline, async {
            self.instantiate(limits).await.map(drop)
        })
        .await
    }

    /// A fresh store and instance. The guest yields to the runtime at every epoch tick, so a
    /// guest that never returns cannot hold a thread, and the deadline can stop it.
    async fn instantiate(
        &self,
        limits: &CallLimits,
    ) -> Result<(Store<CallState>, SharedFolderProvider), CallError> {
        let state = CallState::new(Arc::clone(&limits.outbound), limits.sandbox);
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let bindings = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| CallError::Instantiation(crate::error::one_line(&e)))?;
        Ok((store, bindings))
    }
}

/// Longest path, share id and password the host keeps from a provider, in bytes.
const MAX_FIELD: usize = 1024;
/// Longest share URL, in bytes.
const MAX_URL: usize = 4096;

/// Checks what a provider returned before it is recorded and shown to anyone: a component is
/// third-party code, and its strings reach the records, the logs and participants' screens.
/// The message names the field, never its value (it may be a password).
fn usable(folder: &SharedFolder) -> Result<(), String> {
    let text = |name: &str, value: &str, max: usize| {
        if value.is_empty() {
            Err(format!("{name} is empty"))
        } else if value.len() > max {
            Err(format!("{name} is longer than {max} bytes"))
        } else if value.chars().any(char::is_control) {
            Err(format!("{name} contains control characters"))
        } else {
            Ok(())
        }
    };
    text("path", &folder.path, MAX_FIELD)?;
    if folder.path.starts_with('/')
        || folder
            .path
            .split(['/', '\\'])
            .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Err("path is not a plain relative path".into());
    }
    for (which, share) in [("read", &folder.read), ("read_write", &folder.read_write)] {
        text(&format!("{which}.id"), &share.id, MAX_FIELD)?;
        text(&format!("{which}.password"), &share.password, MAX_FIELD)?;
        text(&format!("{which}.url"), &share.url, MAX_URL)?;
        let url: http::Uri = share
            .url
            .parse()
            .map_err(|_| format!("{which}.url is not a URL"))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(format!("{which}.url is not an http(s) URL"));
        }
    }
    if folder.read.id == folder.read_write.id {
        return Err("read and read_write are the same share".into());
    }
    if folder.read.password == folder.read_write.password {
        return Err("read and read_write have the same password".into());
    }
    Ok(())
}

async fn within<T>(
    deadline: Duration,
    call: impl Future<Output = Result<T, CallError>>,
) -> Result<T, CallError> {
    tokio::time::timeout(deadline, call)
        .await
        .unwrap_or(Err(CallError::TimedOut(deadline)))
}

fn guest_result<T>(result: wasmtime::Result<Result<T, WitError>>) -> Result<T, CallError> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(CallError::Provider(error)),
        Err(trap) => {
            // The reason first (e.g. "wasm trap: wasm `unreachable` instruction executed"); the
            // wasm backtrace is for whoever debugs the component.
            tracing::debug!(trap = %crate::error::one_line(&trap), "provider trap in full");
            Err(CallError::Trapped(trap.root_cause().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;

    #[test]
    fn the_built_in_provider_fits_the_world() {
        let engine = ProviderEngine::with_options(EngineOptions::default()).unwrap();
        let provider = Provider::load(&engine, "nextcloud", crate::NEXTCLOUD_PROVIDER).unwrap();
        assert_eq!(provider.digest().len(), 64);
    }

    fn folder() -> SharedFolder {
        let share = |kind: &str| crate::bindings::Share {
            id: format!("{kind}-1"),
            url: format!("https://cloud.example.com/index.php/s/{kind}"),
            password: format!("{kind}-Secret-Passw0rd"),
        };
        SharedFolder {
            path: "meetings/room".into(),
            read: share("ro"),
            read_write: share("rw"),
        }
    }

    #[test]
    fn a_created_folder_is_checked_before_anyone_sees_it() {
        assert_eq!(usable(&folder()), Ok(()));
        type Spoil = fn(&mut SharedFolder);
        let spoiled: [(&str, Spoil); 11] = [
            ("path is empty", |f| f.path.clear()),
            ("path is not a plain relative path", |f| {
                f.path = "../etc".into()
            }),
            ("path is not a plain relative path", |f| {
                f.path = "/etc/passwd".into()
            }),
            ("path is not a plain relative path", |f| {
                f.path = "a//b".into()
            }),
            ("path contains control characters", |f| {
                f.path = "a\nb".into()
            }),
            ("read.id is empty", |f| f.read.id.clear()),
            ("read.password is longer than 1024 bytes", |f| {
                f.read.password = "x".repeat(1025)
            }),
            ("read_write.url is not an http(s) URL", |f| {
                f.read_write.url = "javascript:alert(1)".into()
            }),
            ("read_write.url is not a URL", |f| {
                f.read_write.url = "https://exa mple.com/".into()
            }),
            ("read and read_write are the same share", |f| {
                f.read_write.id = f.read.id.clone()
            }),
            ("read and read_write have the same password", |f| {
                f.read_write.password = f.read.password.clone()
            }),
        ];
        for (reason, spoil) in spoiled {
            let mut bad = folder();
            spoil(&mut bad);
            let error = usable(&bad).unwrap_err();
            assert_eq!(error, reason);
            assert!(!error.contains("Secret-Passw0rd"));
        }
    }

    #[test]
    fn a_non_component_is_refused() {
        let engine = ProviderEngine::with_options(EngineOptions::default()).unwrap();
        let error = Provider::load(&engine, "x", b"not wasm").unwrap_err();
        assert!(matches!(error, LoadError::NotAComponent(_)), "{error}");
    }
}
