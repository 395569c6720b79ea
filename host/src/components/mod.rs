//! Where provider components come from, and what they must be before they serve.
//!
//! A provider's component comes from one of three places, the first that applies:
//! 1. an OCI registry, when `[host.components.<provider>].source` names an `oci://`
//!    reference: pulled (`registry.rs`), kept in the component cache by digest, and — a tag —
//!    followed, a moved tag swapped in like a changed file (`follow.rs`);
//! 2. the plugins folder, `<provider>.wasm` (with its detached signature
//!    `<provider>.wasm.sig`, if any), watched (`folder.rs`);
//! 3. the binary: the built-in providers, trusted as the binary is.
//!
//! Whatever its origin, a component from outside the binary passes [`Components::admit`]
//! before it is compiled or swapped in: its size, that it is a component at all, the pin
//! (`[host.components.<provider>].digest`) and, with `[host].trusted_keys`, its signature
//! ([`shared_folder_runtime::trust`]). A refusal is logged, counted
//! (`shared_folder_component_refusals_total`) and returned; what serves keeps serving.
//! Without trusted keys, each component's first admission logs that it is unverified.

mod cache;
pub mod folder;
mod follow;
mod gate;
pub mod registry;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache::Cache;
use registry::Registry;
use shared_folder_runtime::metrics::component_refused;
use shared_folder_runtime::trust::{self, Pin, Refusal, TrustedKeys, Verdict};

pub use folder::{PluginWatcher, watch};
pub use follow::Follower;
pub use registry::{FetchError, RegistryCredentials, RegistryReference};

/// The first bytes of every WebAssembly component (magic, version 0x0d, layer 1).
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// How large a component may be unless `[host].component_limit_mib` says otherwise.
pub const DEFAULT_SIZE_LIMIT: u64 = 32 << 20;

/// What `[host]` says about components.
#[derive(Debug, Clone)]
pub struct ComponentSettings {
    /// Folder of provider components (`<provider>.wasm`); `None`: none.
    pub plugins: Option<PathBuf>,
    /// With keys, every component from outside the binary must be signed by one of them.
    pub trusted_keys: Option<TrustedKeys>,
    /// `[host.components.<provider>]`, by provider.
    pub sources: BTreeMap<String, Source>,
    /// The component cache's folder: pulled components are kept in its `registry/`.
    pub cache: PathBuf,
    /// How often a followed tag is looked at.
    pub poll: Duration,
    /// The largest component accepted, in bytes (a file, or a registry's layer).
    pub size_limit: u64,
    /// PEM file of CAs trusted besides the system's, for a registry's certificate too.
    pub ca_bundle: Option<PathBuf>,
}

impl ComponentSettings {
    /// No plugins folder, no keys, no sources: the built-in components only.
    pub fn built_in_only(cache: PathBuf) -> Self {
        ComponentSettings {
            plugins: None,
            trusted_keys: None,
            sources: BTreeMap::new(),
            cache,
            poll: Duration::from_secs(60),
            size_limit: DEFAULT_SIZE_LIMIT,
            ca_bundle: None,
        }
    }
}

/// `[host.components.<provider>]`: where one provider's component comes from and what it
/// must be.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// `source = "oci://…"`: pulled from this registry reference.
    pub registry: Option<RegistryReference>,
    /// `digest = "sha256:…"`: the component must be exactly this file.
    pub pin: Option<Pin>,
    /// `registry_credentials_file`: the registry's user and password.
    pub credentials: Option<RegistryCredentials>,
    /// `registry_hosts`: other `host:port`s the registry may send the client to (its token
    /// service, its blob storage); any other is refused.
    pub other_hosts: Vec<String>,
}

/// Where a component came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Part of the binary.
    BuiltIn,
    /// A file (the plugins folder's, or one given on the command line).
    File(PathBuf),
    /// A registry: the reference followed, and the manifest it named.
    Registry { reference: String, manifest: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("the built-in component"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Registry {
                reference,
                manifest,
            } => write!(f, "{reference} (manifest {manifest})"),
        }
    }
}

