//! A participant's side of `serve`: tickets from the controller, the signaling WebSocket, and
//! reading its messages. Kept apart from a [`Server`] where a ticket issued by one host opens a
//! session on another.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::Server;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A ticket for `participant` with `role` in `room`, issued by `server` (the controller's
/// call).
pub async fn ticket(server: &Server, room: &str, participant: &str, role: &str) -> String {
    let reply = server
        .call(
            "POST",
            &format!("/v1/events/{room}/tickets"),
            Some(json!({"participant": participant, "role": role})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["ticket"]
        .as_str()
        .expect("a ticket in the answer")
        .to_owned()
}

/// Opens `room`'s signaling WebSocket on `server` with `ticket`: the socket and its first
/// message (`join_success`). Panics when refused.
pub async fn open(server: &Server, room: &str, ticket: &str) -> (Socket, Value) {
    let url = server.ws_url(&format!("/v1/events/{room}/signaling?ticket={ticket}"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the ticket admits");
    let welcome = next(&mut socket).await;
    assert_eq!(welcome["payload"]["message"], "join_success", "{welcome}");
    (socket, welcome)
}

/// Whether `server` refuses `ticket` for `room`.
pub async fn refused(server: &Server, room: &str, ticket: &str) -> bool {
    let url = server.ws_url(&format!("/v1/events/{room}/signaling?ticket={ticket}"));
    tokio_tungstenite::connect_async(url).await.is_err()
}

/// A participant's session: a ticket from `server`, then its WebSocket on the same server.
pub async fn join(server: &Server, room: &str, participant: &str, role: &str) -> (Socket, Value) {
    let ticket = ticket(server, room, participant, role).await;
    open(server, room, &ticket).await
}

/// The next text message, as JSON; panics after 10 s without one or on a closed socket.
pub async fn next(socket: &mut Socket) -> Value {
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

/// Whether nothing at all arrives within `wait`.
pub async fn nothing_within(socket: &mut Socket, wait: Duration) -> bool {
    tokio::time::timeout(wait, socket.next()).await.is_err()
}
