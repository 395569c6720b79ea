//! Switching storage while serving: `[shared_folder]` changed in the configuration file (seen
//! by the file watcher, or on SIGHUP) serves new rooms from the new storage, while rooms made
//! before stay deletable on the storage that holds them.

use std::time::Duration;

use crate::common::{Setup, eventually};
use shared_folder_test_support::{Options, StandIn};

fn folder(room: &str) -> String {
    format!("/v1/events/{room}/shared_folder")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_storage_serves_new_rooms_and_old_rooms_stay_deletable() {
    let first = StandIn::start(Options::default()).await.unwrap();
    let second = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&first, "");
    let server = setup.serve();
    assert_eq!(
        server.call("PUT", &folder("room-a"), None).await.status,
        201
    );
    assert!(first.folder_exists("opentalk/meetings/room-a"));

    // The file changes: the watcher reloads it, with no signal and no restart.
    setup.edit(&first.url(), &second.url());
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("configuration reloaded"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(
        server.call("PUT", &folder("room-b"), None).await.status,
        201
    );
    assert!(second.folder_exists("opentalk/meetings/room-b"));
    assert!(!first.folder_exists("opentalk/meetings/room-b"));

    // The first storage's room is deleted there, with the first storage's settings.
    assert_eq!(
        server.call("DELETE", &folder("room-a"), None).await.status,
        204
    );
    assert!(!first.folder_exists("opentalk/meetings/room-a"));
    assert!(first.storage().shares.is_empty());
    assert_eq!(
        server.call("DELETE", &folder("room-b"), None).await.status,
        204
    );
    assert!(!second.folder_exists("opentalk/meetings/room-b"));
    assert!(second.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_a_file_the_watcher_cannot_see_and_a_refused_change_keeps_serving() {
    let first = StandIn::start(Options::default()).await.unwrap();
    let second = StandIn::start(Options::default()).await.unwrap();
    let real = Setup::new(&first, "");
    // The service reads the file through a link in another folder: a change of the real file
    // is no event in the watched folder, so only SIGHUP makes it read again.
    let linked = tempfile::tempdir().unwrap();
    let link = linked.path().join("host.toml");
    std::os::unix::fs::symlink(&real.config, &link).unwrap();
    let server = crate::common::Server::start(&link, &[]);

    // A change the provider refuses (its validate: expiry must be at least 1 day).
    real.edit("directory = ", "expiry = 0\ndirectory = ");
    server.hang_up();
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("settings refused by the provider"))
        .await,
        "{}",
        server.log()
    );
    assert!(
        server.log().contains("[shared_folder].expiry"),
        "{}",
        server.log()
    );
    assert_eq!(
        server.call("PUT", &folder("room-a"), None).await.status,
        201
    );
    assert!(
        first.folder_exists("opentalk/meetings/room-a"),
        "the first storage still serves"
    );

    // A good change, on SIGHUP.
    real.edit("expiry = 0\n", "");
    real.edit(&first.url(), &second.url());
    server.hang_up();
    assert!(
        eventually(Duration::from_secs(10), || server
            .log()
            .contains("configuration reloaded"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(
        server.call("PUT", &folder("room-b"), None).await.status,
        201
    );
    assert!(second.folder_exists("opentalk/meetings/room-b"));
    assert_eq!(
        server.call("DELETE", &folder("room-a"), None).await.status,
        204
    );
    assert!(!first.folder_exists("opentalk/meetings/room-a"));
}
