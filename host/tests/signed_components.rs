//! Signed and pinned components, through the binary: `keygen` and `sign` make what
//! `[host].trusted_keys` accepts; `check` says why anything else is refused (unsigned, signed
//! by another key, changed after signing, a signature taken from other bytes, not the pinned
//! digest); a running `serve` refuses such a file in its plugins folder — a log line, a
//! metric — and keeps serving what it served.

use std::time::Duration;

use crate::common::publishing::{grafted, keygen, serves, serving, signed, text};
use crate::common::{Setup, eventually, run_binary};
use shared_folder_host::NEXTCLOUD_PROVIDER;
use shared_folder_host::runtime::trust::Pin;
use shared_folder_test_support::{Options, StandIn, rebuilt_component};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_accepts_a_signed_component_and_says_why_it_refuses_others() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(
        &standin,
        "plugins = \"plugins\"\ntrusted_keys = [\"keys/ours.pub\", \"keys/next.pub\"]",
    );
    let keys = setup.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::create_dir(setup.path("plugins")).unwrap();
    let ours = keygen(&keys, "ours").await;
    keygen(&keys, "next").await;
    keygen(&keys, "theirs").await;
    let plugin = setup.path("plugins/nextcloud.wasm");
    let check = async |bytes: &[u8]| {
        std::fs::write(&plugin, bytes).unwrap();
        setup.run("check", &[]).await
    };

    let component = rebuilt_component(NEXTCLOUD_PROVIDER, "signed build");
    let genuine = signed(&keys, "ours", &component).await;
    let accepted = check(&genuine).await;
    assert_eq!(accepted.code, Some(0), "{accepted:?}");
    assert!(
        accepted
            .stdout
            .contains(&format!("trust: signed by trusted key id {ours}")),
        "{accepted:?}"
    );

    let refusals = [
        ("unsigned", component.clone(), "it is not signed"),
        (
            "signed by a key not trusted",
            signed(&keys, "theirs", &component).await,
            "signed, but by no trusted key",
        ),
        (
            "changed after signing",
            rebuilt_component(&genuine, "changed after signing"),
            "not the bytes that were signed",
        ),
        (
            "a signature over other bytes",
            grafted(
                &genuine,
                component.len(),
                &rebuilt_component(NEXTCLOUD_PROVIDER, "other bytes"),
            ),
            "not the bytes that were signed",
        ),
    ];
    for (case, bytes, why) in refusals {
        let refused = check(&bytes).await;
        assert_eq!(refused.code, Some(1), "{case}: {refused:?}");
        assert!(refused.stderr.contains(why), "{case}: {refused:?}");
        assert!(
            refused.stderr.contains("plugins/nextcloud.wasm"),
            "{case}: {refused:?}"
        );
    }

    // A detached signature beside the file (`sign --detached` writes COMPONENT.sig).
    std::fs::write(&plugin, &component).unwrap();
    let detached = run_binary(&[
        "sign",
        "--secret-key",
        text(&keys.join("ours.key")),
        text(&plugin),
        "--detached",
    ])
    .await;
    assert_eq!(detached.code, Some(0), "{detached:?}");
    assert!(setup.path("plugins/nextcloud.wasm.sig").is_file());
    assert_eq!(std::fs::read(&plugin).unwrap(), component, "left as it was");
    let accepted = setup.run("check", &[]).await;
    assert_eq!(accepted.code, Some(0), "{accepted:?}");
    // The secret key appears in nothing printed, in any spelling.
    let secret = std::fs::read(keys.join("ours.key")).unwrap();
    let printed = format!("{}{}{}", accepted.stdout, accepted.stderr, detached.stdout);
    let hex: String = secret[1..33].iter().map(|b| format!("{b:02x}")).collect();
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD.encode(&secret[1..33]);
    assert!(
        !printed.contains(&hex) && !printed.contains(&base64[..20]),
        "{printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_digest_refuses_any_other_file_or_built_in_component() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let component = rebuilt_component(NEXTCLOUD_PROVIDER, "pinned build");
    let pin = Pin::of(&component);
    let setup = Setup::new(
        &standin,
        &format!("plugins = \"plugins\"\n[host.components.nextcloud]\ndigest = \"{pin}\""),
    );
    std::fs::create_dir(setup.path("plugins")).unwrap();
    // The folder is empty: the built-in component is not the pinned one.
    let refused = setup.run("check", &[]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains(&format!("not the pinned {pin}")),
        "{refused:?}"
    );
    std::fs::write(setup.path("plugins/nextcloud.wasm"), &component).unwrap();
    let accepted = setup.run("check", &[]).await;
    assert_eq!(accepted.code, Some(0), "{accepted:?}");
    assert!(accepted.stdout.contains("unverified"), "{accepted:?}");
    let other = rebuilt_component(NEXTCLOUD_PROVIDER, "another build");
    std::fs::write(setup.path("plugins/nextcloud.wasm"), &other).unwrap();
    let refused = setup.run("check", &[]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains(&Pin::of(&other).to_string()),
        "{refused:?}"
    );

    // A pin that is no digest is a configuration error naming its field.
    setup.edit(&pin.to_string(), "sha256:1234");
    let wrong = setup.run("check", &[]).await;
    assert_eq!(wrong.code, Some(2), "{wrong:?}");
    assert!(
        wrong.stderr.contains("[host].components.nextcloud.digest"),
        "{wrong:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_host_refuses_an_unsigned_file_and_keeps_serving() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(
        &standin,
        "plugins = \"plugins\"\ntrusted_keys = [\"keys/ours.pub\"]",
    );
    let keys = setup.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::create_dir(setup.path("plugins")).unwrap();
    keygen(&keys, "ours").await;
    let first = signed(
        &keys,
        "ours",
        &rebuilt_component(NEXTCLOUD_PROVIDER, "first"),
    )
    .await;
    let plugin = setup.path("plugins/nextcloud.wasm");
    std::fs::write(&plugin, &first).unwrap();
    let server = setup.serve();
    let first_digest = shared_folder_host::runtime::content_digest(&first);
    assert_eq!(serving(&server).await, first_digest);

    let deploy = |bytes: &[u8]| {
        let temporary = plugin.with_extension("tmp");
        std::fs::write(&temporary, bytes).unwrap();
        std::fs::rename(&temporary, &plugin).unwrap();
    };
    deploy(&rebuilt_component(NEXTCLOUD_PROVIDER, "unsigned"));
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("it is not signed"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(serving(&server).await, first_digest);
    let created = server
        .call("PUT", "/v1/events/after-unsigned/shared_folder", None)
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let metrics = server.call_as(None, "GET", "/metrics", None).await;
    assert!(
        metrics.text().contains(
            "shared_folder_component_refusals_total{provider=\"nextcloud\",reason=\"unsigned\"} 1"
        ),
        "{}",
        metrics.text()
    );

    // A signed one is swapped in.
    let second = signed(
        &keys,
        "ours",
        &rebuilt_component(NEXTCLOUD_PROVIDER, "second"),
    )
    .await;
    deploy(&second);
    let second_digest = shared_folder_host::runtime::content_digest(&second);
    let swapped = serves(&server, &second_digest, Duration::from_secs(10)).await;
    assert!(swapped, "{}", server.log());
    assert!(
        server.log().contains("component signature verified"),
        "{}",
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_keys_each_component_is_logged_once_as_unverified() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "plugins = \"plugins\"");
    std::fs::create_dir(setup.path("plugins")).unwrap();
    let plugin = setup.path("plugins/nextcloud.wasm");
    let first = rebuilt_component(NEXTCLOUD_PROVIDER, "unverified one");
    std::fs::write(&plugin, &first).unwrap();
    let checked = setup.run("check", &[]).await;
    assert_eq!(checked.code, Some(0), "{checked:?}");
    assert!(checked.stdout.contains("trust: unverified"), "{checked:?}");

    // Served, then another, then the first again: two components, two lines.
    let server = setup.serve();
    let deploy = |bytes: &[u8]| {
        let temporary = plugin.with_extension("tmp");
        std::fs::write(&temporary, bytes).unwrap();
        std::fs::rename(&temporary, &plugin).unwrap();
    };
    let second = rebuilt_component(NEXTCLOUD_PROVIDER, "unverified two");
    for bytes in [&second, &first] {
        deploy(bytes);
        let digest = shared_folder_host::runtime::content_digest(bytes);
        assert!(
            serves(&server, &digest, Duration::from_secs(10)).await,
            "{}",
            server.log()
        );
    }
    assert_eq!(
        server.log().matches("component not verified").count(),
        2,
        "{}",
        server.log()
    );

    // The built-in component is trusted as the binary: nothing to say.
    std::fs::remove_file(&plugin).unwrap();
    let built_in = setup.run("check", &[]).await;
    assert_eq!(built_in.code, Some(0), "{built_in:?}");
    assert!(built_in.stdout.contains("trust: built in"), "{built_in:?}");
    assert!(!built_in.stderr.contains("not verified"), "{built_in:?}");
}
