//! Following a registry tag while the host serves: every `[host].registry_poll` the tag is
//! resolved (one `HEAD` of its manifest); when it names another manifest, that component is
//! pulled, admitted and swapped in like a changed file. While the registry cannot be reached,
//! what serves keeps serving and the tag is tried again after 1, 2, 4, … seconds, never
//! longer apart than the poll interval. A manifest refused once (its layout, digest or
//! signature) is not pulled again until the tag moves on.

use std::sync::Arc;
use std::time::Duration;

use super::registry::{self, FetchError, Registry, RegistryReference};
use super::{ComponentError, Components};
use crate::folders::SharedFolders;

/// The first wait after a failed look at the registry; it doubles up to the poll interval.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Follows the serving provider's tag for as long as it lives.
pub struct Follower {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Follower {
    /// Starts following; `manifest` is the one serving now (`None`: not from the registry).
    /// Must be called within a tokio runtime.
    pub fn start(
        folders: Arc<SharedFolders>,
        components: Arc<Components>,
        manifest: Option<String>,
    ) -> Follower {
        let task = tokio::spawn(follow(folders, components, manifest));
        Follower { task }
    }
}

/// What the follower knows between looks.
struct Followed {
    /// The reference the client was made for, and the client.
    client: Option<(String, Registry)>,
    /// The manifest serving now.
    serving: Option<String>,
    /// The last manifest refused: not pulled again.
    refused: Option<String>,
    /// Whether the last look failed to reach the registry (logged once per outage).
    away: bool,
}

async fn follow(
    folders: Arc<SharedFolders>,
    components: Arc<Components>,
    manifest: Option<String>,
) {
    let poll = components.settings().poll;
    let mut followed = Followed {
        client: None,
        serving: manifest,
        refused: None,
        away: false,
    };
    let mut wait = poll;
    loop {
        tokio::time::sleep(wait).await;
        // The provider serving at this moment: a configuration reload may change it.
        let provider = folders.runtime().config().provider;
        let source = components.source(&provider);
        let Some(reference) = source.registry.clone().filter(|r| !r.is_digest()) else {
            wait = poll;
            continue;
        };
        wait = match look(&folders, &components, &provider, &reference, &mut followed).await {
            Ok(()) => {
                if followed.away {
                    tracing::info!(%reference, "the registry answers again");
                    followed.away = false;
                }
                poll
            }
            Err(FetchError::Unreachable(why)) => {
                if !followed.away {
                    tracing::warn!(%reference, reason = %why, "the registry cannot be reached; what serves keeps serving, trying again");
                    followed.away = true;
                }
                followed.client = None;
                if wait >= poll {
                    FIRST_RETRY.min(poll)
                } else {
                    (wait * 2).min(poll)
                }
            }
            Err(_) => poll,
        };
    }
}

/// One look at the tag: swaps in what it names when that changed and may serve.
async fn look(
    folders: &SharedFolders,
    components: &Components,
    provider: &str,
    reference: &RegistryReference,
    followed: &mut Followed,
) -> Result<(), FetchError> {
    let text = reference.to_string();
    if followed.client.as_ref().is_none_or(|(r, _)| *r != text) {
        let source = components.source(provider);
        let client = registry::connect(components.settings(), &source, reference).await?;
        followed.client = Some((text, client));
    }
    let Some((_, client)) = &followed.client else {
        return Ok(());
    };
    let manifest = client.resolve(reference).await?;
    if followed.serving.as_ref() == Some(&manifest) || followed.refused.as_ref() == Some(&manifest)
    {
        return Ok(());
    }
    tracing::info!(provider, %reference, %manifest, "the tag names another component; pulling it");
    let pulled = match client.pull(reference).await {
        Ok(pulled) => pulled,
        Err(FetchError::Unreachable(why)) => return Err(FetchError::Unreachable(why)),
        Err(problem) => {
            let error = ComponentError::Fetch {
                provider: provider.to_owned(),
                reference: reference.to_string(),
                problem: problem.clone(),
            };
            components.log_refusal(provider, &error);
            followed.refused = Some(manifest);
            return Err(problem);
        }
    };
    let admitted = match registry::admit(components, provider, reference, pulled) {
        Ok(admitted) => admitted,
        Err(_) => {
            followed.refused = Some(manifest);
            return Ok(());
        }
    };
    // `swap_provider` logs its outcome either way.
    match folders
        .runtime()
        .swap_provider(provider, &admitted.bytes)
        .await
    {
        Ok(_) => followed.serving = Some(manifest),
        Err(_) => followed.refused = Some(manifest),
    }
    Ok(())
}
