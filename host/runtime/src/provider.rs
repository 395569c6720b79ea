//! A loaded provider: a component checked against the world of the contract version it
//! exports and pre-instantiated, and the calls of the contract, each in a fresh, confined
//! instance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, UpdateDeadline};

use crate::contract::{
    Contract, Created, FieldProblem, FoundFolder, ProviderError, Setting, v0_2, v0_3, v0_4,
};
use crate::engine::{ContentDigest, ProviderEngine};
use crate::error::{CallError, LoadError};
use crate::folder::FolderRecord;
use crate::metrics::{self, Operation};
use crate::outbound::Outbound;
use crate::sandbox::{CallState, SandboxLimits};

/// Confinement of one call: where it may send requests, how much memory and time it gets.
#[derive(Debug, Clone)]
pub struct CallLimits {
    /// Where requests go; `None`: nowhere (`validate`).
    pub outbound: Option<Arc<Outbound>>,
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
    /// The contract version the component exports, which serves it.
    pub contract: Contract,
}

/// What a provider said of settings ([`Provider::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// It accepts them.
    Valid,
    /// It refuses them: the field and why.
    Invalid(FieldProblem),
    /// Its contract has no `validate` (0.2): the settings are checked at its first call.
    NotOffered,
}

/// The pre-instantiated component, in its contract version's bindings.
enum Bindings {
    V0_2(v0_2::SharedFolderProviderPre<CallState>),
    V0_3(v0_3::SharedFolderProviderPre<CallState>),
    V0_4(v0_4::SharedFolderProviderPre<CallState>),
}

/// The call of a contract function in the bindings of the component's version: `$older` for
/// 0.2 (with `$old` its pre-instantiated component), `$body` for the versions whose functions
/// of one name take the same arguments (0.3 on), with `$pre` the pre-instantiated component and
/// `$contract` the version's module (`settings`, `created`).
macro_rules! by_version {
    ($bindings:expr, v0_2: |$old:pat_param| $older:expr, since_0_3: |$pre:ident, $contract:ident| $body:expr) => {
        match $bindings {
            Bindings::V0_2($old) => $older,
            Bindings::V0_3($pre) => {
                #[allow(unused_imports)]
                use v0_3 as $contract;
                $body
            }
            Bindings::V0_4($pre) => {
                #[allow(unused_imports)]
                use v0_4 as $contract;
                $body
            }
        }
    };
}

