//! What shipping components costs the host: verifying a signed component before a swap (its
//! size, header, pin and Ed25519 signature: `Components::admit`), and, with a real registry
//! (Debian's docker-registry, as the tests start it), the time from a tag moved to the first
//! call served by the component it names.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared_folder_host::SharedFolders;
use shared_folder_host::components::registry::Registry as Client;
use shared_folder_host::components::{
    ComponentSettings, Components, Follower, Origin, RegistryReference, Source,
};
use shared_folder_host::runtime::content_digest;
use shared_folder_host::runtime::trust::{Pin, TrustedKeys};
use shared_folder_host::signing;
use shared_folder_test_support::rebuilt_component;
use shared_folder_test_support::registry::{Registry, RegistryOptions};

use crate::Failure;
use crate::table::median_p99_ms;

/// The size the verification is measured at (the issue's: a 200 KiB component).
pub const VERIFIED_KIB: usize = 200;

/// Median milliseconds to admit a signed `component` (padded to at least
/// [`VERIFIED_KIB`] KiB) with a trusted key and a pin: what every swap pays before compiling.
/// Returns the size measured (KiB) and the median.
pub fn verification(
    provider: &str,
    component: &[u8],
    samples: usize,
) -> Result<(usize, f64), Failure> {
    let dir = tempfile::tempdir()?;
    let (secret, public) = (dir.path().join("bench.key"), dir.path().join("bench.pub"));
    signing::keygen(&secret, &public)?;
    let padding = (VERIFIED_KIB * 1024).saturating_sub(component.len() + 64);
    let unsigned = rebuilt_component(component, &"p".repeat(padding));
    let signed = signing::sign(&unsigned, provider, &secret, false)?.component;
    let mut settings = ComponentSettings::built_in_only(dir.path().join("cache"));
    settings.trusted_keys = Some(TrustedKeys::from_files(&[&public])?);
    settings.sources.insert(
        provider.to_owned(),
        Source {
            pin: Some(Pin::of(&signed)),
            ..Source::default()
        },
    );
    let components = Components::new(settings);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let bytes = signed.clone();
        let started = Instant::now();
        components.admit(provider, bytes, None, Origin::BuiltIn)?;
        times.push(started.elapsed());
    }
    Ok((signed.len() / 1024, median_p99_ms(&mut times).0))
}

/// The poll interval of the registry measure.
pub const POLL: Duration = Duration::from_secs(1);

/// Median milliseconds from a push that moves a followed tag to the first create served by
/// the component it names (`moves` times), on `folders` (serving `provider`).
pub async fn tag_moved(
    folders: Arc<SharedFolders>,
    provider: &str,
    component: &[u8],
    moves: usize,
) -> Result<f64, Failure> {
    let registry =
        tokio::task::spawn_blocking(|| Registry::start(RegistryOptions::default())).await?;
    let cache = tempfile::tempdir()?;
    let reference = RegistryReference::parse(&format!(
        "oci://{}/bench/{provider}:current",
        registry.address()
    ))
    .map_err(Failure::from)?;
    let client = Client::connect(&reference, Some(registry.ca_file()), None, &[], u64::MAX).await?;
    client
        .push(&reference, &rebuilt_component(component, "registry 0"))
        .await?;
    let mut settings = ComponentSettings::built_in_only(cache.path().to_owned());
    settings.ca_bundle = Some(registry.ca_file().to_owned());
    settings.poll = POLL;
    settings.sources = BTreeMap::from([(
        provider.to_owned(),
        Source {
            registry: Some(reference.clone()),
            ..Source::default()
        },
    )]);
    let components = Components::new(settings);
    let admitted = components.initial(provider).await?;
    folders
        .runtime()
        .swap_provider(provider, &admitted.bytes)
        .await?;
    let _follower = Follower::start(Arc::clone(&folders), components, &admitted.origin);
    let mut times = Vec::with_capacity(moves);
    for n in 1..=moves {
        let next = rebuilt_component(component, &format!("registry {n}"));
        let expected = content_digest(&next);
        // Timed from the start of the push; the tag moves at its end (the manifest is the
        // last thing pushed), so this bounds the time from above.
        let started = Instant::now();
        client.push(&reference, &next).await?;
        while folders.runtime().provider().digest != expected {
            if started.elapsed() > Duration::from_secs(60) {
                return Err("the moved tag was not swapped in within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        folders.create(&format!("tag-moved-{n}")).await?;
        times.push(started.elapsed());
    }
    Ok(median_p99_ms(&mut times).0)
}
