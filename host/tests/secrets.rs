//! Secrets stay secret: with recognisable passwords, every command and its error paths, the
//! service's log, and the `Debug` output of the library's types are searched for them.
//!
//! The account password may appear nowhere. Share passwords appear only where the contract
//! shows them (`create`'s and a moderator's `access` output; a participant sees the read-only
//! one), never in a log, an error message or a panic.

use std::path::Path;
use std::time::Duration;

use crate::common::{Outcome, Setup};
use shared_folder_host::{HostConfig, Records, Runtime, SharedFolders};
use shared_folder_test_support::{Fault, FaultRule, Options, StandIn, Step};

const ACCOUNT: &str = "Recognisable-Account-Secret-4711";
const WRONG: &str = "Recognisable-Wrong-Secret-0815";
/// Logs at debug level, so that everything the host could log is searched.
const LOG: (&str, &str) = ("RUST_LOG", "debug,cranelift=info,wasmtime=info");

/// Fails if any of `secrets` is in `text`, naming where.
fn assert_absent(text: &str, secrets: &[&str], place: &str) {
    for secret in secrets {
        assert!(!text.contains(secret), "{place} shows a secret: {text}");
    }
    assert!(!text.contains("panicked"), "{place} panicked: {text}");
}

/// A stand-in whose account password is [`ACCOUNT`], and a configuration for it.
async fn standin_with_recognisable_password() -> (StandIn, Setup) {
    let standin = StandIn::start(Options {
        password: ACCOUNT.into(),
        ..Options::default()
    })
    .await
    .expect("stand-in");
    let setup = Setup::new(&standin, "");
    (standin, setup)
}

