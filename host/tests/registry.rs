//! Components from a real OCI registry (Debian's docker-registry, started by the tests' own
//! set-up): pushed with `shared-folder-host push`, pulled, verified and followed by `serve` —
//! a moved tag swapped in while calls run, the registry taken away and brought back, a
//! restart served from the cache — and every bad artifact refused with a clear error and
//! nothing of it kept.

use std::path::Path;
use std::time::Duration;

use crate::common::publishing::{self, grafted, serves, serving, text};
use crate::common::{Outcome, Setup, eventually};
use shared_folder_host::NEXTCLOUD_PROVIDER;
use shared_folder_host::runtime::content_digest;
use shared_folder_host::runtime::trust::Pin;
use shared_folder_test_support::registry::{
    RawArtifact, RedirectingFront, Registry, RegistryOptions, push_raw, wasm_layout,
};
use shared_folder_test_support::{Options, StandIn, rebuilt_component};

const REPOSITORY: &str = "providers/nextcloud";

/// Keys, signatures and pushes to `registry`, through the binary's own commands.
struct Publisher<'a> {
    dir: &'a Path,
    registry: &'a Registry,
}

impl Publisher<'_> {
    async fn keygen(&self, name: &str) {
        publishing::keygen(self.dir, name).await;
    }

    async fn signed(&self, key: &str, component: &[u8]) -> Vec<u8> {
        publishing::signed(self.dir, key, component).await
    }

    /// `shared-folder-host push` of `component` as `tag`.
    async fn push(&self, component: &[u8], tag: &str) -> Outcome {
        let reference = format!("oci://{}/{REPOSITORY}:{tag}", self.registry.address());
        let mut extra = vec![
            "--ca-bundle".to_owned(),
            text(self.registry.ca_file()).to_owned(),
        ];
        if let Some((user, password)) = self.registry.credentials() {
            let credentials = self.dir.join("registry-credentials");
            std::fs::write(&credentials, format!("{user}:{password}\n")).unwrap();
            extra.extend([
                "--credentials-file".to_owned(),
                text(&credentials).to_owned(),
            ]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let pushed = publishing::push(self.dir, component, &reference, &extra).await;
        assert_eq!(pushed.code, Some(0), "{pushed:?}\n{}", self.registry.log());
        pushed
    }
}

/// The `[host]` lines for components from `registry`'s `tag`, signed by `keys/ours.pub`.
fn host_lines(registry: &Registry, address: &str, tag: &str, extra: &str) -> String {
    let credentials = if registry.credentials().is_some() {
        "registry_credentials_file = \"keys/registry-credentials\"\n"
    } else {
        ""
    };
    format!(
        // Its own cache (the default place, named so that the shared one is not used): the
        // tests look into it.
        "component_cache = \"component-cache\"\n\
         trusted_keys = [\"keys/ours.pub\"]\nca_bundle = \"{}\"\nregistry_poll = 1\n\
         component_limit_mib = 2\n{extra}\n\
         [host.components.nextcloud]\nsource = \"oci://{address}/{REPOSITORY}:{tag}\"\n{credentials}",
        text(registry.ca_file())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_tag_is_swapped_in_when_it_moves_while_the_registry_comes_and_goes() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let mut registry = Registry::start(RegistryOptions { basic_auth: true });
    let address = registry.address();
    let setup = Setup::new(&standin, &host_lines(&registry, &address, "stable", ""));
    let keys = setup.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let publisher = Publisher {
        dir: &keys,
        registry: &registry,
    };
    publisher.keygen("ours").await;
    let first = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "v1"))
        .await;
    publisher.push(&first, "stable").await;

    let server = setup.serve();
    assert_eq!(
        serving(&server).await,
        content_digest(&first),
        "{}",
        server.log()
    );
    assert!(
        server.log().contains("component signature verified"),
        "{}",
        server.log()
    );

    // Calls go on while the tag moves: none fails.
    let load = async {
        let mut replies = Vec::new();
        for n in 0..40 {
            let room = format!("moving-{n}");
            let reply = server
                .call("PUT", &format!("/v1/events/{room}/shared_folder"), None)
                .await;
            replies.push(reply.status);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        replies
    };
    let second = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "v2"))
        .await;
    let moved = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        publisher.push(&second, "stable").await;
        serves(&server, &content_digest(&second), Duration::from_secs(15)).await
    };
    let (replies, swapped) = tokio::join!(load, moved);
    assert!(swapped, "{}", server.log());
    assert!(replies.iter().all(|status| *status == 201), "{replies:?}");

    // The registry goes away: what serves keeps serving, and the tag is tried again.
    registry.stop();
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("the registry cannot be reached"))
        .await,
        "{}",
        server.log()
    );
    let away = server
        .call("PUT", "/v1/events/registry-away/shared_folder", None)
        .await;
    assert_eq!(away.status, 201, "{}", away.text());
    registry.restart();
    assert!(
        eventually(Duration::from_secs(15), || server
            .log()
            .contains("the registry answers again"))
        .await,
        "{}",
        server.log()
    );
    let publisher = Publisher {
        dir: &keys,
        registry: &registry,
    };

    // An unsigned build on the tag is refused; the signed one keeps serving. (`push` warns.)
    let pushed = publisher
        .push(&rebuilt_component(NEXTCLOUD_PROVIDER, "unsigned"), "stable")
        .await;
    assert_eq!(pushed.json()["signed"], false, "{pushed:?}");
    assert!(
        pushed.stderr.contains("carries no embedded signature"),
        "{pushed:?}"
    );
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("it is not signed"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(serving(&server).await, content_digest(&second));
    let metrics = server.call_as(None, "GET", "/metrics", None).await.text();
    assert!(
        metrics.contains(
            "shared_folder_component_refusals_total{provider=\"nextcloud\",reason=\"unsigned\"} 1"
        ),
        "{metrics}"
    );
    let (_, password) = registry.credentials().expect("credentials");
    assert!(
        !server.log().contains(password),
        "the registry's password was logged"
    );
    server.kill();

    // A restart while the registry is away serves the copy the cache kept.
    registry.stop();
    let restarted = setup.serve();
    assert_eq!(
        serving(&restarted).await,
        content_digest(&second),
        "{}",
        restarted.log()
    );
    assert!(
        restarted.log().contains("serving the copy the cache kept"),
        "{}",
        restarted.log()
    );
}

