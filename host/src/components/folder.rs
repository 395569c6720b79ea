//! The plugins folder, watched while the host runs: `<provider>.wasm` there overrides the
//! built-in component.
//!
//! A new or changed file is read, admitted ([`Components::admit_file`]: size, pin,
//! signature), checked against the world and swapped in
//! ([`shared_folder_runtime::Runtime::swap_provider`]); a broken one is refused with a log line and the
//! provider before it keeps serving. Writes arrive as bursts of file-system events, so the
//! watcher waits for a short quiet spell before it reads the file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::{ComponentError, Components, component_file};
use crate::folders::SharedFolders;
use shared_folder_runtime::content_digest;

/// How long a component file must stay unchanged before it is loaded.
const QUIET: Duration = Duration::from_millis(100);

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

/// Starts watching `folder` for `folders`' configured provider's component (and its detached
/// signature). Must be called within a tokio runtime.
pub fn watch(
    folders: Arc<SharedFolders>,
    components: Arc<Components>,
    folder: &Path,
) -> Result<PluginWatcher, ComponentError> {
    let unusable = |e: notify::Error| ComponentError::Folder {
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
                let signature = format!("{watched}.sig");
                changes_content(&event.kind)
                    && event.paths.iter().any(|p| {
                        p.file_name()
                            .is_some_and(|n| *n == *watched || *n == *signature)
                    })
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
            reload(&folders, &components, &name, &file, &mut refused).await;
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
/// `refused` last time (a broken component is not tried again until it or its signature
/// changes).
async fn reload(
    folders: &SharedFolders,
    components: &Components,
    name: &str,
    file: &Path,
    refused: &mut Option<String>,
) {
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
    // A registry's component is not overridden by a file: the source named wins.
    if components.source(name).registry.is_some() {
        tracing::debug!(file = %file.display(), "ignored: this provider's component comes from a registry");
        return;
    }
    let signature = match super::read_signature(file) {
        Ok(signature) => signature,
        Err(error) => {
            tracing::warn!(%error, "the current provider keeps serving");
            return;
        }
    };
    // What was refused is the component with its signature: a new signature is worth a try.
    let tried = content_digest(&[&bytes[..], signature.as_deref().unwrap_or_default()].concat());
    let digest = content_digest(&bytes);
    tracing::debug!(file = %file.display(), %digest, "component file read");
    if digest == folders.runtime().provider().digest || refused.as_ref() == Some(&tried) {
        return;
    }
    tracing::info!(file = %file.display(), bytes = bytes.len(), "component file changed; loading it");
    // Both log the refusal; `swap_provider` logs its outcome either way.
    let origin = super::Origin::File(file.to_owned());
    let swapped = match components.admit(name, bytes, signature.as_deref(), origin) {
        Ok(admitted) => folders
            .runtime()
            .swap_provider(name, &admitted.bytes)
            .await
            .is_ok(),
        Err(_) => false,
    };
    if !swapped {
        *refused = Some(tried);
    }
}
