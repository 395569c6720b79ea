//! Following a registry tag while the host serves: every `[host].registry_poll` the tag is
//! resolved (one `HEAD` of its manifest); when it names another manifest, that manifest is
//! pulled (by its digest: a tag moving again meanwhile changes nothing), admitted and swapped
//! in like a changed file, and kept in the cache once it serves.
//!
//! While the registry cannot be reached (or answers what may pass: a 5xx, a 429), what serves
//! keeps serving and the tag is tried again after 1, 2, 4, … seconds, then every poll
//! interval. A manifest refused once (its layout, digest, signature or pin) is not pulled again
//! until the tag moves on; a registry that refuses the credentials or lost the tag is logged
//! once and asked again at every poll.

use std::sync::Arc;
use std::time::Duration;

use super::registry::{FetchError, Registry, RegistryReference};
use super::{Components, Origin};
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
    /// Starts following; `serving` is what serves now (its manifest, if it came from the
    /// registry). Must be called within a tokio runtime.
    pub fn start(
        folders: Arc<SharedFolders>,
        components: Arc<Components>,
        serving: &Origin,
    ) -> Follower {
        let followed = match serving {
            Origin::Registry {
                reference,
                manifest,
            } => Followed::new(reference.clone(), Some(manifest.clone())),
            _ => Followed::new(String::new(), None),
        };
        Follower {
            task: tokio::spawn(follow(folders, components, followed)),
        }
    }
}

/// What the follower knows of one reference between looks; begun anew when the serving
/// provider's reference changes (a configuration reload).
struct Followed {
    reference: String,
    client: Option<Registry>,
    /// The manifest serving now.
    serving: Option<String>,
    /// The last manifest refused: not pulled again.
    refused: Option<String>,
    /// The last failure logged (each is logged once until the registry answers again).
    logged: Option<String>,
}

impl Followed {
    fn new(reference: String, serving: Option<String>) -> Followed {
        Followed {
            reference,
            client: None,
            serving,
            refused: None,
            logged: None,
        }
    }
}

async fn follow(folders: Arc<SharedFolders>, components: Arc<Components>, mut followed: Followed) {
    let poll = components.settings().poll;
    let mut wait = poll;
    // While the registry cannot be reached: the last retry's wait (1, 2, 4, … s, at most the
    // poll interval, where it stays).
    let mut retry: Option<Duration> = None;
    loop {
        tokio::time::sleep(wait).await;
        // The provider serving at this moment: a configuration reload may change it.
        let provider = folders.runtime().config().provider;
        let Some(reference) = components
            .source(&provider)
            .registry
            .filter(|r| !r.is_digest())
        else {
            wait = poll;
            continue;
        };
        if followed.reference != reference.to_string() {
            followed = Followed::new(reference.to_string(), None);
        }
        match look(&folders, &components, &provider, &reference, &mut followed).await {
            Ok(()) => {
                if followed.logged.take().is_some() {
                    tracing::info!(%reference, "the registry answers again");
                }
                retry = None;
                wait = poll;
            }
            Err(problem) => {
                let text = problem.to_string();
                if followed.logged.as_ref() != Some(&text) {
                    tracing::warn!(%reference, %problem, "the tag cannot be followed now; what serves keeps serving, trying again");
                    followed.logged = Some(text);
                }
                if matches!(problem, FetchError::Unreachable(_)) {
                    followed.client = None;
                    let next = retry.map_or(FIRST_RETRY, |last| last * 2).min(poll);
                    retry = Some(next);
                    wait = next;
                } else {
                    retry = None;
                    wait = poll;
                }
            }
        }
    }
}

/// One look at the tag: swaps in what it names when that changed and may serve. A refusal
/// of the component is logged (by admission) and remembered; `Err` is a registry's failure.
async fn look(
    folders: &SharedFolders,
    components: &Components,
    provider: &str,
    reference: &RegistryReference,
    followed: &mut Followed,
) -> Result<(), FetchError> {
    if followed.client.is_none() {
        followed.client = Some(components.registry(provider, reference).await?);
    }
    let Some(client) = &followed.client else {
        return Ok(());
    };
    let manifest = client.resolve(reference).await?;
    if followed.serving.as_ref() == Some(&manifest) || followed.refused.as_ref() == Some(&manifest)
    {
        return Ok(());
    }
    tracing::info!(provider, %reference, %manifest, "the tag names another component; pulling it");
    let pulled = match client.pull(&reference.at(&manifest)).await {
        Ok(pulled) => pulled,
        Err(problem) if problem.reason().is_none() => return Err(problem),
        Err(problem) => {
            components.fetch_failed(provider, reference, problem);
            followed.refused = Some(manifest);
            return Ok(());
        }
    };
    let origin = Origin::Registry {
        reference: reference.to_string(),
        manifest: pulled.manifest.clone(),
    };
    let Ok(admitted) = components.admit(provider, pulled.bytes, None, origin) else {
        followed.refused = Some(manifest);
        return Ok(());
    };
    // A reload may have switched provider while the component was pulled.
    if folders.runtime().config().provider != provider {
        return Ok(());
    }
    // `swap_provider` logs its outcome either way.
    match folders
        .runtime()
        .swap_provider(provider, &admitted.bytes)
        .await
    {
        Ok(_) => {
            components.remember(&admitted);
            followed.serving = Some(manifest);
        }
        Err(_) => followed.refused = Some(manifest),
    }
    Ok(())
}
