//! Deleting a room's folder as a real NextCloud needs it: links first, then the folder, never
//! both at once (NextCloud locks a folder while its shares are deleted); a locked folder is
//! tried again; a link that could not be deleted keeps its folder; the trash bin kept or
//! emptied as configured (docs/nextcloud-behaviour.md, "Deleting: links first, then the folder",
//! "Locking", "Trash bin").

use std::time::Duration;

use shared_folder_harness::{
    Fault, FaultRule, Options, StandIn, Step, TestHost, public_link, standin_and_host,
};
use shared_folder_host::runtime::ProviderError;
use shared_folder_host::{Records, RoomState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_is_deleted_only_after_its_links_so_it_is_never_locked() {
    // A share's DELETE holds its folder's lock for 100 ms: a folder DELETE sent meanwhile
    // would be answered 423, as on the real server.
    let (standin, host) = standin_and_host(
        Options {
            lock_hold: Duration::from_millis(100),
            ..Options::default()
        },
        "",
    )
    .await;
    for round in 0..5 {
        let room = format!("room-{round}");
        host.create(&room).await.unwrap();
        standin.forget_seen();
        assert!(host.delete(&room, false).await.unwrap().deleted());
        let seen: Vec<String> = standin
            .seen()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen[..2].iter().all(|r| r.contains("/shares/")), "{seen:?}");
        assert!(seen[2].contains("/remote.php/dav/files/"), "{seen:?}");
    }
    assert_eq!(standin.locked_answers(), 0, "no request ran into a lock");
    assert!(standin.storage().shares.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_folder_is_tried_again_until_the_lock_is_gone() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    host.create("room").await.unwrap();
    for _ in 0..2 {
        standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Locked));
    }
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert_eq!(standin.locked_answers(), 2);
    assert!(!standin.folder_exists("opentalk/meetings/room"));
    // A MKCOL that meets a lock is tried again too.
    standin.inject(FaultRule::at(Step::Mkcol, Fault::Locked));
    host.create("room")
        .await
        .expect("the lock is gone by the second try");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_that_could_not_be_deleted_keeps_its_folder_for_a_retry() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    let record = host.create("room").await.unwrap().record;
    // The read-only link's DELETE fails at every attempt: both links' first attempts (sent
    // together), then the read-only one's three retries.
    for _ in 0..5 {
        standin.inject(FaultRule::at(Step::DeleteShare, Fault::Status(500)));
    }
    let error = host.delete("room", false).await.unwrap_err();
    assert!(
        matches!(
            error.provider_error(),
            Some(ProviderError::Remote { status: 500, .. })
        ),
        "{error}"
    );
    // Were the folder deleted now, NextCloud would keep the link and revive it on a restore
    // from the trash bin: so the folder stays, and the record waits for the next delete.
    assert!(standin.folder_exists(&record.path));
    assert!(standin.trash().is_empty());
    assert!(matches!(
        host.room_state("room").await.unwrap(),
        Some(RoomState::Deleting(_))
    ));
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(standin.storage().shares.is_empty());
    assert!(!standin.folder_exists(&record.path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_is_purged_links_first() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    let host = TestHost::on(&standin)
        .records(Records::open(&database).unwrap())
        .build();
    let record = host.create("room").await.unwrap().record;
    // As if the outcome of that create had never been recorded: only the pending row is left,
    // and purge must find the links by the folder.
    let records = Records::open(&database).unwrap();
    records.remove("room").await.unwrap();
    records.begin_create("room", &record.maker).await.unwrap();
    standin.forget_seen();
    assert_eq!(host.reconcile().await.unwrap().lost_creates, 1);
    let seen: Vec<String> = standin.seen().into_iter().map(|r| r.method).collect();
    assert_eq!(
        seen,
        ["GET", "DELETE", "DELETE", "DELETE"],
        "list, two links, folder"
    );
    assert!(standin.storage().shares.is_empty());
    assert!(!standin.folder_exists(&record.path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_folders_stay_in_the_trash_bin_by_default() {
    let (standin, host) = standin_and_host(Options::default(), "").await;
    let record = host.create("room").await.unwrap().record;
    let rw = &record.read_write;
    public_link::nextcloud(
        &rw.url,
        rw.password.expose(),
        "PUT",
        "minutes.txt",
        b"secret",
    )
    .await
    .unwrap();
    assert!(host.delete("room", false).await.unwrap().deleted());
    let trash = standin.trash();
    assert_eq!(trash.len(), 1, "{trash:?}");
    assert_eq!(trash[0].original_location, record.path);
    assert!(trash[0].nodes.contains_key("minutes.txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_from_trash_removes_the_folder_and_its_files_for_good() {
    let (standin, host) = standin_and_host(Options::default(), "delete_from_trash = true").await;
    // Another folder's entry in the trash is none of its business.
    standin.make_folder("opentalk/meetings/other");
    standin.make_folder("unrelated");
    let other = host.create("other-room").await.unwrap().record;
    standin.move_to_trash("unrelated");

    let record = host.create("room").await.unwrap().record;
    let rw = &record.read_write;
    for file in ["a.txt", "b.txt"] {
        public_link::nextcloud(&rw.url, rw.password.expose(), "PUT", file, b"x")
            .await
            .unwrap();
    }
    // A participant deleted a file through the link earlier: it is in the trash too.
    public_link::nextcloud(&rw.url, rw.password.expose(), "DELETE", "b.txt", b"")
        .await
        .unwrap();
    assert_eq!(standin.trash().len(), 2);
    assert!(host.delete("room", false).await.unwrap().deleted());
    let left: Vec<String> = standin
        .trash()
        .into_iter()
        .map(|entry| entry.original_location)
        .collect();
    assert_eq!(left, ["unrelated"], "only the room's entries went");
    assert!(!standin.folder_exists(&record.path));
    assert!(standin.folder_exists(&other.path));

    // A listing that fails keeps the record, and the next delete finishes.
    standin.inject(FaultRule::at(Step::ListTrash, Fault::Status(403)));
    assert!(host.delete("other-room", false).await.is_err());
    assert_eq!(standin.trash().len(), 2, "the folder is in the trash");
    assert!(host.delete("other-room", false).await.unwrap().deleted());
    assert_eq!(standin.trash().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_trash_bin_the_folders_delete_is_final() {
    let (standin, host) = standin_and_host(
        Options {
            trash_bin: false,
            ..Options::default()
        },
        "delete_from_trash = true",
    )
    .await;
    let record = host.create("room").await.unwrap().record;
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
    assert!(standin.trash().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_named_with_characters_outside_the_bmp_work() {
    // The stand-in writes its JSON as PHP does: 😀 as \ud83d\ude00 (`16-…` [1]).
    let (standin, host) = standin_and_host(Options::default(), "").await;
    let room = "acc-räum-😀-会议";
    let record = host.create(room).await.expect("create").record;
    assert_eq!(record.path, format!("opentalk/meetings/{room}"));
    assert_eq!(standin.shares_on(&record.path).len(), 2);
    assert!(host.delete(room, false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
}
