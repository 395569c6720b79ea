//! One participant's WebSocket: `GET /v1/events/{room}/signaling?ticket=…`.
//!
//! The ticket is checked before the upgrade (401 otherwise). Once joined, the participant gets
//! `join_success`, then every change meant for them. They may send
//! `{"namespace":"shared_folder","payload":{"action":"refresh"}}` to get their view again;
//! what they send cannot change their role — only the controller can.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Service;
use super::rest::ApiError;
use super::signaling::{self, Admission};
use crate::roles;

#[derive(Deserialize)]
pub struct JoinQuery {
    ticket: String,
}

pub async fn join(
    State(service): State<Arc<Service>>,
    Path(room): Path<String>,
    Query(query): Query<JoinQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(admission) = service.signaling.redeem(&query.ticket, &room) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_ticket",
            "the ticket is unknown, used, expired or for another room",
        )
        .into_response();
    };
    upgrade
        .max_message_size(64 << 10)
        .on_upgrade(move |socket| session(service, admission, socket))
}

async fn session(service: Arc<Service>, admission: Admission, mut socket: WebSocket) {
    let Admission {
        room, participant, ..
    } = admission;
    let (_membership, mut to_client) = service.signaling.join(&room, &participant);
    tracing::info!(room, participant, "participant joined");
    let welcome = signaling::join_success(
        &participant,
        service.signaling.role(&room, &participant),
        service.folders.folder(&room).ok().flatten().as_ref(),
    );
    if socket.send(Message::Text(welcome.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            outgoing = to_client.recv() => match outgoing {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                // Signaling closed the session (the service shuts down).
                None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let answer = answer(&service, &room, &participant, text.as_str());
                    if socket.send(Message::Text(answer.into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                // Pings are answered by axum; binary frames are ignored.
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    tracing::info!(room, participant, "participant left");
}

#[derive(Deserialize)]
struct ClientMessage {
    namespace: String,
    payload: ClientPayload,
}

#[derive(Deserialize)]
struct ClientPayload {
    action: String,
}

/// The answer to what a participant sent. The role is looked up, never taken from them.
fn answer(service: &Service, room: &str, participant: &str, text: &str) -> String {
    let Ok(message) = serde_json::from_str::<ClientMessage>(text) else {
        return signaling::error("invalid_json");
    };
    if message.namespace != "shared_folder" || message.payload.action != "refresh" {
        return signaling::error("unknown_action");
    }
    match service.folders.folder(room) {
        Ok(Some(folder)) => {
            let role = service.signaling.role(room, participant);
            signaling::updated(roles::access(&folder, role))
        }
        Ok(None) => signaling::error("no_shared_folder"),
        Err(_) => signaling::error("internal"),
    }
}
