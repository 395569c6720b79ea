//! Hostile provider components: each costs at most its own call, the host keeps serving
//! other rooms, its memory stays bounded, and each case is reported with a clear error.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use shared_folder_harness::{
    ConnectionCounter, FIXTURE_PROVIDER, Options, StandIn, TestHost, test_limits,
};
use shared_folder_host::{HostError, Limits, SharedFolders};
use tokio::net::TcpListener;

use crate::Failures;
use crate::load::resident_kib;
use crate::outcome::kind;

/// A component that imports what the provider world does not grant: the environment
/// (`wasi:cli/environment`) and the file system (`wasi:filesystem`), as a provider built
/// with Rust's `std` that reads either would.
const SNOOP: &str = r#"
(component
  (import "wasi:cli/environment@0.2.12" (instance
    (export "get-environment" (func (result (list (tuple string string)))))))
  (import "wasi:filesystem/types@0.2.12" (instance
    (export "descriptor" (type (sub resource)))))
)
"#;

struct Case {
    what: &'static str,
    outcome: String,
    expected: &'static str,
    /// Anything else the case must show, and whether it did.
    also: (String, bool),
}

pub async fn run(failures: &mut Failures) {
    println!("== Hostile provider components ==\n");
    let standin = StandIn::start(Options::default()).await.expect("stand-in");
    let limits = Limits {
        call_deadline: Duration::from_secs(3),
        ..test_limits()
    };
    let host = TestHost::on(&standin).limits(limits).build();
    host.runtime()
        .swap_provider("fixture", FIXTURE_PROVIDER)
        .await
        .expect("fixture");
    let rss_before = resident_kib();

    let mut cases = Vec::new();
    for (what, room, expected, refusal) in [
        (
            "traps (unreachable)",
            "trap".to_owned(),
            "trapped",
            "trapped",
        ),
        (
            "grows memory without bound",
            "grow".to_owned(),
            "trapped",
            "trapped",
        ),
        (
            "returns garbage for the WIT types",
            "garbage".to_owned(),
            "unusable",
            "unusable shared folder",
        ),
        (
            "sets its own Authorization header",
            "forge-auth".to_owned(),
            "protocol",
            "Authorization refused by the host",
        ),
    ] {
        let result = host.create(&room).await;
        let shown = detail(&result);
        let recorded = matches!(host.folder(&room).await, Ok(Some(_)));
        cases.push(Case {
            what,
            outcome: kind(&result),
            expected,
            also: (
                format!("nothing recorded; {shown}"),
                !recorded && result.is_err_and(|e| e.to_string().contains(refusal)),
            ),
        });
    }
    // Each forbidden destination has a listener, which must see no connection: a refusal by
    // the host, not a name that does not resolve or a port nobody listens on.
    for (what, ip, name) in [
        ("calls another host by name", "127.0.0.1", Some("localhost")),
        ("calls another host by IP", "127.0.0.2", None),
        ("calls the right IP on another port", "127.0.0.1", None),
    ] {
        let target = ConnectionCounter::start(ip).await.expect("listener");
        let authority = match name {
            Some(name) => format!("{name}:{}", target.addr.port()),
            None => target.addr.to_string(),
        };
        let room = format!("escape:{authority}");
        let result = host.create(&room).await;
        let shown = detail(&result);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let reached = target.connections();
        cases.push(Case {
            what,
            outcome: kind(&result),
            expected: "transport",
            also: (
                format!("connections to {authority}: {reached}; {shown}"),
                reached == 0 && shown.contains("HttpRequestDenied"),
            ),
        });
    }
    cases.push(endless_loop(&host).await);
    cases.push(flood(&host, &standin).await);
    cases.push(redirect(&standin).await);
    cases.push(snoop(&host).await);

    let served = host.create("neighbour-after-all").await.is_ok();
    let rss_after = resident_kib();
    println!("{:<40} {:<18} and", "component", "outcome");
    for case in &cases {
        let ok = case.outcome == case.expected && case.also.1;
        let mark = if ok { "✓" } else { "✗" };
        println!(
            "{:<40} {:<18} {}",
            case.what,
            format!("{} {mark}", case.outcome),
            case.also.0
        );
        failures.check(ok, || {
            format!(
                "hostile {}: {} (expected {}); {}",
                case.what, case.outcome, case.expected, case.also.0
            )
        });
    }
    let requests_seen = standin.seen().len();
    println!(
        "\nafter all of them: a new room is served: {served}; host RSS {} → {} MiB; \
         requests that reached the storage: {requests_seen} (the flood's, cut off)\n",
        rss_before / 1024,
        rss_after / 1024
    );
    failures.check(served, || "hostile: the host stopped serving".into());
    failures.check(rss_after < rss_before + 256 * 1024, || {
        format!("hostile: RSS grew from {rss_before} to {rss_after} KiB")
    });
}

