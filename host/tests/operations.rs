//! What operators ask of `serve`: `/metrics` in the Prometheus text format, counting what the
//! service did, and `/ready`, which fails while the database or the provider is not usable.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{Server, Setup};
use serde_json::json;
use shared_folder_host::runtime::SandboxLimits;
use shared_folder_host::service::{self, Service};
use shared_folder_host::{Limits, Secret};
use shared_folder_test_support::client::{self, Reply};
use shared_folder_test_support::{Fault, FaultRule, Options, StandIn, Step, TestHost, test_limits};

const FOLDER: &str = "/v1/events/room-1/shared_folder";

/// The lines of `text` that are samples of `metric` with every one of `labels`
/// (`name="value"`), and their values.
fn samples(text: &str, metric: &str, labels: &[&str]) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let name = series.split('{').next()?;
            (name == metric && labels.iter().all(|label| series.contains(label)))
                .then(|| (series.to_owned(), value.parse().unwrap_or(f64::NAN)))
        })
        .collect()
}

/// The sum of the samples of `metric` with `labels`; fails the test when there are none.
fn total(text: &str, metric: &str, labels: &[&str]) -> f64 {
    let found = samples(text, metric, labels);
    assert!(!found.is_empty(), "no {metric} with {labels:?} in:\n{text}");
    found.iter().map(|(_, value)| value).sum()
}