/// A component that may serve.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub bytes: Vec<u8>,
    pub origin: Origin,
    /// Built in, signed by which keys, or unverified (no keys trusted).
    pub trust: Trust,
}

/// Why a component is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Part of the binary, trusted as it is.
    BuiltIn,
    /// What [`trust::verify`] found.
    Checked(Verdict),
}

impl std::fmt::Display for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::BuiltIn => f.write_str("built in, trusted as the binary is"),
            Trust::Checked(Verdict::Signed { key_ids }) => {
                write!(f, "signed by trusted key id {}", key_ids.join(", "))
            }
            Trust::Checked(Verdict::Unverified) => {
                f.write_str("unverified: [host].trusted_keys is not set")
            }
        }
    }
}

/// No component could be found, or the one found may not serve.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ComponentError {
    #[error(
        "no component for provider {provider:?}: put {provider}.wasm in the plugins folder ([host].plugins){}",
        .folder.as_ref().map(|f| format!(" — looked in {}", f.display())).unwrap_or_default()
    )]
    Missing {
        provider: String,
        folder: Option<PathBuf>,
    },
    #[error("[host].plugins: cannot use {folder}: {reason}")]
    Folder { folder: PathBuf, reason: String },
    #[error("cannot read {file}: {reason}")]
    Read { file: PathBuf, reason: String },
    /// The bytes are no component, or too large: refused before anything else is looked at.
    #[error("{origin} refused for provider {provider:?}: {problem}")]
    Unfit {
        provider: String,
        origin: String,
        problem: Unfit,
    },
    /// The pin or the signature refused it.
    #[error("{origin} refused for provider {provider:?}: {refusal}")]
    Refused {
        provider: String,
        origin: String,
        refusal: Refusal,
    },
    /// The registry's answer could not be used (and nothing of it was kept).
    #[error("{reference} refused for provider {provider:?}: {problem}")]
    Fetch {
        provider: String,
        reference: String,
        problem: FetchError,
    },
}

impl ComponentError {
    /// One word for the refusals metric; `None` for what is not a refusal of a component.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            ComponentError::Missing { .. }
            | ComponentError::Folder { .. }
            | ComponentError::Read { .. } => None,
            ComponentError::Unfit { problem, .. } => Some(problem.reason()),
            ComponentError::Refused { refusal, .. } => Some(refusal.reason()),
            ComponentError::Fetch { problem, .. } => problem.reason(),
        }
    }
}

/// Bytes that are no component to try at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    #[error("{size} bytes, above the limit of {limit} bytes ([host].component_limit_mib)")]
    TooLarge { size: u64, limit: u64 },
    #[error("not a WebAssembly component (its first bytes are not a component's header)")]
    NotAComponent,
}

impl Unfit {
    fn reason(&self) -> &'static str {
        match self {
            Unfit::TooLarge { .. } => "too_large",
            Unfit::NotAComponent => "not_a_component",
        }
    }
}

/// The providers built into the host, by name. ownCloud 10 is served by the NextCloud
/// component, which speaks both (docs/owncloud-behaviour.md): `provider = "owncloud"` names
/// it so that records, logs and metrics say which storage a folder is on.
pub fn built_in(provider: &str) -> Option<&'static [u8]> {
    match provider {
        "nextcloud" | "owncloud" => Some(shared_folder_runtime::NEXTCLOUD_PROVIDER),
        "opencloud" => Some(shared_folder_runtime::OPENCLOUD_PROVIDER),
        _ => None,
    }
}

/// The file `provider`'s component has in `folder`.
pub fn component_file(folder: &Path, provider: &str) -> PathBuf {
    folder.join(format!("{provider}.wasm"))
}