/// The error's words, cut to fit a table.
fn detail<T>(result: &Result<T, HostError>) -> String {
    match result {
        Ok(_) => "succeeded".into(),
        Err(error) => {
            let text = error.to_string();
            // The reason, without the provider and room it is about or a wasm backtrace.
            let reason = match text.find("wasm trap:") {
                Some(start) => &text[start..],
                None => text
                    .split_once(": ")
                    .map_or(text.as_str(), |(_, rest)| rest),
            };
            reason.chars().take(110).collect()
        }
    }
}

/// An endless loop is stopped at the deadline while a neighbour is served.
async fn endless_loop(host: &SharedFolders) -> Case {
    let started = Instant::now();
    let (spin, neighbour) = tokio::join!(host.create("spin"), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = Instant::now();
        let served = host.create("neighbour-during-spin").await.is_ok();
        (served, t.elapsed())
    });
    let took = started.elapsed();
    let (served, neighbour_took) = neighbour;
    Case {
        what: "loops forever",
        outcome: kind(&spin),
        expected: "deadline",
        also: (
            format!(
                "stopped after {:.1} s; a neighbour was served meanwhile in {} ms",
                took.as_secs_f64(),
                neighbour_took.as_millis()
            ),
            served && took < Duration::from_secs(6),
        ),
    }
}

/// A 1 GiB request body is cut off at the host's limit.
async fn flood(host: &SharedFolders, standin: &StandIn) -> Case {
    let started = Instant::now();
    let result = host.create("flood").await;
    let largest = standin.seen().iter().map(|s| s.body_len).max().unwrap_or(0);
    let shown = detail(&result);
    Case {
        what: "floods a 1 GiB request body",
        outcome: kind(&result),
        expected: "transport",
        also: (
            format!(
                "{:.1} s; storage got at most {largest} bytes; {shown}",
                started.elapsed().as_secs_f64()
            ),
            shown.contains("HttpRequestBodySize") && largest <= 1 << 20,
        ),
    }
}

/// The allowed origin answers with a redirect elsewhere: the host does not follow it.
async fn redirect(standin: &StandIn) -> Case {
    let sink = ConnectionCounter::start("127.0.0.1")
        .await
        .expect("listener");
    let redirector = redirector_to(sink.addr).await;
    // The stand-in's configuration, pointing at the redirector instead.
    let options = standin.options();
    let host = TestHost::at(
        &format!("http://{redirector}/"),
        &options.username,
        &options.password,
    )
    .component(FIXTURE_PROVIDER)
    .build();
    let result = host.create(&format!("escape:{redirector}")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reached = sink.connections();
    Case {
        what: "is redirected to another host",
        outcome: kind(&result),
        expected: "remote 302",
        also: (
            format!("the 302 came back to the component; connections to the target: {reached}"),
            reached == 0,
        ),
    }
}

/// A plain TCP server that answers every request with a `302` to `target`.
async fn redirector_to(target: SocketAddr) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listener");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer).await;
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://{target}/stolen\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    addr
}

/// A component importing the environment and the file system is refused when it is loaded.
async fn snoop(host: &SharedFolders) -> Case {
    let before = host.runtime().provider();
    let bytes = wat::parse_str(SNOOP).expect("the snoop component assembles");
    let result = host
        .runtime()
        .swap_provider("snoop", &bytes)
        .await
        .map_err(HostError::from);
    let names_it = result
        .as_ref()
        .is_err_and(|e| e.to_string().contains("wasi:cli/environment"));
    let shown = detail(&result);
    let kept = host.runtime().provider() == before;
    Case {
        what: "reads environment variables and files",
        outcome: kind(&result),
        expected: "refused at load",
        also: (
            format!("the previous provider keeps serving; {shown}"),
            kept && names_it,
        ),
    }
}
