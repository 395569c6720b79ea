//! Where provider components come from: built into the host, or `<provider>.wasm` in the
//! plugins folder, which overrides the built-in one and is watched while the host runs.
//!
//! A new or changed file is read, checked against the world and swapped in
//! ([`shared_folder_runtime::Runtime::swap_provider`]); a broken one is refused with a log line and the
//! provider before it keeps serving. Writes arrive as bursts of file-system events, so the
//! watcher waits for a short quiet spell before it reads the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::folders::SharedFolders;
use shared_folder_runtime::content_digest;

/// How long a component file must stay unchanged before it is loaded.
const QUIET: Duration = Duration::from_millis(100);

/// No component could be found or watched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
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

/// The component to start `provider` with: the plugins folder's, else the built-in one.
pub fn initial_component(folder: Option<&Path>, provider: &str) -> Result<Vec<u8>, PluginError> {
    if let Some(folder) = folder {
        if !folder.is_dir() {
            return Err(PluginError::Folder {
                folder: folder.to_owned(),
                reason: "not a folder".into(),
            });
        }
        let file = component_file(folder, provider);
        match std::fs::read(&file) {
            Ok(bytes) => {
                tracing::info!(provider, file = %file.display(), "provider from the plugins folder");
                return Ok(bytes);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(PluginError::Read {
                    file,
                    reason: e.to_string(),
                });
            }
        }
    }
    built_in(provider)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| PluginError::Missing {
            provider: provider.to_owned(),
            folder: folder.map(Path::to_owned),
        })
}

/// Watches the plugins folder for as long as it lives.
pub struct PluginWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PluginWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `folder` for `folders`' configured provider's component. Must be called
/// within a tokio runtime.
pub fn watch(folders: Arc<SharedFolders>, folder: &Path) -> Result<PluginWatcher, PluginError> {
    let unusable = |e: notify::Error| PluginError::Folder {
        folder: folder.to_owned(),
        reason: e.to_string(),
    };
    let (events, mut changes) = mpsc::unbounded_channel();
    let serving = Arc::clone(&folders);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // The file of the provider serving at this moment: a reloaded configuration may name
        // another one.
        let concerns_file = match &event {
            Ok(event) => {
                let watched = format!("{}.wasm", serving.runtime().config().provider);
                changes_content(&event.kind)
                    && event
                        .paths
                        .iter()
                        .any(|p| p.file_name().is_some_and(|n| *n == *watched))
            }
            // A failing watch may have missed changes: look at the file again.
            Err(_) => true,
        };
        if concerns_file {
            let _ = events.send(());
        }
    })
    .map_err(unusable)?;
    watcher
        .watch(folder, RecursiveMode::NonRecursive)
        .map_err(unusable)?;
    tracing::info!(folder = %folder.display(), "watching for provider changes");
    let folder = folder.to_owned();

    let task = tokio::spawn(async move {
        // The content last refused: the same bytes are not tried again.
        let mut refused = None;
        while changes.recv().await.is_some() {
            // Let the write finish: wait until no event came for a while.
            while let Ok(Some(())) = tokio::time::timeout(QUIET, changes.recv()).await {}
            // Which provider serves is read once: a configuration reload may change it.
            let name = folders.runtime().config().provider;
            let file = component_file(&folder, &name);
            reload(&folders, &name, &file, &mut refused).await;
        }
    });
    Ok(PluginWatcher {
        _watcher: watcher,
        task,
    })
}

/// Whether a file-system event can mean new content. Reading the file (the host's own reads
/// included) produces access events: were they taken for changes, every read would cause the
/// next one, and the host would read the file again and again for as long as it sits there.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => true,
        // Metadata (times, permissions) says nothing about the bytes.
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        // Closing a file that was open for writing: the write is complete.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
    }
}

/// Loads `file` and swaps it in, unless it is gone, is what already serves, or is what was
/// `refused` last time (a broken component is not tried again until it changes).
async fn reload(folders: &SharedFolders, name: &str, file: &Path, refused: &mut Option<String>) {
    let bytes = match tokio::fs::read(file).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file = %file.display(), "component file removed; the current provider keeps serving");
            return;
        }
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "component file unreadable; the current provider keeps serving");
            return;
        }
    };
    let digest = content_digest(&bytes);
    tracing::debug!(file = %file.display(), %digest, "component file read");
    if digest == folders.runtime().provider().digest || refused.as_ref() == Some(&digest) {
        return;
    }
    tracing::info!(file = %file.display(), bytes = bytes.len(), "component file changed; loading it");
    // `swap_provider` logs the outcome either way.
    if folders.runtime().swap_provider(name, &bytes).await.is_err() {
        *refused = Some(digest);
    }
}