/// The detached signature of a component file: `<file>.sig` beside it.
pub fn signature_file(component: &Path) -> PathBuf {
    let mut name = component.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The detached signature beside a component file, if there is one.
pub fn read_signature(component: &Path) -> Result<Option<Vec<u8>>, ComponentError> {
    read_if_there(&signature_file(component))
}

/// `file`'s bytes; `None` when there is no such file.
fn read_if_there(file: &Path) -> Result<Option<Vec<u8>>, ComponentError> {
    match std::fs::read(file) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ComponentError::Read {
            file: file.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// Where components come from and the checks they pass: one per host, shared by the plugins
/// folder's watcher, the registry's follower, a configuration reload and the commands.
#[derive(Debug)]
pub struct Components {
    settings: ComponentSettings,
    /// Digests whose "unverified" line was logged: once per component.
    logged_unverified: Mutex<HashSet<String>>,
}

impl Components {
    pub fn new(settings: ComponentSettings) -> Arc<Self> {
        Arc::new(Components {
            settings,
            logged_unverified: Mutex::new(HashSet::new()),
        })
    }

    pub fn settings(&self) -> &ComponentSettings {
        &self.settings
    }

    /// `[host.components.<provider>]`, or the default (no registry, no pin).
    pub fn source(&self, provider: &str) -> Source {
        self.settings
            .sources
            .get(provider)
            .cloned()
            .unwrap_or_default()
    }

    /// The component `provider` starts with: the registry's (the cached copy when the
    /// registry cannot be reached), else the plugins folder's, else the built-in one.
    pub async fn initial(&self, provider: &str) -> Result<Admitted, ComponentError> {
        let source = self.source(provider);
        if let Some(reference) = &source.registry {
            return self.pull_admitted(provider, reference).await;
        }
        if let Some(folder) = &self.settings.plugins {
            if !folder.is_dir() {
                return Err(ComponentError::Folder {
                    folder: folder.to_owned(),
                    reason: "not a folder".into(),
                });
            }
            let file = component_file(folder, provider);
            if let Some(bytes) = read_if_there(&file)? {
                tracing::info!(provider, file = %file.display(), "provider from the plugins folder");
                return self.admit_file(provider, &file, bytes);
            }
        }
        let Some(bytes) = built_in(provider) else {
            return Err(ComponentError::Missing {
                provider: provider.to_owned(),
                folder: self.settings.plugins.clone(),
            });
        };
        // Trusted as the binary, yet a pin is a pin: the operator asked for these bytes.
        match trust::verify(bytes, None, None, source.pin.as_ref()) {
            Ok(_) => Ok(Admitted {
                bytes: bytes.to_vec(),
                origin: Origin::BuiltIn,
                trust: Trust::BuiltIn,
            }),
            Err(refusal) => Err(self.refused(provider, &Origin::BuiltIn, refusal)),
        }
    }

    /// What `reference` names, pulled and admitted; when the registry cannot be reached, the
    /// copy the cache kept of it, admitted again. Nothing is kept here: see [`Self::remember`].
    async fn pull_admitted(
        &self,
        provider: &str,
        reference: &RegistryReference,
    ) -> Result<Admitted, ComponentError> {
        let pulled = match self.registry(provider, reference).await {
            Ok(client) => client.pull(reference).await,
            Err(e) => Err(e),
        };
        let origin = |manifest: String| Origin::Registry {
            reference: reference.to_string(),
            manifest,
        };
        match pulled {
            Ok(pulled) => self.admit(provider, pulled.bytes, None, origin(pulled.manifest)),
            Err(FetchError::Unreachable(why)) => {
                let cache = Cache::new(&self.settings.cache);
                let Some(kept) = cache.recall(&reference.to_string()) else {
                    let problem = FetchError::Unreachable(why);
                    return Err(self.fetch_failed(provider, reference, problem));
                };
                tracing::warn!(provider, %reference, manifest = %kept.manifest, reason = %why, "the registry cannot be reached; serving the copy the cache kept");
                self.admit(provider, kept.bytes, None, origin(kept.manifest))
            }
            Err(problem) => Err(self.fetch_failed(provider, reference, problem)),
        }
    }

    /// A client for `provider`'s registry, as the settings configure it.
    pub(crate) async fn registry(
        &self,
        provider: &str,
        reference: &RegistryReference,
    ) -> Result<Registry, FetchError> {
        let source = self.source(provider);
        Registry::connect(
            reference,
            self.settings.ca_bundle.as_deref(),
            source.credentials.as_ref(),
            &source.other_hosts,
            self.settings.size_limit,
        )
        .await
    }

    /// Keeps a component from a registry in the cache once it serves (or passed `check`):
    /// what a restart falls back to while the registry is away. Others are not kept.
    pub fn remember(&self, admitted: &Admitted) {
        let Origin::Registry {
            reference,
            manifest,
        } = &admitted.origin
        else {
            return;
        };
        let cache = Cache::new(&self.settings.cache);
        if let Err(error) = cache.keep(reference, manifest, &admitted.bytes) {
            tracing::warn!(%reference, %error, "the component could not be kept in the cache");
        }
    }

    /// A registry's answer that was not used; logged and counted when it refuses a component
    /// (a registry that cannot be reached refuses nothing).
    pub(crate) fn fetch_failed(
        &self,
        provider: &str,
        reference: &RegistryReference,
        problem: FetchError,
    ) -> ComponentError {
        let error = ComponentError::Fetch {
            provider: provider.to_owned(),
            reference: reference.to_string(),
            problem,
        };
        if error.reason().is_some() {
            self.log_refusal(provider, &error);
        }
        error
    }

    /// A component file (with its detached signature `<file>.sig`, if there is one) checked
    /// for `provider`.
    pub fn admit_file(
        &self,
        provider: &str,
        file: &Path,
        bytes: Vec<u8>,
    ) -> Result<Admitted, ComponentError> {
        let detached = read_signature(file)?;
        self.admit(
            provider,
            bytes,
            detached.as_deref(),
            Origin::File(file.to_owned()),
        )
    }

    /// Checks a component from outside the binary for `provider`: its size, its header, the
    /// pin, the signature (embedded, or `detached`). Refusals are logged and counted.
    pub fn admit(
        &self,
        provider: &str,
        bytes: Vec<u8>,
        detached: Option<&[u8]>,
        origin: Origin,
    ) -> Result<Admitted, ComponentError> {
        if let Err(problem) = self.fit(&bytes) {
            let error = ComponentError::Unfit {
                provider: provider.to_owned(),
                origin: origin.to_string(),
                problem,
            };
            self.log_refusal(provider, &error);
            return Err(error);
        }
        let source = self.source(provider);
        let verdict = trust::verify(
            &bytes,
            detached,
            self.settings.trusted_keys.as_ref(),
            source.pin.as_ref(),
        )
        .map_err(|refusal| self.refused(provider, &origin, refusal))?;
        match &verdict {
            Verdict::Unverified => {
                let digest = shared_folder_runtime::content_digest(&bytes);
                let first = self
                    .logged_unverified
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(digest.clone());
                if first {
                    tracing::warn!(provider, %origin, %digest, "component not verified: [host].trusted_keys is not set, so any file here or in the registry serves with the storage account's rights");
                }
            }
            Verdict::Signed { key_ids } => {
                tracing::info!(provider, %origin, key_ids = %key_ids.join(","), "component signature verified");
            }
        }
        Ok(Admitted {
            bytes,
            origin,
            trust: Trust::Checked(verdict),
        })
    }

    /// Whether `bytes` are a component of an acceptable size.
    pub fn fit(&self, bytes: &[u8]) -> Result<(), Unfit> {
        let size = bytes.len() as u64;
        if size > self.settings.size_limit {
            return Err(Unfit::TooLarge {
                size,
                limit: self.settings.size_limit,
            });
        }
        if !bytes.starts_with(&COMPONENT_HEADER) {
            return Err(Unfit::NotAComponent);
        }
        Ok(())
    }

    fn refused(&self, provider: &str, origin: &Origin, refusal: Refusal) -> ComponentError {
        let error = ComponentError::Refused {
            provider: provider.to_owned(),
            origin: origin.to_string(),
            refusal,
        };
        self.log_refusal(provider, &error);
        error
    }

    /// Logs and counts a refused component.
    pub(crate) fn log_refusal(&self, provider: &str, error: &ComponentError) {
        if let Some(reason) = error.reason() {
            component_refused(provider, reason);
        }
        tracing::warn!(provider, %error, "component refused: nothing of it is used (a component that serves keeps serving)");
    }
}
