//! `shared-folder-host preflight`: each finding about the configured storage with its fix, the
//! exit code telling problems from warnings, and nothing left on the storage afterwards.

use crate::common::Setup;
use shared_folder_test_support::opencloud::{self, OpenCloudStandIn};
use shared_folder_test_support::standin::Flavour;
use shared_folder_test_support::{Options, StandIn, TestHost};

fn nothing_left(standin: &StandIn) -> bool {
    let storage = standin.storage();
    storage.shares.is_empty()
        && storage.trash.is_empty()
        && !storage
            .nodes
            .keys()
            .any(|path| path.starts_with("opentalk/meetings/"))
}

/// The line of `stdout` that reports a finding containing `what`, at `level`.
fn finding(stdout: &str, level: &str, what: &str) -> bool {
    stdout
        .lines()
        .any(|line| line.trim_start().starts_with(level) && line.contains(what))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_password_a_kept_trash_and_the_rate_limit_are_warned_about() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let outcome = setup.run("preflight", &[]).await;
    let out = &outcome.stdout;
    assert_eq!(outcome.code, Some(0), "warnings only: {outcome:?}");
    assert!(finding(out, "ok", "accepted the credentials"), "{out}");
    assert!(finding(out, "WARNING", "login password"), "{out}");
    assert!(out.contains("app password"), "{out}");
    assert!(finding(out, "WARNING", "20 shares per 10 minutes"), "{out}");
    assert!(out.contains("apply_allowlist_to_ratelimit"), "{out}");
    assert!(finding(out, "ok", "a probe folder was created"), "{out}");
    assert!(finding(out, "ok", "point at the configured url"), "{out}");
    assert!(finding(out, "ok", "read-only link opens"), "{out}");
    assert!(finding(out, "ok", "probe folder was deleted"), "{out}");
    assert!(
        finding(out, "WARNING", "stay in NextCloud's trash bin"),
        "{out}"
    );
    assert!(out.contains("delete_from_trash = true"), "{out}");
    assert!(out.contains("0 problem(s), 3 warning(s)"), "{out}");
    assert!(nothing_left(&standin), "{:?}", standin.storage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_as_recommended_passes_without_a_warning() {
    let standin = StandIn::start(Options {
        app_password: true,
        allow_listed: true,
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "");
    setup.edit(
        "directory = \"opentalk/meetings\"\n",
        "directory = \"opentalk/meetings\"\ndelete_from_trash = true\nexpiry = 7\n",
    );
    let outcome = setup.run("preflight", &[]).await;
    let out = &outcome.stdout;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(finding(out, "ok", "app password"), "{out}");
    assert!(finding(out, "ok", "expiring in 7 days (accepted)"), "{out}");
    assert!(
        finding(out, "ok", "removed from the trash bin too"),
        "{out}"
    );
    assert!(out.contains("0 problem(s), 0 warning(s)"), "{out}");
    assert!(nothing_left(&standin), "{:?}", standin.storage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_a_problem_and_nothing_is_tried() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let password = standin.options().password.clone();
    setup.edit(&password, "a-wrong-Passw0rd");
    let outcome = setup.run("preflight", &[]).await;
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        finding(&outcome.stdout, "PROBLEM", "refused the credentials"),
        "{outcome:?}"
    );
    assert!(!outcome.stdout.contains("a-wrong-Passw0rd"));
    assert!(!outcome.stderr.contains("a-wrong-Passw0rd"));
    // What the server is (`status.php`, no credentials needed), then the refused request.
    let seen = standin.seen();
    assert_eq!(seen.len(), 2, "two requests, then it stopped: {seen:?}");
    assert_eq!(seen[0].target, "/status.php");
    assert_eq!(seen[1].method, "PROPFIND", "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_with_an_app_password_is_not_taken_for_a_login_password() {
    // A server slow to answer (an idle one's first requests, a far one) with an app password:
    // NextCloud says which password it is (no `cookie_test`), and that decides, not a timing.
    let standin = StandIn::start(Options {
        app_password: true,
        allow_listed: true,
        latency: std::time::Duration::from_millis(450),
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "");
    let outcome = setup.run("preflight", &[]).await;
    let out = &outcome.stdout;
    assert!(
        finding(out, "ok", "the password is an app password"),
        "{out}"
    );
    assert!(!out.contains("login password"), "{out}");
    assert!(out.contains("median of 3"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_owncloud_the_checks_are_ownclouds() {
    let standin = StandIn::start(Options {
        flavour: Flavour::OwnCloud,
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "");
    setup.edit("provider = \"nextcloud\"", "provider = \"owncloud\"");
    let outcome = setup.run("preflight", &[]).await;
    let out = &outcome.stdout;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(
        finding(out, "ok", "the storage is ownCloud 10.13.1"),
        "{out}"
    );
    assert!(
        finding(out, "ok", "ownCloud accepted the credentials"),
        "{out}"
    );
    assert!(finding(out, "ok", "read-only link opens"), "{out}");
    // No NextCloud share rate limit, and no verdict on the password ownCloud cannot give.
    assert!(!out.contains("20 shares"), "{out}");
    assert!(!out.contains("login password"), "{out}");
    assert!(
        finding(out, "WARNING", "stay in ownCloud's trash bin"),
        "{out}"
    );
    assert!(out.contains("0 problem(s), 1 warning(s)"), "{out}");
    assert!(nothing_left(&standin), "{:?}", standin.storage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_behind_a_proxy_that_was_not_told_are_a_problem() {
    // As a NextCloud behind a TLS proxy without overwriteprotocol builds them (`18-…`).
    let standin = StandIn::start(Options {
        link_base: Some("http://cloud.invalid:8080".into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "");
    let outcome = setup.run("preflight", &[]).await;
    let out = &outcome.stdout;
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        finding(out, "PROBLEM", "point at http://cloud.invalid:8080"),
        "{out}"
    );
    assert!(out.contains("overwriteprotocol"), "{out}");
    assert!(
        finding(out, "PROBLEM", "read-only link could not be opened"),
        "{out}"
    );
    assert!(nothing_left(&standin), "{:?}", standin.storage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_measured_on_request() {
    let standin = StandIn::start(Options {
        share_rate_limit: Some(20),
        app_password: true,
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "");
    let outcome = setup.run("preflight", &["--rate-limit"]).await;
    let out = &outcome.stdout;
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    // The probe room took 2 of the 20 shares: 9 more rooms fit.
    assert!(
        finding(
            out,
            "PROBLEM",
            "rate limit is in force: NextCloud refused the probe room after 9 rooms"
        ),
        "{out}"
    );
    assert!(nothing_left(&standin), "{:?}", standin.storage());

    let unlimited = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&unlimited, "");
    let outcome = setup.run("preflight", &["--rate-limit"]).await;
    assert!(
        finding(&outcome.stdout, "ok", "rate limit is not in force"),
        "{outcome:?}"
    );
    assert!(nothing_left(&unlimited), "{:?}", unlimited.storage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_opencloud_the_checks_are_openclouds() {
    let standin = OpenCloudStandIn::start(opencloud::Options::default())
        .await
        .unwrap();
    let shared_folder = TestHost::on_opencloud(&standin).shared_folder_toml();
    let setup = Setup::with_text(&format!(
        "{shared_folder}\n[host]\nallow_plain_http = true\n"
    ));
    let outcome = setup.run("preflight", &[]).await;
    let out = &outcome.stdout;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(
        finding(out, "ok", "the storage is OpenCloud 0.1.0"),
        "{out}"
    );
    assert!(
        finding(out, "ok", "OpenCloud accepted the credentials"),
        "{out}"
    );
    assert!(finding(out, "ok", "link password policy"), "{out}");
    assert!(finding(out, "ok", "read-only link opens"), "{out}");
    assert!(!out.contains("20 shares"), "{out}");
    assert!(
        finding(out, "WARNING", "stay in OpenCloud's trash bin"),
        "{out}"
    );
    assert!(out.contains("0 problem(s), 1 warning(s)"), "{out}");
    assert!(
        standin.trash().is_empty(),
        "the probe's entry was taken out"
    );

    // With delete_from_trash, nothing to warn of.
    setup.edit("[host]", "delete_from_trash = true\n\n[host]");
    let outcome = setup.run("preflight", &[]).await;
    assert!(
        outcome.stdout.contains("0 problem(s), 0 warning(s)"),
        "{}",
        outcome.stdout
    );
}
