//! The same harness for every provider: each test below runs against the NextCloud provider on
//! the NextCloud stand-in, against the same component as `owncloud` on the stand-in answering as
//! ownCloud 10, and against the OpenCloud provider on the OpenCloud stand-in (`every_provider!`
//! makes one `#[tokio::test]` per provider). Then switching storage from one to the other while
//! serving.

use std::sync::Arc;
use std::time::Duration;

use shared_folder_harness::stand_ins::{Action, AnyStandIn, Kind};
use shared_folder_harness::{Fault, test_limits};
use shared_folder_host::runtime::Contract;
use shared_folder_host::{ErrorKind, Limits, NEXTCLOUD_PROVIDER, Records, Role};

/// One test per provider, named `<test>::nextcloud`, `<test>::owncloud` and `<test>::opencloud`.
macro_rules! every_provider {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn nextcloud() {
                super::$test(super::Kind::NextCloud).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn owncloud() {
                super::$test(super::Kind::OwnCloud).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn opencloud() {
                super::$test(super::Kind::OpenCloud).await;
            }
        }
    )*};
}

mod recovery;

every_provider!(
    create_and_delete,
    delete_from_trash_leaves_nothing_in_the_trash_bin,
    roles,
    a_refused_link_leaves_nothing_behind,
    a_lost_answer_is_sent_again,
    a_lost_create_is_purged,
    calls_are_confined,
    a_swap_keeps_each_room_with_its_maker,
);

const DIRECTORY: &str = "opentalk/meetings";

/// With `delete_from_trash`, a room's delete leaves nothing of it in the trash bin: neither
/// the folder nor a file a participant deleted from it through the read-write link earlier;
/// another room's entry stays. Without it, the folder stays there.
async fn delete_from_trash_leaves_nothing_in_the_trash_bin(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().line("delete_from_trash = true").build();
    let record = host.create("room-1").await.unwrap().record;
    let rw = &record.read_write;
    for (method, body, status) in [("PUT", &b"1."[..], 201), ("DELETE", b"", 204)] {
        let answer = standin.use_link(rw, method, "agenda.txt", body).await;
        assert_eq!(answer, Ok(status), "{method} through the read-write link");
    }
    standin.make_folder(&format!("{DIRECTORY}/room-10"));
    standin.move_to_trash(&format!("{DIRECTORY}/room-10"));
    assert_eq!(
        standin.trash_locations().len(),
        2,
        "{:?}",
        standin.trash_locations()
    );
    assert!(host.delete("room-1", false).await.unwrap().deleted());
    assert_eq!(
        standin.trash_locations(),
        [format!("{DIRECTORY}/room-10")],
        "what room-1 left is gone, room-10's stays"
    );

    let kept = standin.host().build();
    let record = kept.create("room-2").await.unwrap().record;
    assert!(kept.delete("room-2", false).await.unwrap().deleted());
    assert!(standin.trash_locations().contains(&record.path));
}

