//! The plugins folder, watched while the host runs: `<provider>.wasm` there overrides the
//! built-in component.
//!
//! A new or changed file is read, admitted ([`Components::admit_file`]: size, pin,
//! signature), checked against the world and swapped in
//! ([`shared_folder_runtime::Runtime::swap_provider`]); a broken one is refused with a log line and the
//! provider before it keeps serving. Writes arrive as bursts of file-system events: a file
//! renamed into place (inotify's `MOVED_TO`, how a deployment should write it) or closed
//! after writing is complete and read at once; after any other event (the file created or
//! written to, or a platform without those two events) the watcher waits for a quiet spell,
//! so that it does not read a file still being written.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::{ComponentError, Components, component_file};
use crate::folders::SharedFolders;
use shared_folder_runtime::content_digest;

/// How long a component file must stay unchanged before it is loaded, unless the last event
/// said it is complete.
const QUIET: Duration = Duration::from_millis(100);

/// How long the events of one complete write are collected after it: a rename comes as
/// several events (from, to, both), delivered one after another; without this, the file would
/// be read once for each.
const BURST: Duration = Duration::from_millis(10);

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
        let change = match &event {
            Ok(event) => {
                let watched = format!("{}.wasm", serving.runtime().config().provider);
                let signature = format!("{watched}.sig");
                let concerns_file = event.paths.iter().any(|p| {
                    p.file_name()
                        .is_some_and(|n| *n == *watched || *n == *signature)
                });
                change(&event.kind).filter(|_| concerns_file)
            }
            // A failing watch may have missed changes: look at the file again, once it has
            // been quiet.
            Err(_) => Some(Change::InProgress),
        };
        if let Some(change) = change {
            let _ = events.send(change);
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
        while let Some(mut last) = changes.recv().await {
            // Let the write finish: take the events that came with this one, and unless the
            // last says the file is complete, wait until none came for a while (a write that
            // begins again after a complete one is waited for again).
            loop {
                let wait = match last {
                    Change::Complete => BURST,
                    Change::InProgress => QUIET,
                };
                match tokio::time::timeout(wait, changes.recv()).await {
                    Ok(Some(change)) => last = change,
                    Ok(None) | Err(_) => break,
                }
            }
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

/// What a file-system event says of the file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// It may be in the middle of being written: read it once no event came for [`QUIET`].
    InProgress,
    /// A writer is done with it: renamed into place, or closed after writing. Read it now.
    Complete,
}

/// Whether a file-system event can mean new content, and whether that content is whole.
/// Reading the file (the host's own reads included) produces access events: were they taken
/// for changes, every read would cause the next one, and the host would read the file again
/// and again for as long as it sits there.
fn change(kind: &EventKind) -> Option<Change> {
    match kind {
        // Renamed into place: the writer wrote it elsewhere first (inotify's `MOVED_TO`).
        EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
            Some(Change::Complete)
        }
        // Closing a file that was open for writing: the write is complete.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some(Change::Complete),
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => {
            Some(Change::InProgress)
        }
        // Metadata (times, permissions) says nothing about the bytes.
        EventKind::Modify(ModifyKind::Metadata(_)) => None,
        EventKind::Modify(_) => Some(Change::InProgress),
        EventKind::Access(_) => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind};

    #[test]
    fn only_a_rename_into_place_or_a_close_after_writing_is_taken_as_complete() {
        let complete = [
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ];
        for kind in complete {
            assert_eq!(change(&kind), Some(Change::Complete), "{kind:?}");
        }
        let in_progress = [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            EventKind::Remove(notify::event::RemoveKind::File),
            EventKind::Any,
        ];
        for kind in in_progress {
            assert_eq!(change(&kind), Some(Change::InProgress), "{kind:?}");
        }
        let no_change = [
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime)),
        ];
        for kind in no_change {
            assert_eq!(change(&kind), None, "{kind:?}");
        }
    }
}