/// Scrapes until `metric` has a sample with `labels` whose value is `value` (at most 20 s);
/// the last scrape.
async fn scrape_until(server: &Server, metric: &str, labels: &[&str], value: f64) -> String {
    let start = std::time::Instant::now();
    loop {
        let text = metrics(server).await;
        let found = samples(&text, metric, labels);
        if found.iter().map(|(_, v)| v).sum::<f64>() == value && !found.is_empty()
            || start.elapsed() > Duration::from_secs(20)
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metrics(server: &Server) -> String {
    let reply = server.call_as(None, "GET", "/metrics", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.headers[http::header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    reply.text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_storage_answers_swaps_and_sessions() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let server = setup.serve();

    assert_eq!(server.call("PUT", FOLDER, None).await.status, 201);
    // A participant in the room: one WebSocket session.
    let ticket = server
        .call(
            "POST",
            "/v1/events/room-1/tickets",
            Some(json!({"participant": "alice", "role": "moderator"})),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text());
    let ticket = ticket.json()["ticket"].as_str().unwrap().to_owned();
    let url = server.ws_url(&format!("/v1/events/room-1/signaling?ticket={ticket}"));
    let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("joins");
    // A delete the storage refuses, then one that goes through.
    // Twice: the provider asks a folder DELETE refused with 403 once more (a busy ownCloud's).
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    let failed = server.call("DELETE", FOLDER, None).await;
    assert!(failed.status >= 500, "{}", failed.text());
    assert_eq!(server.call("DELETE", FOLDER, None).await.status, 204);

    let text = metrics(&server).await;
    let calls = "shared_folder_provider_calls_total";
    let nextcloud = r#"provider="nextcloud""#;
    assert!(text.contains(&format!("# TYPE {calls} counter")), "{text}");
    assert_eq!(
        total(
            &text,
            calls,
            &[nextcloud, r#"operation="create""#, r#"outcome="ok""#]
        ),
        1.0
    );
    assert_eq!(
        total(
            &text,
            calls,
            &[nextcloud, r#"operation="delete""#, r#"outcome="ok""#]
        ),
        1.0
    );
    // The failed delete, under the kind of its failure.
    let failures: f64 = samples(&text, calls, &[nextcloud, r#"operation="delete""#])
        .iter()
        .filter(|(series, _)| !series.contains(r#"outcome="ok""#))
        .map(|(_, value)| value)
        .sum();
    assert_eq!(failures, 1.0, "{text}");

    let seconds = "shared_folder_provider_call_seconds";
    assert!(
        text.contains(&format!("# TYPE {seconds} histogram")),
        "{text}"
    );
    let create = [nextcloud, r#"operation="create""#];
    assert_eq!(total(&text, &format!("{seconds}_count"), &create), 1.0);
    assert_eq!(
        total(
            &text,
            &format!("{seconds}_bucket"),
            &[create[0], create[1], r#"le="+Inf""#]
        ),
        1.0
    );
    total(&text, &format!("{seconds}_bucket"), &[r#"le="0.005""#]);
    total(&text, &format!("{seconds}_bucket"), &[r#"le="120""#]);
    total(
        &text,
        "shared_folder_instantiation_seconds_bucket",
        &[nextcloud],
    );

    // The storage's answers by status: successes, and the two injected 403s.
    let answers = "shared_folder_storage_responses_total";
    let succeeded: f64 = samples(&text, answers, &[nextcloud])
        .iter()
        .filter(|(series, _)| series.contains(r#"status="2"#))
        .map(|(_, value)| value)
        .sum();
    assert!(succeeded >= 4.0, "{text}");
    assert_eq!(total(&text, answers, &[nextcloud, r#"status="403""#]), 2.0);

    assert_eq!(total(&text, "shared_folder_websocket_sessions", &[]), 1.0);
    drop(socket);
    let text = scrape_until(&server, "shared_folder_websocket_sessions", &[], 0.0).await;
    assert_eq!(total(&text, "shared_folder_websocket_sessions", &[]), 0.0);

    // A reload with other settings: a reconfiguration, whose provider validated them.
    setup.edit("directory = ", "expiry = 7\ndirectory = ");
    server.hang_up();
    let reconfigured = [nextcloud, r#"change="reconfigure""#, r#"outcome="ok""#];
    let swaps = "shared_folder_provider_swaps_total";
    let text = scrape_until(&server, swaps, &reconfigured, 1.0).await;
    assert_eq!(total(&text, swaps, &reconfigured), 1.0);
    total(
        &text,
        calls,
        &[nextcloud, r#"operation="validate""#, r#"outcome="ok""#],
    );

    // Nothing about rooms, addresses or secrets.
    for secret in [
        "room-1",
        standin.options().password.as_str(),
        &standin.url(),
        crate::common::TOKEN,
    ] {
        assert!(!text.contains(secret), "{secret:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_when_database_and_provider_answer_and_not_when_the_database_is_broken() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let server = setup.serve();

    let ready = server.call_as(None, "GET", "/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["status"], "ready");
    assert_eq!(ready.json()["provider"]["name"], "nextcloud");
    assert_eq!(ready.json()["folders"], 0);

    // The database overwritten under the running service — the file, its write-ahead log and
    // its shared index, in place (the service maps the index: it must not shrink) — so that
    // its next read finds no database.
    assert!(setup.path("shared-folders.sqlite3").exists());
    for suffix in ["", "-wal", "-shm"] {
        let file = setup.path(&format!("shared-folders.sqlite3{suffix}"));
        let Ok(length) = std::fs::metadata(&file).map(|m| m.len()) else {
            continue;
        };
        let mut open = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        std::io::Write::write_all(&mut open, &vec![0x5a; length as usize]).unwrap();
    }
    let broken = server.call_as(None, "GET", "/ready", None).await;
    assert_eq!(broken.status, 503, "{}", broken.text());
    assert_eq!(broken.json()["code"], "not_ready");
    let message = broken.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("database"), "{message}");
    assert!(server.log().contains("not ready"), "{}", server.log());
    // The process still serves what needs no database.
    assert_eq!(
        server.call_as(None, "GET", "/metrics", None).await.status,
        200
    );
}

/// Serves `service` on a port of its own, in this process; its base URL.
async fn serve_here(service: Arc<Service>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(service::serve(
        listener,
        service,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    base
}

async fn get(url: &str) -> Reply {
    client::send("GET", url, None, &[], b"").await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_while_no_instance_of_the_provider_can_be_made() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let serve = |limits: Limits| {
        // On-demand instances: the pooling allocator would refuse the component at load.
        let folders = TestHost::on(&standin).limits(limits).pooling(false).build();
        let service = Service::new(
            Arc::new(folders),
            vec![Secret::new(crate::common::TOKEN)],
            Duration::from_secs(60),
        );
        serve_here(Arc::new(service))
    };

    let usable = serve(test_limits()).await;
    let ready = get(&format!("{usable}/ready")).await;
    assert_eq!(ready.status, 200, "{}", ready.text());

    // One page of memory: no instance of the component fits (its initial memory is larger),
    // so no call could run. The runtime starts anyway — it runs no guest code until asked.
    let starved = Limits {
        sandbox: SandboxLimits {
            memory_bytes: 64 << 10,
            ..SandboxLimits::default()
        },
        ..test_limits()
    };
    let unusable = serve(starved).await;
    let refused = get(&format!("{unusable}/ready")).await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    let body = refused.json();
    assert_eq!(body["code"], "not_ready", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("provider") && message.contains("instantiation"),
        "{message}"
    );
    // The database is fine, and /health says the process is alive.
    assert_eq!(get(&format!("{unusable}/health")).await.status, 200);
}