pub struct Provider {
    name: String,
    digest: ContentDigest,
    contract: Contract,
    bindings: Bindings,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .field("contract", &self.contract)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Compiles (or reuses) the component, reads which contract version it exports and
    /// checks its imports and exports against that version's world.
    pub fn load(engine: &Arc<ProviderEngine>, name: &str, bytes: &[u8]) -> Result<Self, LoadError> {
        let (digest, component) = engine.compile(bytes)?;
        let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld(crate::error::one_line(&e));
        // Imports first: one the world does not grant is the first thing to tell.
        let instance_pre = engine
            .linker()
            .instantiate_pre(&component)
            .map_err(wrong_world)?;
        let contract = Contract::of(engine.linker().engine(), &component)?;
        let bindings = match contract {
            Contract::V0_2 => Bindings::V0_2(
                v0_2::SharedFolderProviderPre::new(instance_pre).map_err(wrong_world)?,
            ),
            Contract::V0_3 => Bindings::V0_3(
                v0_3::SharedFolderProviderPre::new(instance_pre).map_err(wrong_world)?,
            ),
            Contract::V0_4 => Bindings::V0_4(
                v0_4::SharedFolderProviderPre::new(instance_pre).map_err(wrong_world)?,
            ),
        };
        Ok(Provider {
            name: name.to_owned(),
            digest,
            contract,
            bindings,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the component's bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The contract version serving it.
    pub fn contract(&self) -> Contract {
        self.contract
    }

    pub fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: self.name.clone(),
            digest: self.digest.clone(),
            contract: self.contract,
        }
    }

    /// Asks the provider whether it accepts `settings`, in an instance that may send no
    /// request.
    pub async fn validate(
        &self,
        limits: &CallLimits,
        settings: &[Setting],
    ) -> Result<Validation, CallError> {
        let limits = CallLimits {
            outbound: None,
            ..limits.clone()
        };
        by_version!(&self.bindings, v0_2: |_| Ok(Validation::NotOffered), since_0_3: |pre, contract| {
            let settings = contract::settings(settings);
            let call = within(limits.deadline, async {
                let mut store = self.store(&limits);
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                trapped(
                    guest
                        .shared_folder_provider_provider()
                        .call_validate(&mut store, &settings)
                        .await,
                )
            });
            let answer = self.measured(Operation::Validate, call).await?;
            Ok(match answer {
                Ok(()) => Validation::Valid,
                Err(problem) => Validation::Invalid(problem.into()),
            })
        })
    }

    pub async fn create(
        &self,
        limits: &CallLimits,
        settings: &[Setting],
        room: &str,
    ) -> Result<Created, CallError> {
        let call = within(limits.deadline, async {
            let mut store = self.store(limits);
            by_version!(&self.bindings, v0_2: |pre| {
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                let answer = guest
                    .shared_folder_provider_provider()
                    .call_create(&mut store, &v0_2::settings(settings), room)
                    .await;
                let folder = provider_result(answer)?;
                v0_2::usable(&folder).map_err(CallError::Unusable)?;
                Ok(v0_2::created(folder))
            }, since_0_3: |pre, contract| {
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                let answer = guest
                    .shared_folder_provider_provider()
                    .call_create(&mut store, &contract::settings(settings), room)
                    .await;
                Ok(contract::created(provider_result(answer)?))
            })
        });
        // A folder the host cannot use is the call's failure too.
        let checked = async {
            let created = call.await?;
            usable(&created).map_err(CallError::Unusable)?;
            Ok(created)
        };
        self.measured(Operation::Create, checked).await
    }

    /// Deletes the folder `record` describes; the record must be one this provider's contract
    /// version made.
    pub async fn delete(
        &self,
        limits: &CallLimits,
        settings: &[Setting],
        record: &FolderRecord,
    ) -> Result<(), CallError> {
        let call = within(limits.deadline, async {
            let mut store = self.store(limits);
            by_version!(&self.bindings, v0_2: |pre| {
                let folder = v0_2::folder(record).map_err(CallError::Unusable)?;
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                let answer = guest
                    .shared_folder_provider_provider()
                    .call_delete(&mut store, &v0_2::settings(settings), &folder)
                    .await;
                provider_result(answer)
            }, since_0_3: |pre, contract| {
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                let answer = guest
                    .shared_folder_provider_provider()
                    .call_delete(
                        &mut store,
                        &contract::settings(settings),
                        &record.room,
                        &record.handle,
                    )
                    .await;
                provider_result(answer)
            })
        });
        self.measured(Operation::Delete, call).await
    }

    /// Removes `room`'s folder found by its id alone: after a create whose result was lost.
    pub async fn purge(
        &self,
        limits: &CallLimits,
        settings: &[Setting],
        room: &str,
    ) -> Result<(), CallError> {
        let call = within(limits.deadline, async {
            let mut store = self.store(limits);
            by_version!(&self.bindings, v0_2: |pre| {
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                let answer = guest
                    .shared_folder_provider_provider()
                    .call_purge(&mut store, &v0_2::settings(settings), room)
                    .await;
                provider_result(answer)
            }, since_0_3: |pre, contract| {
                let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
                let answer = guest
                    .shared_folder_provider_provider()
                    .call_purge(&mut store, &contract::settings(settings), room)
                    .await;
                provider_result(answer)
            })
        });
        self.measured(Operation::Purge, call).await
    }

    /// The rooms' folders on the storage, with their links (contract 0.4's `list-folders`).
    pub async fn list(
        &self,
        limits: &CallLimits,
        settings: &[Setting],
    ) -> Result<Vec<FoundFolder>, CallError> {
        let Bindings::V0_4(pre) = &self.bindings else {
            return Err(self.not_offered("list-folders"));
        };
        let call = within(limits.deadline, async {
            let mut store = self.store(limits);
            let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
            let answer = guest
                .shared_folder_provider_provider()
                .call_list_folders(&mut store, &v0_4::settings(settings))
                .await;
            Ok(v0_4::found(provider_result(answer)?))
        });
        let checked = async {
            let found = call.await?;
            listed(&found).map_err(CallError::Unusable)?;
            Ok(found)
        };
        self.measured(Operation::List, checked).await
    }

    /// Takes `room`'s folder over as it is on the storage, its links with new passwords
    /// (contract 0.4's `recover`); checked as a created folder is.
    pub async fn recover(
        &self,
        limits: &CallLimits,
        settings: &[Setting],
        room: &str,
    ) -> Result<Created, CallError> {
        let Bindings::V0_4(pre) = &self.bindings else {
            return Err(self.not_offered("recover"));
        };
        let call = within(limits.deadline, async {
            let mut store = self.store(limits);
            let guest = self.instantiate(pre.instantiate_async(&mut store)).await?;
            let answer = guest
                .shared_folder_provider_provider()
                .call_recover(&mut store, &v0_4::settings(settings), room)
                .await;
            Ok(v0_4::created(provider_result(answer)?))
        });
        let checked = async {
            let created = call.await?;
            usable(&created).map_err(CallError::Unusable)?;
            Ok(created)
        };
        self.measured(Operation::Recover, checked).await
    }

    /// The error for a function this component's contract version does not have.
    fn not_offered(&self, function: &'static str) -> CallError {
        CallError::NotOffered {
            function,
            contract: self.contract,
        }
    }

    /// Makes a fresh instance, as every call does, and drops it without calling it.
    pub async fn instantiate_only(&self, limits: &CallLimits) -> Result<(), CallError> {
        within(limits.deadline, async {
            let mut store = self.store(limits);
            by_version!(&self.bindings, v0_2: |pre| {
                self.instantiate(pre.instantiate_async(&mut store)).await.map(drop)
            }, since_0_3: |pre, _contract| {
                self.instantiate(pre.instantiate_async(&mut store)).await.map(drop)
            })
        })
        .await
    }

    /// A fresh store. The guest yields to the runtime at every epoch tick, so a guest that
    /// never returns cannot hold a thread, and the deadline can stop it.
    fn store(&self, limits: &CallLimits) -> Store<CallState> {
        let state = CallState::new(limits.outbound.clone(), limits.sandbox);
        let engine = by_version!(&self.bindings, v0_2: |pre| pre.engine(), since_0_3: |pre, _contract| pre.engine());
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        store
    }

    /// Makes the instance, and records how long that took: it is the cost every call pays
    /// before the guest runs.
    async fn instantiate<T>(
        &self,
        instantiation: impl Future<Output = wasmtime::Result<T>>,
    ) -> Result<T, CallError> {
        let started = Instant::now();
        let instance = instantiation
            .await
            .map_err(|e| CallError::Instantiation(crate::error::one_line(&e)))?;
        metrics::instantiated(&self.name, started.elapsed());
        Ok(instance)
    }

    /// Runs `call`, then counts it by its outcome and records its duration.
    async fn measured<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let started = Instant::now();
        let result = call.await;
        let failure = result.as_ref().err().map(CallError::kind);
        metrics::call_finished(&self.name, operation, started.elapsed(), failure);
        result
    }
}