async fn create_and_delete(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().line("expiry = 7").build();
    let record = host.create("room-1").await.unwrap().record;
    assert_eq!(record.maker.provider, kind.provider());
    assert_eq!(record.maker.contract, Contract::V0_4);
    assert_eq!(record.path, format!("{DIRECTORY}/room-1"));
    assert!(standin.folder_exists(&record.path));

    let links = standin.links_on(&record.path);
    assert_eq!(links.len(), 2, "{links:?}");
    for (link, writable) in [(&record.read, false), (&record.read_write, true)] {
        let stored = links
            .iter()
            .find(|l| link.url.ends_with(&format!("/s/{}", l.token)))
            .unwrap_or_else(|| panic!("{} is on the storage: {links:?}", link.url));
        assert_eq!(stored.writable, writable);
        assert_eq!(stored.password.as_deref(), Some(link.password.expose()));
        assert!(link.password.expose().len() >= 16);
    }
    assert_ne!(record.read.password, record.read_write.password);

    // As participants use them.
    let put = |link, file| standin.use_link(link, "PUT", file, b"minutes");
    assert_eq!(put(&record.read_write, "agenda.txt").await, Ok(201));
    assert_eq!(
        standin
            .use_link(&record.read, "GET", "agenda.txt", b"")
            .await,
        Ok(200)
    );
    let refused = put(&record.read, "notes.txt").await.unwrap();
    assert!(
        matches!(refused, 401 | 403),
        "a read-only link took an upload: {refused}"
    );

    assert!(host.delete("room-1", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
    assert_eq!(standin.link_count(), 0);
    assert_eq!(host.folder("room-1").await.unwrap(), None);
    // Again: nothing to do.
    assert!(!host.delete("room-1", false).await.unwrap().deleted());
}

async fn roles(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().build();
    let record = host.create("room").await.unwrap().record;
    let moderator = host.access("room", Role::Moderator).await.unwrap();
    let participant = host.access("room", Role::Participant).await.unwrap();
    assert_eq!(moderator.read.url, record.read.url);
    assert_eq!(
        moderator.read_write.as_ref().map(|l| &l.url),
        Some(&record.read_write.url)
    );
    assert_eq!(participant.read.url, record.read.url);
    assert!(participant.read_write.is_none());
    let granted = host
        .role_changed("room", Role::Participant, Role::Moderator)
        .await
        .unwrap()
        .expect("a grant is an update");
    assert!(granted.read_write.is_some());
    let revoked = host
        .role_changed("room", Role::Moderator, Role::Participant)
        .await
        .unwrap()
        .expect("a revoke is an update");
    assert!(revoked.read_write.is_none());
    assert_eq!(
        host.role_changed("room", Role::Participant, Role::Participant)
            .await
            .unwrap(),
        None
    );
    host.delete("room", false).await.unwrap();
}

async fn a_refused_link_leaves_nothing_behind(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().build();
    for (room, action) in [
        ("read-refused", Action::CreateReadLink),
        ("rw-refused", Action::CreateReadWriteLink),
    ] {
        standin.inject(action, 0, Fault::Status(400));
        let error = host.create(room).await.unwrap_err();
        standin.clear_faults();
        assert_eq!(error.kind(), ErrorKind::Remote(400), "{error}");
        // All or nothing: the other link and the folder went again.
        assert!(
            !standin.folder_exists(&format!("{DIRECTORY}/{room}")),
            "{room}"
        );
        assert_eq!(standin.link_count(), 0, "{room}");
        assert_eq!(host.room_state(room).await.unwrap(), None);
    }
    // The storage still serves the next room.
    host.create("after").await.unwrap();
    host.delete("after", false).await.unwrap();
}

async fn a_lost_answer_is_sent_again(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let host = standin.host().build();
    let record = host.create("room").await.unwrap().record;
    // The folder's DELETE is done, but its answer is lost: sent again, it finds it gone.
    standin.inject(Action::DeleteFolder, 0, Fault::DropConnection);
    standin.inject(Action::DeleteLink, 1, Fault::Unavailable { retry_after: 1 });
    assert!(host.delete("room", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&record.path));
    assert_eq!(standin.link_count(), 0);
}

async fn a_lost_create_is_purged(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    let made = {
        let host = standin.host().build();
        host.create("room").await.unwrap().record
    };
    // The host that made it stopped before recording it: only a pending row.
    Records::open(&database)
        .unwrap()
        .begin_create("room", &made.maker)
        .await
        .unwrap();
    let host = standin
        .host()
        .records(Records::open(&database).unwrap())
        .build();
    assert_eq!(host.reconcile().await.unwrap().lost_creates, 1);
    assert!(!standin.folder_exists(&made.path));
    assert_eq!(standin.link_count(), 0);
    assert_eq!(host.room_state("room").await.unwrap(), None);
}

async fn calls_are_confined(kind: Kind) {
    let standin = AnyStandIn::start(kind).await;
    // Every request reached the storage with the host's credentials; the component has none.
    let host = standin.host().build();
    standin.forget_seen();
    host.create("room").await.unwrap();
    host.delete("room", false).await.unwrap();
    let (seen, authenticated) = standin.requests();
    assert!(seen >= 4, "{seen}");
    assert_eq!(authenticated, seen);

    // Too little time: stopped at the deadline while the read-write link's answer is on its
    // way (the storage made the link, then answers after 5 s). Whatever it made is purged — by
    // the host itself, or, when its own purge runs out of time too, by the next host on its
    // records. (A deadline of a millisecond, without a slow answer, was met by a whole create
    // on a loaded machine: a timer fires only when the runtime gets to it.)
    standin.inject(
        Action::CreateReadWriteLink,
        0,
        Fault::SlowAnswer(Duration::from_secs(5)),
    );
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("records.sqlite3");
    let slow = standin
        .host()
        .limits(Limits {
            call_deadline: Duration::from_millis(300),
            ..test_limits()
        })
        .records(Records::open(&database).unwrap())
        .build();
    let error = slow.create("late").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Deadline, "{error}");
    let host = standin
        .host()
        .records(Records::open(&database).unwrap())
        .build();
    host.reconcile().await.unwrap();
    assert_eq!(host.room_state("late").await.unwrap(), None);
    assert!(!standin.folder_exists(&format!("{DIRECTORY}/late")));
    assert_eq!(standin.link_count(), 0);
}

async fn a_swap_keeps_each_room_with_its_maker(kind: Kind) {
    // Swapped to the fixture and back while creates run: every room is deleted by its maker.
    let standin = AnyStandIn::start(kind).await;
    let host = Arc::new(standin.host().build());
    let first = host.create("before").await.unwrap().record;
    host.runtime()
        .swap_provider("fixture", shared_folder_harness::FIXTURE_PROVIDER)
        .await
        .unwrap();
    let fixture = host.create("during").await.unwrap().record;
    assert_eq!(fixture.maker.provider, "fixture");
    assert!(host.delete("before", false).await.unwrap().deleted());
    assert!(!standin.folder_exists(&first.path));
    assert_eq!(standin.link_count(), 0);
    assert!(host.delete("during", false).await.unwrap().deleted());
}

/// Switching storage while serving, NextCloud → OpenCloud: new rooms go to OpenCloud, the
/// NextCloud room stays served and is deleted on NextCloud, with the settings that made it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_from_nextcloud_to_opencloud_while_serving_leaves_rooms_on_both() {
    let nextcloud = AnyStandIn::start(Kind::NextCloud).await;
    let opencloud = AnyStandIn::start(Kind::OpenCloud).await;
    let host = Arc::new(nextcloud.host().build());
    let on_nextcloud = host.create("room-nc").await.unwrap().record;

    // A create in flight while the configuration changes finishes where it started.
    let in_flight = {
        let host = Arc::clone(&host);
        tokio::spawn(async move { host.create("room-in-flight").await })
    };
    let switched = host
        .runtime()
        .reconfigure(
            opencloud.host().config(),
            shared_folder_host::runtime::OPENCLOUD_PROVIDER,
        )
        .await
        .unwrap();
    assert_eq!(switched.name, "opencloud");
    let in_flight = in_flight.await.unwrap().unwrap().record;
    let on_opencloud = host.create("room-oc").await.unwrap().record;
    assert_eq!(on_opencloud.maker.provider, "opencloud");
    assert!(opencloud.folder_exists(&on_opencloud.path));
    assert!(!nextcloud.folder_exists(&on_opencloud.path));
    for record in [&on_nextcloud, &in_flight] {
        let holder = match record.maker.provider.as_str() {
            "nextcloud" => &nextcloud,
            _ => &opencloud,
        };
        assert!(holder.folder_exists(&record.path), "{}", record.room);
    }

    // Both are served: roles from the records, deletes by their makers.
    assert!(
        host.access("room-nc", Role::Moderator)
            .await
            .unwrap()
            .read_write
            .is_some()
    );
    for room in ["room-nc", "room-in-flight", "room-oc"] {
        assert!(host.delete(room, false).await.unwrap().deleted(), "{room}");
    }
    for standin in [&nextcloud, &opencloud] {
        assert_eq!(standin.link_count(), 0);
    }
    assert!(!nextcloud.folder_exists(&on_nextcloud.path));
    assert!(!opencloud.folder_exists(&on_opencloud.path));

    // And back: the NextCloud settings, known already, serve new rooms again.
    let back = host
        .runtime()
        .reconfigure(nextcloud.host().config(), NEXTCLOUD_PROVIDER)
        .await
        .unwrap();
    assert_eq!(back.name, "nextcloud");
    let again = host.create("room-nc-2").await.unwrap().record;
    assert!(nextcloud.folder_exists(&again.path));
    host.delete("room-nc-2", false).await.unwrap();
    assert_eq!(host.room_state("room-nc-2").await.unwrap(), None);
}
