//! The command line, end to end: `create`, `access`, `delete`, `purge` and `conformance` of
//! the binary against the stand-ins, their error paths and exit codes, and configuration
//! files.

use crate::common::Setup;
use serde_json::json;
use shared_folder_test_support::stand_ins::{AnyStandIn, Kind};
use shared_folder_test_support::{
    FIXTURE_PROVIDER, Fault, FaultRule, Options, StandIn, Step, TEMPLATE_PROVIDER,
};

async fn standin() -> StandIn {
    StandIn::start(Options::default())
        .await
        .expect("stand-in starts")
}

/// The stand-in's account password: it must never appear in what the binary prints.
fn account_password(standin: &StandIn) -> String {
    standin.options().password.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_access_delete_follow_the_contract() {
    let standin = standin().await;
    let setup = Setup::new(&standin, "");

    let created = setup.run("create", &["--room", "room-1"]).await;
    assert_eq!(created.code, Some(0), "{created:?}");
    let folder = created.json();
    let keys: Vec<&str> = folder
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["contract", "path", "provider", "read", "read_write", "room"]
    );
    assert_eq!(folder["room"], "room-1");
    assert_eq!(folder["provider"], "nextcloud");
    assert_eq!(folder["contract"], "0.4");
    assert_eq!(folder["path"], "opentalk/meetings/room-1");
    let shares = standin.shares_on("opentalk/meetings/room-1");
    for (kind, permissions) in [("read", 17), ("read_write", 31)] {
        let link = &folder[kind];
        let share = shares
            .iter()
            .find(|s| {
                link["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(&format!("/s/{}", s.token)))
            })
            .unwrap_or_else(|| panic!("{kind} share on the stand-in"));
        assert_eq!(share.permissions, permissions);
        assert_eq!(share.password.as_deref(), link["password"].as_str());
        assert!(link["url"].as_str().unwrap().contains(&share.token));
    }

    // A second process finds the record: same folder, nothing new on the storage.
    let again = setup.run("create", &["--room", "room-1"]).await;
    assert_eq!(again.json(), folder);
    assert_eq!(standin.storage().shares.len(), 2);

    let moderator = setup
        .run("access", &["--room", "room-1", "--role", "moderator"])
        .await;
    assert_eq!(
        moderator.json(),
        json!({
            "read": {"url": folder["read"]["url"], "password": folder["read"]["password"]},
            "read_write": {"url": folder["read_write"]["url"], "password": folder["read_write"]["password"]},
        })
    );
    let participant = setup
        .run("access", &["--room", "room-1", "--role", "participant"])
        .await;
    assert_eq!(
        participant.json(),
        json!({"read": {"url": folder["read"]["url"], "password": folder["read"]["password"]}})
    );
    assert!(!participant.stdout.contains("read_write"));

    let deleted = setup.run("delete", &["--room", "room-1"]).await;
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    assert_eq!(deleted.json(), json!({"room": "room-1", "deleted": true}));
    assert!(!standin.folder_exists("opentalk/meetings/room-1"));
    assert!(standin.storage().shares.is_empty());

    // Deleting a room without a folder is not an error; showing one is (exit code 3).
    let nothing = setup.run("delete", &["--room", "room-1"]).await;
    assert_eq!(nothing.code, Some(0));
    assert_eq!(nothing.json(), json!({"room": "room-1", "deleted": false}));
    let missing = setup
        .run("access", &["--room", "room-1", "--role", "participant"])
        .await;
    assert_eq!(missing.code, Some(3), "{missing:?}");
    assert!(missing.stdout.is_empty());
    assert!(
        missing.stderr.contains("has no shared folder"),
        "{missing:?}"
    );

    let secret = account_password(&standin);
    for outcome in [
        &created,
        &again,
        &moderator,
        &participant,
        &deleted,
        &nothing,
        &missing,
    ] {
        assert!(!outcome.stdout.contains(&secret) && !outcome.stderr.contains(&secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_non_zero_with_the_reason_and_no_secret() {
    let standin = standin().await;
    let secret = account_password(&standin);

    // The storage refuses the credentials.
    let setup = Setup::new(&standin, "");
    setup.edit(&secret, "not-the-Passw0rd-at-all");
    let refused = setup.run("create", &["--room", "room-1"]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("refused the credentials"),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains("not-the-Passw0rd"));
    assert!(refused.stdout.is_empty());

    // A room id that would leave the directory: a usage error, refused before the storage.
    let setup = Setup::new(&standin, "");
    let escape = setup.run("create", &["--room", "../other"]).await;
    assert_eq!(escape.code, Some(2), "{escape:?}");
    assert!(escape.stderr.contains("invalid room"), "{escape:?}");

    // A provider field the provider refuses is a configuration error too (exit 2), named.
    let setup_expiry = Setup::new(&standin, "");
    setup_expiry.edit(
        "directory = \"opentalk/meetings\"",
        "directory = \"opentalk/meetings\"\nexpiry = 0",
    );
    let expiry = setup_expiry.run("create", &["--room", "room-x"]).await;
    assert_eq!(expiry.code, Some(2), "{expiry:?}");
    assert!(
        expiry.stderr.contains("[shared_folder].expiry"),
        "{expiry:?}"
    );

    // A bad role is a usage error.
    let role = setup
        .run("access", &["--room", "r", "--role", "owner"])
        .await;
    assert_eq!(role.code, Some(2), "{role:?}");
    assert!(role.stderr.contains("unknown role"), "{role:?}");

    // The storage fails the delete: the record stays for a retry (marked as being deleted, so
    // its links are no longer shown), unless forced.
    assert_eq!(
        setup.run("create", &["--room", "room-2"]).await.code,
        Some(0)
    );
    // Twice: the provider asks a folder DELETE refused with 403 once more (a busy ownCloud's).
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    let kept = setup.run("delete", &["--room", "room-2"]).await;
    assert_eq!(kept.code, Some(1), "{kept:?}");
    assert!(kept.stderr.contains("403"), "{kept:?}");
    let still = setup
        .run("access", &["--room", "room-2", "--role", "participant"])
        .await;
    assert_eq!(
        still.code,
        Some(3),
        "no links while the delete is unfinished: {still:?}"
    );

    // Twice: the provider asks a folder DELETE refused with 403 once more (a busy ownCloud's).
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    let forced = setup.run("delete", &["--room", "room-2", "--force"]).await;
    assert_eq!(forced.code, Some(0), "{forced:?}");
    assert_eq!(forced.json(), json!({"room": "room-2", "deleted": true}));
    assert!(forced.stderr.contains("record dropped"), "{forced:?}");
    let gone = setup
        .run("access", &["--room", "room-2", "--role", "participant"])
        .await;
    assert_eq!(gone.code, Some(3), "{gone:?}");

    for outcome in [&refused, &escape, &role, &kept, &forced, &gone] {
        assert!(!outcome.stdout.contains(&secret) && !outcome.stderr.contains(&secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_files_name_the_field() {
    let standin = standin().await;
    let good = Setup::new(&standin, "").text();
    let secret = account_password(&standin);
    for (change, named) in [
        (
            good.replace("url = \"http", "url = \"ftp"),
            "[shared_folder].url",
        ),
        (
            good.replace("allow_plain_http = true\n", ""),
            "[shared_folder].url",
        ),
        (
            good.replace("username = ", "user = "),
            "[shared_folder].username",
        ),
        (
            good.replace("[host]\n", "[host]\ncolour = 1\n"),
            "[host].colour",
        ),
        (
            good.replace("call_timeout = 20", "call_timeout = -1"),
            "[host].call_timeout",
        ),
        (
            good.replace("listen = \"127.0.0.1:0\"", "listen = \"anywhere\""),
            "[host].listen",
        ),
        (
            good.replace("[host]\n", "[host]\npassword_env = \"SF_TEST_PASSWORD\"\n"),
            "[shared_folder].password",
        ),
        (
            good.replace("[host]\n", "[host]\nplugins = \"no-such-folder\"\n"),
            "[host].plugins",
        ),
        (
            good.replace("[shared_folder]", "[shared_folders]"),
            "[shared_folder]",
        ),
        (good.replace("]\n", "\n"), "not valid TOML"),
    ] {
        let setup = Setup::with_text(&change);
        let outcome = setup
            .run_with_env(
                "create",
                &["--room", "r"],
                &[("SF_TEST_PASSWORD", "from-the-environment")],
            )
            .await;
        assert_eq!(outcome.code, Some(2), "{named}: {outcome:?}");
        assert!(outcome.stderr.contains(named), "{named}: {outcome:?}");
        assert!(!outcome.stderr.contains(&secret), "{named}");
    }
    assert!(
        standin.seen().is_empty(),
        "nothing reached the storage: {:?}",
        standin.seen()
    );
    let unreadable = Setup::with_text("");
    std::fs::remove_file(&unreadable.config).unwrap();
    let outcome = unreadable.run("create", &["--room", "r"]).await;
    assert_eq!(outcome.code, Some(2));
    assert!(outcome.stderr.contains("cannot read"), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_may_come_from_a_file_or_the_environment() {
    let standin = standin().await;
    let secret = account_password(&standin);
    let good = Setup::new(&standin, "").text();
    let without = good.replace(&format!("password = \"{secret}\"\n"), "");

    let from_file = Setup::with_text(&without.replace(
        "[host]\n",
        "[host]\npassword_file = \"nextcloud-password\"\n",
    ));
    std::fs::write(from_file.path("nextcloud-password"), format!("{secret}\n")).unwrap();
    let outcome = from_file.run("create", &["--room", "from-file"]).await;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");

    let from_env = Setup::with_text(
        &without.replace("[host]\n", "[host]\npassword_env = \"SF_TEST_PASSWORD\"\n"),
    );
    let outcome = from_env
        .run_with_env(
            "create",
            &["--room", "from-env"],
            &[("SF_TEST_PASSWORD", &secret)],
        )
        .await;
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(standin.folder_exists("opentalk/meetings/from-env"));
    assert!(!outcome.stderr.contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_can_be_json_lines_and_carry_no_secret() {
    let standin = standin().await;
    let setup = Setup::new(&standin, "log_format = \"json\"");
    let created = setup.run("create", &["--room", "logged"]).await;
    assert_eq!(created.code, Some(0), "{created:?}");
    let lines: Vec<serde_json::Value> = created
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "shared folder created"
                && l["fields"]["room"] == "logged"),
        "{}",
        created.stderr
    );
    let folder = created.json();
    for secret in [
        account_password(&standin),
        folder["read"]["password"].as_str().unwrap().to_owned(),
        folder["read_write"]["password"]
            .as_str()
            .unwrap()
            .to_owned(),
    ] {
        assert!(!created.stderr.contains(&secret), "a password in the logs");
    }
}

/// A configuration for `standin` with its provider, `expiry = 7` and plain http allowed (and
/// the tests' shared compile cache, as [`Setup::new`] has it).
fn conformance_setup(standin: &AnyStandIn) -> Setup {
    let shared_folder = standin.host().shared_folder_toml();
    let cache = shared_folder_test_support::COMPILED_COMPONENTS;
    Setup::with_text(&format!(
        "{shared_folder}expiry = 7\n[host]\nallow_plain_http = true\ncall_timeout = 20\n\
         connect_timeout = 2\nanswer_timeout = 2\ncomponent_cache = {cache:?}\n"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_finds_every_promise_kept_by_the_built_in_providers() {
    // The three storages at once, each with its stand-in and its own `conformance` process.
    futures_util::future::join_all(
        [Kind::NextCloud, Kind::OwnCloud, Kind::OpenCloud].map(every_promise_kept_on),
    )
    .await;
}

/// `conformance` against `kind`'s stand-in: every promise kept, the rooms it made removed, and
/// the account's secret never shown.
async fn every_promise_kept_on(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let setup = conformance_setup(&standin);
    let outcome = setup.run("conformance", &[]).await;
    assert_eq!(outcome.code, Some(0), "{kind:?}: {outcome:?}");
    let table = &outcome.stdout;
    for row in [
        "| create: a folder and two links | ✓",
        "| each role's view | ✓",
        "| read-only link refuses an upload | ✓",
        "| a link refuses the other link's password | ✓",
        "| both links expire in 7 days (expiry) | ✓",
        "| a folder it did not make: refused as already-exists | ✓",
        "| … and left alone | ✓",
        "| delete again | ✓",
        "| purge after a create (no handle) | ✓",
        "| purge with nothing there | ✓",
        "| wrong credentials: unauthorized, nothing made | ✓",
        "| create, all or nothing with request 1/",
        "| delete, finished with request 1/",
        "| nothing left at the end | ✓",
    ] {
        assert!(table.contains(row), "{kind:?}: no {row:?} in\n{table}");
    }
    assert!(
        table.contains(" kept, 0 broken, 0 skipped"),
        "{kind:?}: {table}"
    );
    // Each request of a create had its three faults: one row per request.
    let create_rows = table
        .matches("| create, all or nothing with request")
        .count();
    assert!(
        create_rows >= 3,
        "{kind:?}: {create_rows} fault rows\n{table}"
    );
    // The run made and removed its rooms, and said nothing of the account's secret.
    assert!(
        standin
            .folders_in("opentalk/meetings")
            .iter()
            .all(|f| !f.starts_with("conformance-")),
        "{kind:?}: {:?}",
        standin.folders_in("opentalk/meetings")
    );
    assert_eq!(standin.link_count(), 0, "{kind:?}");
    let secret = match &standin {
        AnyStandIn::NextCloud(s) => s.options().password.clone(),
        AnyStandIn::OpenCloud(s) => s.options().app_token.clone(),
    };
    assert!(!outcome.stdout.contains(&secret) && !outcome.stderr.contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_names_the_promises_a_provider_breaks() {
    let standin = AnyStandIn::start(Kind::NextCloud).await;
    let setup = conformance_setup(&standin);

    // The fixture stores nothing: a second create of a room "succeeds" over the first.
    setup.edit("provider = \"nextcloud\"", "provider = \"fixture\"");
    let fixture = setup.path("fixture.wasm");
    std::fs::write(&fixture, FIXTURE_PROVIDER).unwrap();
    let outcome = setup
        .run("conformance", &["--component", fixture.to_str().unwrap()])
        .await;
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("| a folder it did not make: refused as already-exists | ✗ BROKEN | created over a folder it did not make"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stderr.contains("promise(s) broken"), "{outcome:?}");

    // The template has no storage calls yet: the table says so, and what it could not try.
    setup.edit("provider = \"fixture\"", "provider = \"template\"");
    let template = setup.path("template.wasm");
    std::fs::write(&template, TEMPLATE_PROVIDER).unwrap();
    let outcome = setup
        .run("conformance", &["--component", template.to_str().unwrap()])
        .await;
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("| create: a folder and two links | ✗ BROKEN")
            && outcome.stdout.contains("no storage calls yet")
            && outcome
                .stdout
                .contains("| everything after create | – skipped"),
        "{}",
        outcome.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_a_folder_no_record_knows_and_exists_names_it() {
    let standin = standin().await;
    let setup = Setup::new(&standin, "");
    // A folder the storage holds without a record here (a database restored from an older
    // backup): every create of the room answers "exists", naming `purge`.
    standin.make_folder("opentalk/meetings/room-9");
    let refused = setup.run("create", &["--room", "room-9"]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("no record here knows of")
            && refused
                .stderr
                .contains("shared-folder-host purge --config FILE --room room-9"),
        "{refused:?}"
    );
    assert!(standin.folder_exists("opentalk/meetings/room-9"));

    let purged = setup.run("purge", &["--room", "room-9"]).await;
    assert_eq!(purged.code, Some(0), "{purged:?}");
    assert_eq!(
        purged.json(),
        json!({"room": "room-9", "purged": true, "record": "none"})
    );
    assert!(!standin.folder_exists("opentalk/meetings/room-9"));
    let created = setup.run("create", &["--room", "room-9"]).await;
    assert_eq!(created.code, Some(0), "{created:?}");

    // With a record: refused, and nothing touched, unless forced.
    let refused = setup.run("purge", &["--room", "room-9"]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("--force"), "{refused:?}");
    assert!(standin.folder_exists("opentalk/meetings/room-9"));
    assert_eq!(standin.storage().shares.len(), 2);
    let forced = setup.run("purge", &["--room", "room-9", "--force"]).await;
    assert_eq!(forced.code, Some(0), "{forced:?}");
    assert_eq!(
        forced.json(),
        json!({"room": "room-9", "purged": true, "record": "dropped"})
    );
    assert!(!standin.folder_exists("opentalk/meetings/room-9"));
    assert!(standin.storage().shares.is_empty());
    let access = setup
        .run("access", &["--room", "room-9", "--role", "moderator"])
        .await;
    assert_eq!(access.code, Some(3), "{access:?}");

    // Nothing there at all: a purge succeeds.
    let nothing = setup.run("purge", &["--room", "room-10"]).await;
    assert_eq!(nothing.code, Some(0), "{nothing:?}");
}
