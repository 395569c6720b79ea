//! Every error answer of `serve` is `{"code","message"}`, whoever produced it (a handler,
//! axum's extractors, the router, hyper), and names what went wrong; room ids that cannot name
//! a folder are refused on every way in; the storage's rate limit is answered as such.

use crate::common::{Server, Setup};
use serde_json::json;
use shared_folder_test_support::client::{self, Reply};
use shared_folder_test_support::{Fault, FaultRule, Options, StandIn, Step};

async fn raw(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let bearer = format!("Bearer {}", crate::common::TOKEN);
    let mut all = vec![("authorization", bearer.as_str())];
    all.extend_from_slice(headers);
    client::send(method, &server.url(path), None, &all, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Sends `request` as it is on a connection of its own; returns the answer's head and body.
async fn by_hand(server: &Server, request: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_owned(), body.to_owned())
}

/// Checks `reply` has `status` and a JSON body `{"code": code, "message": <non-empty>}`.
fn assert_json_error(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    assert!(
        reply.headers[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{what}: {:?}",
        reply.headers
    );
    let body = reply.json();
    assert_eq!(body["code"], code, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_answer_is_code_and_message() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    let json_type = [("content-type", "application/json")];
    let tickets = "/v1/events/room-1/tickets";

    let unmatched = raw(&server, "GET", "/v1/nothing/here", &[], b"").await;
    assert_json_error(&unmatched, 404, "not_found", "unmatched route");

    let wrong_method = raw(&server, "POST", "/v1/events/room-1/shared_folder", &[], b"").await;
    assert_json_error(&wrong_method, 405, "method_not_allowed", "wrong method");
    assert!(wrong_method.headers.contains_key(http::header::ALLOW));

    let malformed = raw(&server, "POST", tickets, &json_type, b"{\"participant\": ").await;
    assert_json_error(&malformed, 400, "bad_request", "malformed JSON");

    let bad_role = json!({"participant": "p", "role": "owner"}).to_string();
    let unknown_role = raw(&server, "POST", tickets, &json_type, bad_role.as_bytes()).await;
    assert_json_error(&unknown_role, 422, "invalid_body", "unknown role");
    assert!(
        unknown_role.json()["message"]
            .as_str()
            .unwrap()
            .contains("owner")
    );

    let body = json!({"participant": "p", "role": "moderator"}).to_string();
    let untyped = raw(&server, "POST", tickets, &[], body.as_bytes()).await;
    assert_json_error(&untyped, 415, "unsupported_media_type", "no content type");

    let bad_utf8 = raw(&server, "GET", "/v1/events/%ff/shared_folder", &[], b"").await;
    assert_json_error(&bad_utf8, 400, "bad_request", "bad UTF-8 in the path");

    let bad_query = raw(
        &server,
        "GET",
        "/v1/events/room-1/shared_folder?role=owner",
        &[],
        b"",
    )
    .await;
    assert_json_error(&bad_query, 400, "bad_request", "unknown role in the query");

    let huge = format!(
        "{{\"participant\":\"{}\",\"role\":\"moderator\"}}",
        "p".repeat(3 << 20)
    );
    let too_large = raw(&server, "POST", tickets, &json_type, huge.as_bytes()).await;
    assert_json_error(&too_large, 413, "body_too_large", "body over the limit");

    // A target hyper refuses to read at all (over 64 KiB): answered before any route. (The
    // test's HTTP client will not send such a target, so it is written by hand.)
    let long = format!("/v1/events/{}/shared_folder", "a".repeat(70_000));
    let (head, body) = by_hand(&server, &format!("GET {long} HTTP/1.1\r\nHost: x\r\n\r\n")).await;
    assert!(head.starts_with("HTTP/1.1 414 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let json: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(json["code"], "uri_too_long", "{json}");
    // A malformed request line, too.
    let (head, body) = by_hand(&server, "GET /health HTTP/1.1 extra\r\nHost: x\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        "bad_request"
    );

    // The service still answers after each of them.
    assert_eq!(
        server
            .call("PUT", "/v1/events/room-1/shared_folder", None)
            .await
            .status,
        201
    );
    assert!(standin.seen().iter().all(|r| !r.target.contains("nothing")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_ids_that_cannot_name_a_folder_are_refused_everywhere() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    let long = "a".repeat(300);
    for room in ["%2E%2E", "a%2Fb", "a%5Cb", "a%0Ab", long.as_str()] {
        let ticket = server
            .call(
                "POST",
                &format!("/v1/events/{room}/tickets"),
                Some(json!({"participant": "p", "role": "participant"})),
            )
            .await;
        assert_json_error(&ticket, 400, "invalid_room", room);
        for (method, path) in [
            ("PUT", format!("/v1/events/{room}/shared_folder")),
            ("GET", format!("/v1/events/{room}/shared_folder")),
            ("DELETE", format!("/v1/events/{room}/shared_folder")),
        ] {
            let reply = server.call(method, &path, None).await;
            assert_json_error(&reply, 400, "invalid_room", &format!("{method} {room}"));
        }
        let role = server
            .call(
                "PUT",
                &format!("/v1/events/{room}/participants/p/role"),
                Some(json!({"role": "moderator"})),
            )
            .await;
        assert_json_error(&role, 400, "invalid_room", room);
    }
    // The long id is not echoed back whole.
    let reply = server
        .call("GET", &format!("/v1/events/{long}/shared_folder"), None)
        .await;
    assert!(reply.text().len() < 200, "{}", reply.text());
    assert!(standin.seen().is_empty(), "nothing reached the storage");

    // The command line says the same, as a usage error (exit 2), not a storage failure.
    for room in ["a/b", "..", ""] {
        let outcome = setup.run("create", &["--room", room]).await;
        assert_eq!(outcome.code, Some(2), "{room:?}: {outcome:?}");
        assert!(outcome.stderr.contains("invalid room"), "{outcome:?}");
    }
    assert!(standin.seen().is_empty(), "nothing reached the storage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storages_rate_limit_is_answered_as_such() {
    let standin = StandIn::start(Options {
        share_rate_limit: Some(20),
        ..Options::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    // Two shares a room: ten rooms fit in NextCloud's window of twenty shares.
    for room in 0..10 {
        let created = server
            .call(
                "PUT",
                &format!("/v1/events/room-{room}/shared_folder"),
                None,
            )
            .await;
        assert_eq!(created.status, 201, "room {room}: {}", created.text());
    }
    let limited = server
        .call("PUT", "/v1/events/room-10/shared_folder", None)
        .await;
    assert_json_error(&limited, 429, "storage_rate_limited", "the eleventh room");
    assert_eq!(limited.headers[http::header::RETRY_AFTER], "600");
    let message = limited.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("20"), "{message}");
    assert!(
        message.contains("apply_allowlist_to_ratelimit"),
        "{message}"
    );
    // Nothing of the refused room is left.
    assert!(!standin.folder_exists("opentalk/meetings/room-10"));

    // A storage that fails otherwise is still a bad gateway.
    standin.inject(FaultRule::at(Step::Mkcol, Fault::Status(500)));
    let failed = server
        .call("PUT", "/v1/events/other/shared_folder", None)
        .await;
    assert_json_error(&failed, 502, "storage_error", "a storage error");
    assert!(!failed.headers.contains_key(http::header::RETRY_AFTER));
}