/// Longest location and password the host keeps from a provider, in bytes.
const MAX_FIELD: usize = 1024;
/// Longest handle, in bytes (the contract's 16 KiB).
const MAX_HANDLE: usize = 16 << 10;
/// Longest share URL, in bytes.
const MAX_URL: usize = 4096;

/// Checks what a provider returned before it is recorded and shown to anyone: a component is
/// third-party code, and its strings reach the records, the logs and participants' screens.
/// The message names the field, never its value (it may be a password).
fn usable(folder: &Created) -> Result<(), String> {
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
    text("location", &folder.location, MAX_FIELD)?;
    text("handle", &folder.handle, MAX_HANDLE)?;
    for (which, share) in [("read", &folder.read), ("read_write", &folder.read_write)] {
        text(&format!("{which}.password"), &share.password, MAX_FIELD)?;
        text(&format!("{which}.url"), &share.url, MAX_URL)?;
        link_url(&share.url).map_err(|e| format!("{which}.url {e}"))?;
    }
    if folder.read.url == folder.read_write.url {
        return Err("read and read_write are the same link".into());
    }
    if folder.read.password == folder.read_write.password {
        return Err("read and read_write have the same password".into());
    }
    Ok(())
}

/// Most folders a `list` may name (a host reads every one into memory).
const MAX_FOUND: usize = 100_000;

