//! `shared-folder-host serve`, end to end: the REST API's status codes, participants'
//! WebSockets with role changes, restarts, a crash in the middle of a create, and graceful
//! shutdown.

use std::time::Duration;

use crate::common::{Server, Setup, eventually};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shared_folder_test_support::{Fault, FaultRule, Options, StandIn, Step};
use tokio_tungstenite::tungstenite::Message;

const FOLDER: &str = "/v1/events/room-1/shared_folder";

async fn standin(options: Options) -> StandIn {
    StandIn::start(options).await.expect("stand-in starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_calls_answer_as_opentalk_does() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();

    let health = server.call_as(None, "GET", "/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["provider"]["name"], "nextcloud");
    assert_eq!(health.json()["provider"]["contract"], "0.4");

    // No token, or a wrong one: 401 with a JSON body, nothing done.
    for token in [None, Some("wrong-token-0123456789")] {
        let refused = server.call_as(token, "PUT", FOLDER, None).await;
        assert_eq!(refused.status, 401);
        assert_eq!(refused.json()["code"], "unauthorized");
        assert_eq!(refused.headers["www-authenticate"], "Bearer");
    }
    assert!(standin.seen().is_empty());

    let missing = server.call("GET", FOLDER, None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "not_found");

    let created = server.call("PUT", FOLDER, None).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let view = created.json();
    assert!(view["read_write"]["password"].is_string(), "{view}");
    let again = server.call("PUT", FOLDER, None).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), view);
    assert_eq!(standin.storage().shares.len(), 2);

    let moderator = server
        .call("GET", &format!("{FOLDER}?role=moderator"), None)
        .await;
    assert_eq!(moderator.json(), view);
    for query in ["", "?role=participant"] {
        let participant = server.call("GET", &format!("{FOLDER}{query}"), None).await;
        assert_eq!(participant.status, 200);
        assert_eq!(participant.json(), json!({"read": view["read"]}));
    }
    let bad_role = server
        .call("GET", &format!("{FOLDER}?role=owner"), None)
        .await;
    assert_eq!(bad_role.status, 400);

    let invalid = server
        .call("PUT", "/v1/events/..%2Fescape/shared_folder", None)
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.text());
    assert_eq!(invalid.json()["code"], "invalid_room");

    // The storage fails the delete: 502, and the record stays, marked as being deleted: the
    // links are no longer shown (they went before the folder's DELETE failed). Forced: 204
    // and the record goes.
    // Twice: the provider asks a folder DELETE refused with 403 once more (a busy ownCloud's).
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    let failed = server.call("DELETE", FOLDER, None).await;
    assert_eq!(failed.status, 502, "{}", failed.text());
    assert_eq!(failed.json()["code"], "storage_error");
    assert_eq!(server.call("GET", FOLDER, None).await.status, 404);
    // Twice: the provider asks a folder DELETE refused with 403 once more (a busy ownCloud's).
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    standin.inject(FaultRule::at(Step::DeleteFolder, Fault::Status(403)));
    let forced = server
        .call(
            "DELETE",
            &format!("{FOLDER}?force_delete_reference_if_shared_folder_deletion_fails=true"),
            None,
        )
        .await;
    assert_eq!(forced.status, 204, "{}", forced.text());
    assert_eq!(server.call("GET", FOLDER, None).await.status, 404);
    // Forcing dropped the reference only: the folder is still on the storage, and the host
    // does not adopt it (it could hold anybody's files).
    assert!(standin.folder_exists("opentalk/meetings/room-1"));
    let conflict = server.call("PUT", FOLDER, None).await;
    assert_eq!(conflict.status, 409, "{}", conflict.text());
    assert_eq!(conflict.json()["code"], "conflict");

    // A normal delete, and a delete of nothing: 204 both.
    let other = "/v1/events/room-2/shared_folder";
    assert_eq!(server.call("PUT", other, None).await.status, 201);
    assert_eq!(server.call("DELETE", other, None).await.status, 204);
    assert!(!standin.folder_exists("opentalk/meetings/room-2"));
    assert_eq!(server.call("DELETE", other, None).await.status, 204);

    let secret = &standin.options().password;
    assert!(!server.log().contains(secret.as_str()), "{}", server.log());
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A participant's session: a ticket from the controller, then the WebSocket.
async fn join(server: &Server, room: &str, participant: &str, role: &str) -> (Socket, Value) {
    let ticket = server
        .call(
            "POST",
            &format!("/v1/events/{room}/tickets"),
            Some(json!({"participant": participant, "role": role})),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text());
    let ticket = ticket.json()["ticket"].as_str().unwrap().to_owned();
    let url = server.ws_url(&format!("/v1/events/{room}/signaling?ticket={ticket}"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("joins");
    let welcome = next(&mut socket).await;
    (socket, welcome)
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

async fn nothing_within(socket: &mut Socket, wait: Duration) -> bool {
    tokio::time::timeout(wait, socket.next()).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_see_what_their_role_allows_as_it_changes() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();

    // Joined before the folder exists: no shared_folder in join_success.
    let (mut early, welcome) = join(&server, "room-1", "early", "participant").await;
    assert_eq!(welcome["namespace"], "control");
    assert_eq!(welcome["payload"]["message"], "join_success");
    assert!(
        welcome["payload"].get("shared_folder").is_none(),
        "{welcome}"
    );

    let view = server.call("PUT", FOLDER, None).await.json();
    // Created during the meeting: everyone gets their view.
    let update = next(&mut early).await;
    assert_eq!(update["namespace"], "shared_folder");
    assert_eq!(update["payload"]["message"], "updated");
    assert_eq!(update["payload"]["read"], view["read"]);
    assert!(update["payload"].get("read_write").is_none(), "{update}");

    let (mut moderator, welcome) = join(&server, "room-1", "mod", "moderator").await;
    assert_eq!(welcome["payload"]["shared_folder"], view);
    let (mut alice, welcome) = join(&server, "room-1", "alice", "participant").await;
    assert_eq!(
        welcome["payload"]["shared_folder"],
        json!({"read": view["read"]})
    );
    assert!(!welcome.to_string().contains("read_write"));

    // Alice asks for her view, claiming to be a moderator: she still gets read only.
    alice
        .send(Message::Text(
            json!({"namespace": "shared_folder", "payload": {"action": "refresh", "role": "moderator"}})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let refreshed = next(&mut alice).await;
    assert_eq!(refreshed["payload"]["message"], "updated");
    assert!(!refreshed.to_string().contains("read_write"), "{refreshed}");
    assert!(
        !refreshed
            .to_string()
            .contains(view["read_write"]["password"].as_str().unwrap())
    );
    alice
        .send(Message::Text(
            "{\"namespace\":\"control\",\"payload\":{\"action\":\"promote\"}}".into(),
        ))
        .await
        .unwrap();
    assert_eq!(next(&mut alice).await["payload"]["error"], "unknown_action");

    // The controller grants Alice moderator rights: she alone gets the read-write link.
    let role = "/v1/events/room-1/participants/alice/role";
    let granted = server
        .call("PUT", role, Some(json!({"role": "moderator"})))
        .await;
    assert_eq!(granted.status, 204);
    let update = next(&mut alice).await;
    assert_eq!(update["payload"]["read_write"], view["read_write"]);
    assert!(nothing_within(&mut moderator, Duration::from_millis(300)).await);
    assert!(nothing_within(&mut early, Duration::from_millis(100)).await);

    // … and revokes them: read only again.
    server
        .call("PUT", role, Some(json!({"role": "participant"})))
        .await;
    let update = next(&mut alice).await;
    assert_eq!(
        update["payload"],
        json!({"message": "updated", "read": view["read"]})
    );

    // Deleted during the meeting: everyone hears of it.
    assert_eq!(server.call("DELETE", FOLDER, None).await.status, 204);
    for socket in [&mut early, &mut moderator, &mut alice] {
        assert_eq!(next(socket).await["payload"]["message"], "deleted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_admit_once_to_one_room_and_only_from_the_controller() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();

    // Only the controller gets tickets and sets roles.
    let body = json!({"participant": "mallory", "role": "moderator"});
    let no_token = server
        .call_as(
            None,
            "POST",
            "/v1/events/room-1/tickets",
            Some(body.clone()),
        )
        .await;
    assert_eq!(no_token.status, 401);
    let promote = server
        .call_as(
            None,
            "PUT",
            "/v1/events/room-1/participants/mallory/role",
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(promote.status, 401);

    let ticket = server
        .call("POST", "/v1/events/room-1/tickets", Some(body))
        .await
        .json()["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    // For another room: refused (and used up).
    let other = server.ws_url(&format!("/v1/events/room-2/signaling?ticket={ticket}"));
    assert!(tokio_tungstenite::connect_async(other).await.is_err());
    let here = server.ws_url(&format!("/v1/events/room-1/signaling?ticket={ticket}"));
    assert!(
        tokio_tungstenite::connect_async(here.clone())
            .await
            .is_err()
    );

    let ticket = server
        .call(
            "POST",
            "/v1/events/room-1/tickets",
            Some(json!({"participant": "bob", "role": "participant"})),
        )
        .await
        .json()["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = server.ws_url(&format!("/v1/events/room-1/signaling?ticket={ticket}"));
    let (_socket, _) = tokio_tungstenite::connect_async(url.clone())
        .await
        .expect("first use admits");
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "second use refused"
    );
    let forged = server.ws_url("/v1/events/room-1/signaling?ticket=made-up");
    assert!(tokio_tungstenite::connect_async(forged).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_an_outage_left_behind_is_purged_once_the_storage_is_back() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "reconcile_interval = 1");
    let server = setup.serve();
    // The storage goes away while the read-write share is created, for longer than the
    // provider's look-up of the shares, its clean-up and the host's purge keep trying (each
    // request 4 times over 1.75 s: about 7 s in all).
    standin.inject(FaultRule::at(
        Step::CreateShare { permissions: 15 },
        Fault::Outage(Duration::from_secs(12)),
    ));
    let failed = server.call("PUT", FOLDER, None).await;
    assert_eq!(failed.status, 502, "{}", failed.text());
    assert!(
        standin.folder_exists("opentalk/meetings/room-1"),
        "the folder could not be taken away during the outage"
    );
    assert_eq!(server.call("GET", FOLDER, None).await.status, 404);
    // Back after the outage: `serve` purges it without a restart or another call.
    let purged = eventually(Duration::from_secs(30), || {
        !standin.folder_exists("opentalk/meetings/room-1") && standin.storage().shares.is_empty()
    })
    .await;
    assert!(purged, "left behind: {:?}", standin.storage());
    // The log line follows the purge; it reaches the test through a pipe a moment later.
    assert!(
        eventually(Duration::from_secs(5), || server
            .log()
            .contains("lost creates cleaned up"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(server.call("PUT", FOLDER, None).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_a_restart_and_shutdown_lets_calls_finish() {
    let standin = standin(Options {
        latency: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    let view = server.call("PUT", FOLDER, None).await.json();
    let (mut socket, _) = join(&server, "room-1", "p", "participant").await;

    // A create in flight when SIGTERM arrives still finishes, with its answer.
    standin.forget_seen();
    let in_flight = server.put_in_background("/v1/events/room-2/shared_folder");
    assert!(eventually(Duration::from_secs(5), || !standin.seen().is_empty()).await);
    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "{status}");
    let reply = in_flight.await.unwrap().expect("answered");
    assert_eq!(reply.status, 201, "{}", reply.text());
    // The WebSocket was closed by the server.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "socket closed at shutdown");

    // A new process on the same database serves the same records.
    let server = setup.serve();
    let moderator = server
        .call("GET", &format!("{FOLDER}?role=moderator"), None)
        .await;
    assert_eq!(moderator.json(), view);
    let second = server
        .call("GET", "/v1/events/room-2/shared_folder", None)
        .await;
    assert_eq!(second.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_the_middle_of_a_create_leaves_no_orphan() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    setup.edit("answer_timeout = 2", "answer_timeout = 30");
    // The read-write share is made, then its answer is held back: the host is killed while
    // it waits, after the folder and both shares exist and before the record is written.
    standin.inject(FaultRule::at(
        Step::CreateShare { permissions: 15 },
        Fault::SlowAnswer(Duration::from_secs(20)),
    ));
    let server = setup.serve();
    let call = server.put_in_background(FOLDER);
    let both_shares = || standin.storage().shares.len() == 2;
    assert!(eventually(Duration::from_secs(10), both_shares).await);
    server.kill();
    let outcome = call.await.unwrap();
    assert!(outcome.is_err(), "the call died with the host: {outcome:?}");
    assert!(
        standin.folder_exists("opentalk/meetings/room-1"),
        "the kill left a folder behind"
    );

    // The next start purges it before serving.
    let server = setup.serve();
    assert!(!standin.folder_exists("opentalk/meetings/room-1"));
    assert!(
        standin.storage().shares.is_empty(),
        "{:?}",
        standin.storage().shares
    );
    assert_eq!(server.call("GET", FOLDER, None).await.status, 404);
    assert!(server.log().contains("lost create"), "{}", server.log());
    assert_eq!(server.call("PUT", FOLDER, None).await.status, 201);
    assert_eq!(standin.storage().shares.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_that_demotes_a_moderator_takes_the_read_write_link_from_their_session() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    let view = server.call("PUT", FOLDER, None).await.json();
    let (mut session, welcome) = join(&server, "room-1", "alice", "moderator").await;
    assert_eq!(welcome["payload"]["shared_folder"], view);
    // The create's room event may reach the session after its join: it is older than the
    // join (the room's version the session joined at), and nothing of it is sent.
    assert!(
        crate::common::sessions::nothing_within(&mut session, Duration::from_millis(300)).await
    );

    // The controller issues Alice a participant ticket (she may join from another device):
    // her open session loses the read-write link at once.
    let ticket = server
        .call(
            "POST",
            "/v1/events/room-1/tickets",
            Some(json!({"participant": "alice", "role": "participant"})),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text());
    let update = next(&mut session).await;
    assert_eq!(
        update["payload"],
        json!({"message": "updated", "read": view["read"]})
    );
    // Asking again shows the same.
    session
        .send(Message::Text(
            json!({"namespace": "shared_folder", "payload": {"action": "refresh"}})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let refreshed = next(&mut session).await;
    assert!(!refreshed.to_string().contains("read_write"), "{refreshed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_closes_the_session_with_1009() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    let (mut session, _) = join(&server, "room-1", "p", "participant").await;
    let big = "x".repeat(100_000);
    let _ = session.send(Message::Text(big.into())).await;
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match session.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => {}
                None | Some(Err(_)) => break None,
            }
        }
    })
    .await
    .expect("the server closes the session");
    let frame = close.expect("with a close frame");
    assert_eq!(u16::from(frame.code), 1009, "{frame:?}");
    // The service goes on.
    let (_other, welcome) = join(&server, "room-1", "q", "participant").await;
    assert_eq!(welcome["payload"]["message"], "join_success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_the_middle_of_a_delete_is_finished_by_the_next_start() {
    let standin = standin(Options::default()).await;
    let setup = Setup::new(&standin, "");
    setup.edit("answer_timeout = 2", "answer_timeout = 30");
    let server = setup.serve();
    assert_eq!(server.call("PUT", FOLDER, None).await.status, 201);
    // The folder's DELETE is carried out, then its answer is held back: the host is killed
    // while it waits, after the storage removed everything and before the record went.
    standin.inject(FaultRule::at(
        Step::DeleteFolder,
        Fault::SlowAnswer(Duration::from_secs(20)),
    ));
    let call = {
        let url = server.url(FOLDER);
        tokio::spawn(async move {
            let bearer = format!("Bearer {}", crate::common::TOKEN);
            shared_folder_test_support::client::send(
                "DELETE",
                &url,
                None,
                &[("authorization", &bearer)],
                b"",
            )
            .await
        })
    };
    let gone = || !standin.folder_exists("opentalk/meetings/room-1");
    assert!(eventually(Duration::from_secs(10), gone).await);
    server.kill();
    assert!(call.await.unwrap().is_err(), "the call died with the host");
    assert!(standin.storage().shares.is_empty());

    // The next start finishes the delete: no dead links are shown, the room is free again.
    let server = setup.serve();
    assert_eq!(server.call("GET", FOLDER, None).await.status, 404);
    assert_eq!(
        server.call_as(None, "GET", "/health", None).await.json()["folders"],
        0
    );
    assert!(
        eventually(Duration::from_secs(5), || server
            .log()
            .contains("shared folder deleted"))
        .await,
        "{}",
        server.log()
    );
    assert_eq!(server.call("PUT", FOLDER, None).await.status, 201);
    assert_eq!(standin.storage().shares.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_that_do_not_point_at_the_url_are_warned_about_at_every_create() {
    // As a NextCloud behind a TLS proxy that was not told about it builds them (`18-…`).
    let standin = standin(Options {
        link_base: Some("http://cloud.invalid:8080".into()),
        ..Options::default()
    })
    .await;
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    assert_eq!(server.call("PUT", FOLDER, None).await.status, 201);
    assert_eq!(
        server
            .call("PUT", "/v1/events/room-2/shared_folder", None)
            .await
            .status,
        201
    );
    let warned = || {
        server
            .log()
            .matches("do not point at the configured url")
            .count()
    };
    assert!(
        eventually(Duration::from_secs(5), || warned() == 2).await,
        "{}",
        server.log()
    );
    assert!(
        server.log().contains("overwriteprotocol"),
        "{}",
        server.log()
    );
    assert!(
        server.log().contains("http://cloud.invalid:8080"),
        "{}",
        server.log()
    );
}
