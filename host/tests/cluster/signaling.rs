//! What one host (or a command) does reaches participants' sessions on every host: tickets,
//! role changes, creates and deletes.

use serde_json::json;
use shared_folder_test_support::Options;

use super::fixture::{Cluster, folder};
use crate::common::sessions::{self, next, nothing_within};

const ROOM: &str = "room-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_made_on_a_reaches_a_participant_on_b() {
    let cluster = Cluster::start("role_change", Options::default(), "").await;
    let a = cluster.serve();
    let b = cluster.serve();
    let created = a.call("PUT", &folder(ROOM), None).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let view = created.json();
    let read_only = json!({"read": view["read"]});

    // A ticket issued by A opens a session on B, once: then neither host takes it again.
    let ticket = sessions::ticket(&a, ROOM, "alice", "participant").await;
    let (mut alice, welcome) = sessions::open(&b, ROOM, &ticket).await;
    assert_eq!(welcome["payload"]["shared_folder"], read_only, "{welcome}");
    assert!(
        sessions::refused(&a, ROOM, &ticket).await,
        "used again on A"
    );
    assert!(
        sessions::refused(&b, ROOM, &ticket).await,
        "used again on B"
    );
    // Bob, on A, stays a participant: what happens to Alice is not his.
    let (mut bob, _) = sessions::join(&a, ROOM, "bob", "participant").await;
    // The create's event may reach B after Alice joined: it is older than her join, and she
    // is sent nothing of it.
    assert!(nothing_within(&mut alice, std::time::Duration::from_millis(500)).await);

    let role = format!("/v1/events/{ROOM}/participants/alice/role");
    let granted = a
        .call("PUT", &role, Some(json!({"role": "moderator"})))
        .await;
    assert_eq!(granted.status, 204, "{}", granted.text());
    let update = next(&mut alice).await;
    assert_eq!(update["namespace"], "shared_folder", "{update}");
    assert_eq!(update["payload"]["message"], "updated", "{update}");
    assert_eq!(update["payload"]["read"], view["read"], "{update}");
    assert_eq!(
        update["payload"]["read_write"], view["read_write"],
        "{update}"
    );

    let revoked = b
        .call("PUT", &role, Some(json!({"role": "participant"})))
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let update = next(&mut alice).await;
    assert_eq!(
        update["payload"],
        json!({"message": "updated", "read": view["read"]})
    );
    assert!(nothing_within(&mut bob, std::time::Duration::from_millis(300)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_create_reaches_sessions_on_every_host() {
    let cluster = Cluster::start("cli_create", Options::default(), "").await;
    let a = cluster.serve();
    let b = cluster.serve();
    // Joined before the room has a folder.
    let (mut on_a, welcome) = sessions::join(&a, ROOM, "alice", "participant").await;
    assert!(
        welcome["payload"].get("shared_folder").is_none(),
        "{welcome}"
    );
    let (mut on_b, _) = sessions::join(&b, ROOM, "mod", "moderator").await;

    let created = cluster.run("create", &["--room", ROOM]).await;
    assert_eq!(created.code, Some(0), "{created:?}");
    let made = created.json();
    let link = |update: &serde_json::Value, kind: &str| {
        (
            update["payload"][kind]["url"].clone(),
            update["payload"][kind]["password"].clone(),
        )
    };
    let made_link = |kind: &str| (made[kind]["url"].clone(), made[kind]["password"].clone());
    let update = next(&mut on_a).await;
    assert_eq!(update["payload"]["message"], "updated", "{update}");
    assert_eq!(link(&update, "read"), made_link("read"), "{update}");
    assert!(update["payload"].get("read_write").is_none(), "{update}");
    let update = next(&mut on_b).await;
    assert_eq!(update["payload"]["message"], "updated", "{update}");
    assert_eq!(
        link(&update, "read_write"),
        made_link("read_write"),
        "{update}"
    );
    assert!(a.call("GET", &folder(ROOM), None).await.status == 200);

    let deleted = cluster.run("delete", &["--room", ROOM]).await;
    assert_eq!(deleted.code, Some(0), "{deleted:?}");
    for session in [&mut on_a, &mut on_b] {
        let update = next(session).await;
        assert_eq!(update["payload"]["message"], "deleted", "{update}");
    }
    assert_eq!(b.call("GET", &folder(ROOM), None).await.status, 404);
}