/// What `check` says of the artifact `tag` names (the configuration's tag changed from
/// `previous`), and whether its content was kept in the cache as `kept` says it must be.
async fn check_tag(
    setup: &Setup,
    tag: &str,
    previous: &mut String,
    content: &[u8],
    kept: bool,
) -> Outcome {
    setup.edit(&format!(":{previous}\""), &format!(":{tag}\""));
    *previous = tag.to_owned();
    let outcome = setup.run("check", &[]).await;
    let file = setup
        .path("component-cache/registry")
        .join(format!("{}.wasm", content_digest(content)));
    assert_eq!(file.exists(), kept, "{tag}: kept in the cache? {outcome:?}");
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_artifact_is_refused_with_a_clear_error_and_nothing_kept() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let registry = Registry::start(RegistryOptions::default());
    let address = registry.address();
    let setup = Setup::new(&standin, &host_lines(&registry, &address, "first", ""));
    let keys = setup.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let publisher = Publisher {
        dir: &keys,
        registry: &registry,
    };
    publisher.keygen("ours").await;
    publisher.keygen("theirs").await;
    let mut tag = "first".to_owned();

    // A registry whose CA is not given: the certificate is named as the problem.
    let no_ca = format!("oci://{address}/{REPOSITORY}:no-ca");
    let refused = publishing::push(&keys, b"\0asm\x0d\0\x01\0", &no_ca, &[]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("certificate is not trusted")
            && refused.stderr.contains("--ca-bundle"),
        "{refused:?}"
    );

    // The good case first: accepted, and kept in the cache.
    let good = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "good"))
        .await;
    publisher.push(&good, "good").await;
    let accepted = check_tag(&setup, "good", &mut tag, &good, true).await;
    assert_eq!(accepted.code, Some(0), "{accepted:?}");

    // A truncated blob.
    let truncated = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "truncated"))
        .await;
    publisher.push(&truncated, "truncated").await;
    let blob = registry.blob_file(Pin::of(&truncated).as_str());
    std::fs::write(&blob, &truncated[..truncated.len() / 2]).unwrap();
    let refused = check_tag(&setup, "truncated", &mut tag, &truncated, false).await;
    assert_refused(&refused, "truncated or changed");

    // A manifest of another kind of artifact (a container image's config).
    let image = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "image"))
        .await;
    push_raw(
        &address,
        registry.ca_pem(),
        None,
        &RawArtifact {
            repository: REPOSITORY,
            tag: "image",
            config_media_type: "application/vnd.oci.image.config.v1+json",
            config: b"{}",
            layers: &[(wasm_layout::LAYER, image.clone())],
            manifest_media_type: None,
        },
    )
    .await;
    let refused = check_tag(&setup, "image", &mut tag, &image, false).await;
    assert_refused(
        &refused,
        "config media type application/vnd.oci.image.config.v1+json",
    );

    // A manifest of another media type (Docker's), over a Wasm layer.
    let docker = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "docker"))
        .await;
    push_raw(
        &address,
        registry.ca_pem(),
        None,
        &RawArtifact {
            repository: REPOSITORY,
            tag: "docker",
            config_media_type: wasm_layout::CONFIG,
            config: b"{}",
            layers: &[(wasm_layout::LAYER, docker.clone())],
            manifest_media_type: Some("application/vnd.docker.distribution.manifest.v2+json"),
        },
    )
    .await;
    let refused = check_tag(&setup, "docker", &mut tag, &docker, false).await;
    assert_refused(
        &refused,
        "manifest media type application/vnd.docker.distribution.manifest.v2+json",
    );

    // A tag that points at what is no component.
    let not_a_component = b"\0asm\x01\0\0\0 a core module, not a component".to_vec();
    push_raw(
        &address,
        registry.ca_pem(),
        None,
        &RawArtifact {
            repository: REPOSITORY,
            tag: "module",
            config_media_type: wasm_layout::CONFIG,
            config: b"{}",
            layers: &[(wasm_layout::LAYER, not_a_component.clone())],
            manifest_media_type: None,
        },
    )
    .await;
    let refused = check_tag(&setup, "module", &mut tag, &not_a_component, false).await;
    assert_refused(&refused, "not a WebAssembly component");

    // A layer over the size limit (2 MiB here).
    let large = rebuilt_component(NEXTCLOUD_PROVIDER, &"x".repeat(3 << 20));
    publisher.push(&large, "large").await;
    let refused = check_tag(&setup, "large", &mut tag, &large, false).await;
    assert_refused(&refused, "its layer is");
    assert!(
        refused.stderr.contains("above the limit of 2097152 bytes"),
        "{refused:?}"
    );

    // A signature by a key that is not trusted.
    let theirs = publisher
        .signed("theirs", &rebuilt_component(NEXTCLOUD_PROVIDER, "theirs"))
        .await;
    publisher.push(&theirs, "theirs").await;
    let refused = check_tag(&setup, "theirs", &mut tag, &theirs, false).await;
    assert_refused(&refused, "signed, but by no trusted key");

    // Our signature over other bytes.
    let unsigned = rebuilt_component(NEXTCLOUD_PROVIDER, "signed once");
    let genuine = publisher.signed("ours", &unsigned).await;
    let other = rebuilt_component(NEXTCLOUD_PROVIDER, "other bytes");
    let grafted = grafted(&genuine, unsigned.len(), &other);
    publisher.push(&grafted, "grafted").await;
    let refused = check_tag(&setup, "grafted", &mut tag, &grafted, false).await;
    assert_refused(&refused, "not the bytes that were signed");

    // A digest other than the pinned one.
    setup.edit(
        "[host.components.nextcloud]\n",
        &format!(
            "[host.components.nextcloud]\ndigest = \"{}\"\n",
            Pin::of(&good)
        ),
    );
    let pinned = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "pinned"))
        .await;
    publisher.push(&pinned, "pinned").await;
    let refused = check_tag(&setup, "pinned", &mut tag, &pinned, false).await;
    assert_refused(&refused, &format!("not the pinned {}", Pin::of(&good)));
    let back = check_tag(&setup, "good", &mut tag, &good, true).await;
    assert_eq!(back.code, Some(0), "{back:?}");

    // A redirect to another host: the client is confined to the registry it was given.
    let redirected = publisher
        .signed("ours", &rebuilt_component(NEXTCLOUD_PROVIDER, "redirected"))
        .await;
    publisher.push(&redirected, "redirected").await;
    setup.edit(&format!("digest = \"{}\"\n", Pin::of(&good)), "");
    let front = RedirectingFront::start(&registry, registry_socket(&registry)).await;
    setup.edit(
        &format!("oci://{address}/"),
        &format!("oci://{}/", front.address()),
    );
    let refused = check_tag(&setup, "redirected", &mut tag, &redirected, false).await;
    assert_refused(&refused, &format!("sent the client to {address}"));
    // Listed as one of the registry's hosts, the same redirect is followed.
    setup.edit(
        "[host.components.nextcloud]\n",
        &format!("[host.components.nextcloud]\nregistry_hosts = [\"{address}\"]\n"),
    );
    let followed = setup.run("check", &[]).await;
    assert_eq!(followed.code, Some(0), "{followed:?}");
}

fn registry_socket(registry: &Registry) -> std::net::SocketAddr {
    registry.address().parse().expect("the registry's address")
}

fn assert_refused(outcome: &Outcome, why: &str) {
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        outcome.stderr.contains(why),
        "expected {why:?}: {outcome:?}"
    );
    assert!(
        outcome
            .stderr
            .contains("refused for provider \"nextcloud\""),
        "{outcome:?}"
    );
}
