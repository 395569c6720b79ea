//! A failure at each step of create leaves nothing behind on the storage and comes back as
//! the right error; delete copes with what is already gone.

use std::time::Duration;

use shared_folder_harness::{Fault, FaultRule, Options, StandIn, Step, TestHost};
use shared_folder_host::ErrorKind;
use shared_folder_host::runtime::ProviderError;

const STEPS: [Step; 3] = [
    Step::Mkcol,
    Step::CreateShare { permissions: 1 },
    Step::CreateShare { permissions: 15 },
];

/// Longer than the test limits' wait for a connection and an answer's head together (2 + 2 s,
/// `outbound.rs`), with a margin: at exactly 4 s the answer and the timeout race (a run saw
/// the answer win).
const TOO_SLOW: Duration = Duration::from_secs(5);

fn expected(fault: Fault) -> fn(&ProviderError) -> bool {
    match fault {
        Fault::Status(500) => |e| matches!(e, ProviderError::Remote { status: 500, .. }),
        Fault::DropConnection => |e| matches!(e, ProviderError::Transport(_)),
        Fault::SlowAnswer(_) => |e| matches!(e, ProviderError::Timeout(_)),
        _ => |_| false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_at_any_step_of_create_leaves_nothing_behind() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin).line("expiry = 3").build();
    // The directory exists already, as it does after the first room.
    standin.make_folder("opentalk/meetings");

    let mut cells = 0;
    for step in STEPS {
        for fault in [
            Fault::Status(500),
            Fault::DropConnection,
            Fault::SlowAnswer(TOO_SLOW),
        ] {
            let room = format!("room-{cells}");
            standin.clear_faults();
            standin.inject(FaultRule::at(step, fault));
            // A share creation the server failed or whose answer was lost is looked up, and
            // made again if it is not there: the create succeeds with two links, no third.
            let recovers = matches!(step, Step::CreateShare { .. })
                && matches!(fault, Fault::Status(500) | Fault::DropConnection);
            if recovers {
                let record = host
                    .create(&room)
                    .await
                    .unwrap_or_else(|e| panic!("{step:?}/{fault:?}: {e}"))
                    .record;
                let shares = standin.shares_on(&record.path);
                assert_eq!(shares.len(), 2, "{step:?}/{fault:?}: {shares:?}");
                assert!(host.delete(&room, false).await.unwrap().deleted());
                assert!(standin.storage().shares.is_empty());
                cells += 1;
                continue;
            }
            let error = host
                .create(&room)
                .await
                .expect_err("the fault fails the create");
            let wit = error
                .provider_error()
                .unwrap_or_else(|| panic!("{step:?}/{fault:?}: {error}"));
            assert!(expected(fault)(wit), "{step:?}/{fault:?}: got {error}");
            // A slow answer still lands on the server after the client gave up: wait for it.
            if let Fault::SlowAnswer(delay) = fault {
                tokio::time::sleep(delay).await;
            }
            let storage = standin.storage();
            assert!(
                !storage
                    .nodes
                    .keys()
                    .any(|p| p.starts_with(&format!("opentalk/meetings/{room}"))),
                "{step:?}/{fault:?}: folder left behind: {:?}",
                storage.nodes.keys().collect::<Vec<_>>()
            );
            assert!(
                storage.shares.is_empty(),
                "{step:?}/{fault:?}: shares left: {:?}",
                storage.shares
            );
            assert!(host.folder(&room).await.unwrap().is_none());
            cells += 1;
        }
    }
    assert_eq!(cells, 9);
    // And the host still serves.
    standin.clear_faults();
    host.create("after-faults")
        .await
        .expect("serving after faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_share_rate_limit_fails_cleanly() {
    // docs/nextcloud-behaviour.md, "Share rate limit": the 21st share in ten minutes gets 429.
    let options = Options {
        share_rate_limit: Some(20),
        ..Options::default()
    };
    let standin = StandIn::start(options).await.unwrap();
    let host = TestHost::on(&standin).build();
    for i in 0..10 {
        host.create(&format!("room-{i}")).await.unwrap();
    }
    let error = host.create("room-10").await.unwrap_err();
    assert!(
        matches!(
            error.provider_error(),
            Some(ProviderError::Remote { status: 429, .. })
        ),
        "{error}"
    );
    assert!(!standin.folder_exists("opentalk/meetings/room-10"));
    assert_eq!(standin.storage().shares.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_reported_as_such_without_the_password() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::at(
        &standin.url(),
        &standin.options().username,
        "wrong-Password-1234",
    )
    .build();
    let error = host.create("room").await.unwrap_err();
    assert!(
        matches!(error.provider_error(), Some(ProviderError::Unauthorized(_))),
        "{error}"
    );
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("wrong-Password-1234"), "{shown}");
    assert!(standin.storage().nodes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_settings_name_the_field() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    for (extra, field) in [
        ("expiry = 0", "expiry"),
        ("expiry = \"7\"", "expiry"),
        ("directry = \"x\"", "directry"),
    ] {
        let host = TestHost::on(&standin).line(extra).build();
        let error = host.create("room").await.unwrap_err();
        match error.provider_error() {
            Some(ProviderError::InvalidConfig(e)) => assert_eq!(e.field, field, "{extra}"),
            _ => panic!("{extra}: {error}"),
        }
    }
    let host = TestHost::on(&standin).directory("a/../b").build();
    let error = host.create("room").await.unwrap_err();
    assert!(
        matches!(error.provider_error(), Some(ProviderError::InvalidConfig(e)) if e.field == "directory"),
        "{error}"
    );
    assert!(
        standin.seen().is_empty(),
        "nothing was sent with a bad configuration"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delete_keeps_the_record_for_a_retry() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin).build();
    host.create("room").await.unwrap();
    // DELETE is retried on transient failures: four 503s exhaust the attempts
    // (`nextcloud_provider::retry::ATTEMPTS`).
    for _ in 0..4 {
        standin.inject(FaultRule {
            step: Step::DeleteFolder,
            nth: 0,
            fault: Fault::Status(503),
        });
    }
    let error = host.delete("room", false).await.unwrap_err();
    assert!(error.kind() == ErrorKind::Remote(503), "{error}");
    // The record stays while the folder does, marked as being deleted: no links are shown
    // (they may already be gone), and the next delete finishes the job.
    assert!(host.folder("room").await.unwrap().is_none());
    assert!(standin.folder_exists("opentalk/meetings/room"));
    standin.clear_faults();
    assert!(
        host.delete("room", false).await.unwrap().deleted(),
        "the record was kept"
    );
    assert!(!standin.folder_exists("opentalk/meetings/room"));
}

/// The sequences that once blocked a room for good under load (rooms 740 and 741): a share
/// refused with 401 — a refusal that says nothing was made — and then the provider's own
/// clean-up defeated (its folder DELETE refused, with a 409, or with a 401 as well: the
/// credentials revoked midway). Reported as it was, the host would forget the room and the
/// folder left would answer every later create with "exists". The provider reports the failed
/// clean-up instead, naming the refusal, so the host purges the room at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_share_whose_clean_up_fails_too_does_not_block_the_room() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let host = TestHost::on(&standin).build();
    for (room, cleanup) in [("room-740", 409), ("room-741", 401)] {
        standin.inject(FaultRule::at(
            Step::CreateShare { permissions: 1 },
            Fault::Status(401),
        ));
        standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(cleanup)));
        let error = host.create(room).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Remote(cleanup), "{room}: {error}");
        assert!(error.to_string().contains("cleaning up after"), "{error}");
        let path = format!("opentalk/meetings/{room}");
        assert!(!standin.folder_exists(&path));
        assert!(standin.shares_on(&path).is_empty());
        let record = host.create(room).await.unwrap().record;
        assert_eq!(record.path, path);
    }
}
