//! The host's records in SQLite: they survive a restart, and a create whose outcome was lost
//! (the host stopped while the provider ran) leaves nothing behind on the storage.

use shared_folder_harness::{Options, StandIn, TestHost};
use shared_folder_host::{Records, SharedFolders};

async fn standin() -> StandIn {
    StandIn::start(Options::default())
        .await
        .expect("stand-in starts")
}

fn host_on(standin: &StandIn, db: &std::path::Path) -> SharedFolders {
    let records = Records::open(db).expect("database opens");
    TestHost::on(standin).records(records).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_a_restart_of_the_host() {
    let standin = standin().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("folders.sqlite3");

    let before = host_on(&standin, &db)
        .create("room-1")
        .await
        .unwrap()
        .record;
    // A new host on the same file: same record, and it can delete what the first one made.
    let host = host_on(&standin, &db);
    assert_eq!(host.folder("room-1").await.unwrap(), Some(before.clone()));
    assert_eq!(
        host.create("room-1").await.unwrap().record,
        before,
        "not made twice"
    );
    assert_eq!(standin.storage().shares.len(), 2);
    assert!(host.delete("room-1", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&before.path));
    assert!(standin.storage().shares.is_empty());
    assert_eq!(host_on(&standin, &db).folder("room-1").await.unwrap(), None);
}

/// A folder with two shares on the storage and only a pending row in the records: what a host
/// killed between the provider's create and the record's write leaves.
async fn lost_create(standin: &StandIn, db: &std::path::Path, room: &str) -> String {
    let elsewhere = TestHost::on(standin).build();
    let made = elsewhere
        .create(room)
        .await
        .expect("create succeeds")
        .record;
    Records::open(db)
        .unwrap()
        .begin_create(room, &made.maker)
        .await
        .unwrap();
    assert!(standin.folder_exists(&made.path));
    assert_eq!(standin.shares_on(&made.path).len(), 2);
    made.path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_lost_midway_is_purged_when_the_host_starts() {
    let standin = standin().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("folders.sqlite3");
    let path = lost_create(&standin, &db, "lost-room").await;

    let host = host_on(&standin, &db);
    assert_eq!(host.reconcile().await.unwrap().lost_creates, 1);
    assert!(!standin.folder_exists(&path), "the orphan folder is gone");
    assert!(
        standin.storage().shares.is_empty(),
        "its shares went with it"
    );
    assert_eq!(host.folder("lost-room").await.unwrap(), None);
    assert!(
        Records::open(&db)
            .unwrap()
            .unfinished()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        host.reconcile().await.unwrap(),
        Default::default(),
        "nothing left to do"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_with_a_lost_create_is_cleaned_before_it_is_made_again() {
    let standin = standin().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("folders.sqlite3");
    let path = lost_create(&standin, &db, "lost-room").await;
    let orphans: Vec<u64> = standin.shares_on(&path).iter().map(|s| s.id).collect();

    let record = host_on(&standin, &db)
        .create("lost-room")
        .await
        .unwrap()
        .record;
    let shares = standin.shares_on(&path);
    assert_eq!(shares.len(), 2, "the new folder's two shares, no more");
    assert!(
        shares.iter().all(|s| !orphans.contains(&s.id)),
        "{shares:?}"
    );
    assert_eq!(record.path, path);
}
