//! Misbehaving providers are contained: a trap, an endless loop or a memory bomb costs one
//! call; a request to any destination but the configured origin is refused before it leaves;
//! the account's credentials cannot be forged or read by the component.

use std::time::{Duration, Instant};

use shared_folder_harness::{
    ConnectionCounter, FIXTURE_PROVIDER, Options, StandIn, TestHost, test_limits,
};
use shared_folder_host::runtime::{CallError, LoadError, ProviderError};
use shared_folder_host::{Error, HostError, Limits, SharedFolders};

async fn fixture_host(limits: Limits) -> (StandIn, SharedFolders) {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin).limits(limits).build();
    host.runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .unwrap();
    (standin, host)
}

fn call_error(error: &HostError) -> &CallError {
    match error {
        HostError::Runtime(Error::Call { source, .. }) => source,
        other => panic!("expected a call error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_costs_one_call() {
    let (_standin, host) = fixture_host(test_limits()).await;
    let error = host.create("trap").await.unwrap_err();
    assert!(
        matches!(call_error(&error), CallError::Trapped(_)),
        "{error}"
    );
    assert!(host.folder("trap").await.unwrap().is_none());
    host.create("after-trap")
        .await
        .expect("the next call is served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_loop_is_stopped_at_the_deadline_while_others_are_served() {
    let limits = Limits {
        call_deadline: Duration::from_secs(2),
        ..test_limits()
    };
    let (_standin, host) = fixture_host(limits).await;
    let started = Instant::now();
    let (spinning, served) = tokio::join!(host.create("spin"), async {
        // Served while the other call spins: the spinning guest yields at every epoch tick.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = Instant::now();
        let r = host.create("neighbour").await;
        (r, t.elapsed())
    });
    let error = spinning.unwrap_err();
    assert!(
        matches!(call_error(&error), CallError::TimedOut(d) if *d == Duration::from_secs(2)),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let (neighbour, took) = served;
    neighbour.expect("a neighbour call succeeds while one spins");
    assert!(took < Duration::from_secs(2), "neighbour waited {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_limit_and_costs_one_call() {
    let (_standin, host) = fixture_host(test_limits()).await;
    let error = host.create("grow").await.unwrap_err();
    assert!(
        matches!(call_error(&error), CallError::Trapped(_)),
        "{error}"
    );
    host.create("after-grow")
        .await
        .expect("the next call is served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_other_destinations_are_refused_before_they_leave() {
    let (standin, host) = fixture_host(test_limits()).await;
    let port = standin.addr().port();
    // Another host by name, another IP, the right IP on another port, the stand-in by name:
    // each but the first has a listener, which must see no connection (a refusal by the host,
    // not a port nobody listens on).
    let other_ip = ConnectionCounter::start("127.0.0.2").await.unwrap();
    let other_port = ConnectionCounter::start("127.0.0.1").await.unwrap();
    for target in [
        "evil.example:80".to_owned(),
        other_ip.addr.to_string(),
        other_port.addr.to_string(),
        format!("localhost:{port}"),
        format!("localhost:{}", other_port.addr.port()),
    ] {
        let error = host.create(&format!("escape:{target}")).await.unwrap_err();
        match error.provider_error() {
            Some(ProviderError::Transport(code)) => {
                assert!(code.ends_with("HttpRequestDenied"), "{target}: {code}")
            }
            _ => panic!("{target}: {error}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(other_ip.connections() + other_port.connections(), 0);
    assert!(standin.seen().is_empty(), "no request reached the stand-in");
    // The configured origin itself is allowed (the stand-in answers 404 on `/`).
    let error = host
        .create(&format!("escape:127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.provider_error(),
            Some(ProviderError::Remote { status: 404, .. })
        ),
        "{error}"
    );
    assert_eq!(standin.seen().len(), 1);
    assert!(
        standin.seen()[0].authenticated,
        "the host added the credentials"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_cannot_set_its_own_authorization() {
    let (_standin, host) = fixture_host(test_limits()).await;
    let error = host.create("forge-auth").await.unwrap_err();
    match error.provider_error() {
        Some(ProviderError::Protocol(m)) => {
            assert!(m.contains("Authorization refused by the host"), "{m}")
        }
        _ => panic!("{error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_outside_the_world_are_refused_and_the_old_one_keeps_serving() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin).build();
    let before = host.runtime().provider();
    // Not wasm at all; a core module, not a component; an empty component exporting nothing.
    let core_module = b"\0asm\x01\0\0\0";
    let empty_component = b"\0asm\x0d\0\x01\0";
    type Expected = fn(&LoadError) -> bool;
    let cases: [(&[u8], &str, Expected); 3] = [
        (b"garbage", "garbage", |e| {
            matches!(e, LoadError::NotAComponent(_))
        }),
        (core_module, "core module", |e| {
            matches!(e, LoadError::NotAComponent(_))
        }),
        (
            empty_component,
            "empty component",
            |e| matches!(e, LoadError::WrongWorld(m) if m.contains("provider")),
        ),
    ];
    for (bytes, what, expected) in cases {
        match host
            .runtime()
            .swap_provider("broken", bytes)
            .await
            .unwrap_err()
        {
            Error::Load { source, .. } => assert!(expected(&source), "{what}: {source}"),
            other => panic!("{what}: {other}"),
        }
    }
    assert_eq!(host.runtime().provider(), before);
    host.create("still-nextcloud")
        .await
        .expect("old provider serves");
    assert!(standin.folder_exists("opentalk/meetings/still-nextcloud"));
}
