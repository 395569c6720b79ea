//! The plugins folder of a running `serve`: a changed component is swapped in live, under
//! load, without losing a call; a broken one is refused and the old one keeps serving; a
//! provider of another name is a configuration change, not a rebuild.

use std::time::Duration;

use crate::common::{Setup, eventually};
use shared_folder_host::NEXTCLOUD_PROVIDER;
use shared_folder_test_support::{FIXTURE_PROVIDER, Options, StandIn, rebuilt_component};

/// Writes `bytes` to `path` the way a deployment does: to a temporary name, then renamed.
fn deploy(path: &std::path::Path, bytes: &[u8]) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

async fn digest(server: &crate::common::Server) -> String {
    let health = server.call_as(None, "GET", "/health", None).await;
    health.json()["provider"]["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits (up to 20 s) until the server's provider has the digest `expected`.
async fn serves(server: &crate::common::Server, expected: &str) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if digest(server).await == expected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_component_is_swapped_in_under_load_and_a_broken_one_refused() {
    let standin = StandIn::start(Options {
        latency: Duration::from_millis(20),
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "plugins = \"plugins\"");
    std::fs::create_dir(setup.path("plugins")).unwrap();
    let server = setup.serve();
    let built_in = digest(&server).await;

    // Four clients create rooms one after another for as long as new builds of the
    // component keep landing in the folder.
    let done = std::sync::atomic::AtomicBool::new(false);
    let load = (0..4).map(|client| {
        let (server, done) = (&server, &done);
        async move {
            let mut replies = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let room = format!("load-{client}-{}", replies.len());
                let reply = server
                    .call("PUT", &format!("/v1/events/{room}/shared_folder"), None)
                    .await;
                replies.push((room, reply));
            }
            replies
        }
    });
    let swaps = async {
        let mut digests = Vec::new();
        for build in 0..3 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let bytes = rebuilt_component(NEXTCLOUD_PROVIDER, &format!("build {build}"));
            deploy(&setup.path("plugins/nextcloud.wasm"), &bytes);
            let expected = shared_folder_host::runtime::content_digest(&bytes);
            assert!(serves(&server, &expected).await, "build {build} swapped in");
            digests.push(expected);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        digests
    };
    let (replies, digests) = tokio::join!(futures_util::future::join_all(load), swaps);
    let replies: Vec<_> = replies.into_iter().flatten().collect();
    assert!(replies.len() >= 8, "{} creates under load", replies.len());
    for (room, reply) in &replies {
        assert_eq!(reply.status, 201, "{room}: {}", reply.text());
        let shares = standin.shares_on(&format!("opentalk/meetings/{room}"));
        assert_eq!(shares.len(), 2, "{room}");
    }
    assert_ne!(digests[0], built_in);
    assert_eq!(digest(&server).await, digests[2]);
    let swapped = server.log().matches("provider swapped in").count();
    assert_eq!(swapped, 3, "{}", server.log());

    // A broken file is refused with a log line; the last good one keeps serving.
    deploy(&setup.path("plugins/nextcloud.wasm"), b"\0asm broken");
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("component refused"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(digest(&server).await, digests[2]);
    let after = server
        .call("PUT", "/v1/events/after-broken/shared_folder", None)
        .await;
    assert_eq!(after.status, 201, "{}", after.text());
    // A file of another name is none of its business.
    deploy(&setup.path("plugins/other.wasm"), FIXTURE_PROVIDER);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(digest(&server).await, digests[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_provider_is_a_configuration_change_not_a_rebuild() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "plugins = \"plugins\"");
    setup.edit("provider = \"nextcloud\"", "provider = \"fixture\"");
    std::fs::create_dir(setup.path("plugins")).unwrap();

    // Without its component the host says what is missing and where it looked.
    let missing = setup.run("create", &["--room", "r"]).await;
    assert_eq!(missing.code, Some(2), "{missing:?}");
    assert!(
        missing
            .stderr
            .contains("put fixture.wasm in the plugins folder"),
        "{missing:?}"
    );

    deploy(&setup.path("plugins/fixture.wasm"), FIXTURE_PROVIDER);
    let created = setup.run("create", &["--room", "r"]).await;
    assert_eq!(created.code, Some(0), "{created:?}");
    assert_eq!(created.json()["path"], "fixture/r");
    let server = setup.serve();
    let health = server.call_as(None, "GET", "/health", None).await.json();
    assert_eq!(health["provider"]["name"], "fixture");
    assert_eq!(health["folders"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_file_at_rest_is_read_once_and_a_broken_one_refused_once() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "plugins = \"plugins\"");
    std::fs::create_dir(setup.path("plugins")).unwrap();
    let server = setup.serve_with_env(&[(
        "RUST_LOG",
        "warn,shared_folder_host=debug,shared_folder_runtime=debug",
    )]);
    let count = |text: &str| server.log().matches(text).count();

    let bytes = rebuilt_component(NEXTCLOUD_PROVIDER, "at rest");
    deploy(&setup.path("plugins/nextcloud.wasm"), &bytes);
    let expected = shared_folder_host::runtime::content_digest(&bytes);
    assert!(serves(&server, &expected).await, "{}", server.log());
    // The host's own reads of the file are no reason to read it again.
    let reads = count("component file read");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count("component file read"), reads, "{}", server.log());
    assert_eq!(reads, 1, "{}", server.log());
    assert_eq!(count("provider swapped in"), 1, "{}", server.log());

    // A broken file is refused once, not again and again while it sits there.
    deploy(&setup.path("plugins/nextcloud.wasm"), b"\0asm broken");
    assert!(
        eventually(Duration::from_secs(10), || count("component refused") > 0).await,
        "{}",
        server.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count("component refused"), 1, "{}", server.log());
    assert_eq!(digest(&server).await, expected);
}