/// Checks what `list` returned before the host compares it with its records: each folder's
/// room id and location as a created folder's, each link's URL, one folder per room. The
/// message names the field and the folder's position, never a value.
fn listed(found: &[FoundFolder]) -> Result<(), String> {
    if found.len() > MAX_FOUND {
        return Err(format!("more than {MAX_FOUND} folders"));
    }
    let mut rooms = std::collections::HashSet::new();
    for (n, folder) in found.iter().enumerate() {
        if let Err(reason) = crate::room_id::check(&folder.room) {
            return Err(format!("folder {n}: {reason}"));
        }
        if !rooms.insert(folder.room.as_str()) {
            return Err(format!("folder {n}: its room is named twice"));
        }
        if folder.location.len() > MAX_FIELD || folder.location.chars().any(char::is_control) {
            return Err(format!(
                "folder {n}: location is too long or has control characters"
            ));
        }
        for (l, link) in folder.links.iter().enumerate() {
            link_url(&link.url).map_err(|e| format!("folder {n}, link {l}: url {e}"))?;
        }
    }
    Ok(())
}

/// Whether `url` can be shown as a link: an http(s) URL with a host, of at most [`MAX_URL`]
/// bytes, without control characters.
fn link_url(url: &str) -> Result<(), &'static str> {
    if url.is_empty() || url.len() > MAX_URL || url.chars().any(char::is_control) {
        return Err("is empty, too long or has control characters");
    }
    let parsed: http::Uri = url.parse().map_err(|_| "is not a URL")?;
    if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
        return Err("is not an http(s) URL");
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

/// A call's answer: the contract's result, or its error as the host's, or a trap.
fn provider_result<T, E: Into<ProviderError>>(
    result: wasmtime::Result<Result<T, E>>,
) -> Result<T, CallError> {
    trapped(result)?.map_err(|error| CallError::Provider(error.into()))
}

/// The guest's answer, unless it trapped.
fn trapped<T>(result: wasmtime::Result<T>) -> Result<T, CallError> {
    match result {
        Ok(value) => Ok(value),
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
    use crate::contract::CreatedLink;
    use crate::engine::EngineOptions;

    #[test]
    fn the_built_in_providers_fit_the_current_contract() {
        let engine = ProviderEngine::with_options(EngineOptions::default()).unwrap();
        for component in [crate::NEXTCLOUD_PROVIDER, crate::OPENCLOUD_PROVIDER] {
            let provider = Provider::load(&engine, "built-in", component).unwrap();
            assert_eq!(provider.digest().len(), 64);
            assert_eq!(provider.contract(), Contract::V0_4);
            assert!(provider.contract().lists_and_recovers());
        }
    }

    fn created() -> Created {
        let link = |kind: &str| CreatedLink {
            url: format!("https://cloud.example.com/index.php/s/{kind}"),
            password: format!("{kind}-Secret-Passw0rd"),
        };
        Created {
            location: "meetings/room".into(),
            read: link("ro"),
            read_write: link("rw"),
            handle: r#"{"path":"meetings/room","read":"1","read_write":"2"}"#.into(),
        }
    }

    #[test]
    fn a_created_folder_is_checked_before_anyone_sees_it() {
        assert_eq!(usable(&created()), Ok(()));
        type Spoil = fn(&mut Created);
        let spoiled: [(&str, Spoil); 9] = [
            ("location is empty", |f| f.location.clear()),
            ("location contains control characters", |f| {
                f.location = "a\nb".into()
            }),
            ("handle is empty", |f| f.handle.clear()),
            ("handle is longer than 16384 bytes", |f| {
                f.handle = "x".repeat(16385)
            }),
            ("read.password is longer than 1024 bytes", |f| {
                f.read.password = "x".repeat(1025)
            }),
            ("read_write.url is not an http(s) URL", |f| {
                f.read_write.url = "javascript:alert(1)".into()
            }),
            ("read_write.url is not a URL", |f| {
                f.read_write.url = "https://exa mple.com/".into()
            }),
            ("read and read_write are the same link", |f| {
                f.read_write.url = f.read.url.clone()
            }),
            ("read and read_write have the same password", |f| {
                f.read_write.password = f.read.password.clone()
            }),
        ];
        for (reason, spoil) in spoiled {
            let mut bad = created();
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
