//! Switching storage while serving: the configuration file is read again on SIGHUP or when it
//! changes, and a changed `[shared_folder]` (another provider, url, account or setting) serves
//! new rooms from then on ([`shared_folder_runtime::Runtime::reconfigure`]). Rooms made before
//! keep being served — and deleted — by the provider and settings that made them; calls in
//! flight finish on what they started with. A configuration that does not read, a component
//! that does not load, or settings the provider refuses are logged, and what served keeps
//! serving. `[host]` is read at start only (its changes take effect at the next start): the
//! components come from where the host's start said, checked as they were then.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::components::Components;
use crate::folders::SharedFolders;
use crate::host_config::HostConfig;

/// How long the file must stay unchanged before it is read (editors write in bursts).
const QUIET: Duration = Duration::from_millis(200);

/// Rereads the configuration for as long as it lives.
pub struct ConfigWatcher {
    _watcher: Option<notify::RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts rereading `path` on SIGHUP and on changes of the file. Must be called within a
/// tokio runtime.
pub fn watch(
    folders: Arc<SharedFolders>,
    path: &Path,
    components: Arc<Components>,
) -> std::io::Result<ConfigWatcher> {
    let (events, mut changes) = mpsc::unbounded_channel::<()>();
    let file_name = path.file_name().map(ToOwned::to_owned);
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    // The folder is watched, not the file: an editor or a config-management tool replaces
    // the file by renaming another onto it.
    let file_events = events.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let concerns_file = match &event {
            Ok(event) => {
                !event.kind.is_access()
                    && event
                        .paths
                        .iter()
                        .any(|p| p.file_name() == file_name.as_deref())
            }
            Err(_) => true,
        };
        if concerns_file {
            let _ = file_events.send(());
        }
    })
    .and_then(|mut watcher| {
        watcher.watch(&folder, RecursiveMode::NonRecursive)?;
        Ok(watcher)
    });
    let watcher = match watcher {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "cannot watch the configuration file; reload with SIGHUP");
            None
        }
    };
    #[cfg(unix)]
    {
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let events = events.clone();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reading the configuration again");
                if events.send(()).is_err() {
                    break;
                }
            }
        });
    }
    drop(events);
    let path = path.to_owned();
    let task = tokio::spawn(async move {
        while changes.recv().await.is_some() {
            while let Ok(Some(())) = tokio::time::timeout(QUIET, changes.recv()).await {}
            reload(&folders, &path, &components).await;
        }
    });
    Ok(ConfigWatcher {
        _watcher: watcher,
        task,
    })
}

/// Reads `path` and, when `[shared_folder]` changed, serves it, with the component
/// `components` give its provider (admitted as at start: the `[host]` the host started with).
pub async fn reload(folders: &SharedFolders, path: &Path, components: &Components) {
    let config = match HostConfig::load(path) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "configuration not reloaded; what served keeps serving");
            return;
        }
    };
    let runtime = folders.runtime();
    let current = runtime.config();
    if config.shared_folder.storage_id() == current.storage_id()
        && !credentials_changed(&config, &current)
    {
        tracing::debug!("[shared_folder] unchanged");
        return;
    }
    let provider = &config.shared_folder.provider;
    let admitted = match components.initial(provider).await {
        Ok(admitted) => admitted,
        Err(error) => {
            tracing::warn!(%error, "configuration not reloaded; what served keeps serving");
            return;
        }
    };
    // `reconfigure` logs its outcome either way.
    if let Ok(info) = runtime
        .reconfigure(config.shared_folder.clone(), &admitted.bytes)
        .await
    {
        // It serves: a registry's component is kept, as at start.
        components.remember(&admitted);
        tracing::info!(provider = %info.name, origin = %config.shared_folder.url.origin(), "configuration reloaded: new rooms go to this storage");
    }
}

/// Whether only the secret changed (the storage id names where a secret comes from, not the
/// secret itself).
fn credentials_changed(
    config: &HostConfig,
    current: &shared_folder_runtime::SharedFolderConfig,
) -> bool {
    config.shared_folder.credentials != current.credentials
}