async fn run(setup: &Setup, command: &str, args: &[&str]) -> Outcome {
    setup.run_with_env(command, args, &[LOG]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_or_error_path_shows_a_password() {
    let (standin, setup) = standin_with_recognisable_password().await;
    let account = [ACCOUNT, WRONG];

    let check = run(&setup, "check", &[]).await;
    assert_eq!(check.code, Some(0), "{check:?}");
    assert_absent(
        &format!("{}{}", check.stdout, check.stderr),
        &account,
        "check",
    );

    let created = run(&setup, "create", &["--room", "room-1"]).await;
    assert_eq!(created.code, Some(0), "{created:?}");
    let folder = created.json();
    let read = folder["read"]["password"]
        .as_str()
        .expect("read password")
        .to_owned();
    let read_write = folder["read_write"]["password"]
        .as_str()
        .expect("rw password")
        .to_owned();
    let all = [ACCOUNT, WRONG, read.as_str(), read_write.as_str()];
    assert_absent(&created.stderr, &all, "create's log");
    // The storage's session is a credential too (it authenticates by itself): never logged.
    let sessions = standin.session_ids();
    assert!(!sessions.is_empty());
    let sessions: Vec<&str> = sessions.iter().map(String::as_str).collect();
    assert_absent(
        &created.stderr,
        &sessions,
        "create's log (the storage's session)",
    );
    // The stand-in speaks plain http, which the configuration allowed: the host says so.
    assert!(created.stderr.contains("plain http"), "{}", created.stderr);
    assert_absent(&created.stdout, &account, "create's output");

    let moderator = run(
        &setup,
        "access",
        &["--room", "room-1", "--role", "moderator"],
    )
    .await;
    assert_absent(&moderator.stderr, &all, "access's log");
    assert_absent(&moderator.stdout, &account, "a moderator's access");
    let participant = run(
        &setup,
        "access",
        &["--room", "room-1", "--role", "participant"],
    )
    .await;
    assert!(participant.stdout.contains(&read));
    assert_absent(
        &participant.stdout,
        &[ACCOUNT, read_write.as_str()],
        "a participant's access",
    );
    assert_absent(&participant.stderr, &all, "access's log");

    // Error paths: each must fail, and show nothing.
    let mut failures = Vec::new();
    failures.push((
        "unknown role",
        run(&setup, "access", &["--room", "room-1", "--role", "admin"]).await,
    ));
    failures.push((
        "escaping room",
        run(&setup, "create", &["--room", "../x"]).await,
    ));
    standin.inject(FaultRule::at(
        Step::CreateShare { permissions: 15 },
        Fault::Status(403),
    ));
    failures.push((
        "storage failure in a create",
        run(&setup, "create", &["--room", "room-2"]).await,
    ));
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(401)));
    failures.push((
        "storage failure in a delete",
        run(&setup, "delete", &["--room", "room-1"]).await,
    ));

    // Configurations that fail a create: (what, the configuration's text, more environment).
    let closed_port = standin.addr().port().wrapping_add(1).max(1);
    let text = setup.text();
    let variants = [
        ("refused credentials", text.replace(ACCOUNT, WRONG), None),
        (
            "storage unreachable",
            text.replace(&standin.url(), &format!("http://127.0.0.1:{closed_port}/")),
            None,
        ),
        (
            "a bad configuration",
            text.replace("call_timeout = 20", "call_timeout = \"x\""),
            None,
        ),
        (
            "two password sources",
            text.replace("[host]\n", "[host]\npassword_env = \"SF_SECRET\"\n"),
            Some(("SF_SECRET", WRONG)),
        ),
    ];
    for (what, text, extra) in variants {
        let env: Vec<(&str, &str)> = [LOG].into_iter().chain(extra).collect();
        let outcome = Setup::with_text(&text)
            .run_with_env("create", &["--room", "room-3"], &env)
            .await;
        failures.push((what, outcome));
    }
    for (what, outcome) in &failures {
        assert_ne!(outcome.code, Some(0), "{what} succeeded: {outcome:?}");
        assert!(!outcome.stderr.trim().is_empty(), "{what} says why");
        assert_absent(&format!("{}{}", outcome.stdout, outcome.stderr), &all, what);
    }

    let deleted = run(&setup, "delete", &["--room", "room-1"]).await;
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    assert_absent(
        &format!("{}{}", deleted.stdout, deleted.stderr),
        &all,
        "delete",
    );

    // The service: a create, the views, a failing delete, shutdown.
    let server = setup.serve();
    let put = server
        .call("PUT", "/v1/events/room-7/shared_folder", None)
        .await;
    assert_eq!(put.status, 201);
    let shares: Vec<String> = standin
        .shares_on("opentalk/meetings/room-7")
        .into_iter()
        .filter_map(|s| s.password)
        .collect();
    assert_eq!(shares.len(), 2);
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(401)));
    let failed = server
        .call("DELETE", "/v1/events/room-7/shared_folder", None)
        .await;
    assert_eq!(failed.status, 502);
    let body = String::from_utf8_lossy(&failed.body).into_owned();
    assert_absent(&body, &[ACCOUNT, &shares[0], &shares[1]], "an API error");
    let log = server.log();
    server.terminate(Duration::from_secs(10)).await;
    let mut everything = all.to_vec();
    everything.extend(shares.iter().map(String::as_str));
    assert_absent(&log, &everything, "serve's log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_output_hides_every_password() {
    let (_standin, setup) = standin_with_recognisable_password().await;
    let config = HostConfig::load(Path::new(&setup.path("host.toml"))).expect("configuration");
    let runtime_options = || config.host.runtime_options();
    let host = SharedFolders::new(
        Runtime::new(
            config.shared_folder.clone(),
            shared_folder_host::NEXTCLOUD_PROVIDER,
            runtime_options(),
        )
        .expect("runtime"),
        Records::in_memory().expect("records"),
    );
    let record = host.create("room").await.expect("create").record;
    let passwords = [
        ACCOUNT,
        record.read.password.expose(),
        record.read_write.password.expose(),
    ];
    let wrong = shared_folder_host::SharedFolderConfig::from_toml(
        setup
            .text()
            .replace(ACCOUNT, WRONG)
            .split("[host]")
            .next()
            .unwrap_or(""),
    )
    .expect("configuration");
    let refused = SharedFolders::new(
        Runtime::new(
            wrong,
            shared_folder_host::NEXTCLOUD_PROVIDER,
            runtime_options(),
        )
        .expect("runtime"),
        Records::in_memory().expect("records"),
    )
    .create("other")
    .await
    .expect_err("refused credentials");
    for (what, shown) in [
        ("HostConfig", format!("{config:?}")),
        ("FolderRecord", format!("{record:?}")),
        (
            "Access",
            format!(
                "{:?}",
                host.access("room", shared_folder_host::Role::Moderator)
                    .await
            ),
        ),
        ("HostError", format!("{refused:?} {refused}")),
    ] {
        assert_absent(&shown, &passwords, what);
        assert_absent(&shown, &[WRONG], what);
    }
}
