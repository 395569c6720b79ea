//! One participant's WebSocket: `GET /v1/events/{room}/signaling?ticket=…`.
//!
//! The ticket is checked before the upgrade (401 otherwise). Once joined, the participant gets
//! `join_success`, then every change meant for them. They may send
//! `{"namespace":"shared_folder","payload":{"action":"refresh"}}` to get their view again;
//! what they send cannot change their role — only the controller can.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Admission;
use super::Service;
use super::rest::ApiError;
use super::signaling::{self, Outgoing};
use shared_folder_runtime::roles;

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
    let admission = match service.signaling.redeem(&query.ticket, &room).await {
        Ok(admission) => admission,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let Some(admission) = admission else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_ticket",
            "the ticket is unknown, used, expired or for another room",
        )
        .into_response();
    };
    upgrade
        .max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| session(service, admission, socket))
}

/// The largest message a participant may send; theirs are a few dozen bytes.
const MAX_MESSAGE: usize = 64 << 10;

async fn session(service: Arc<Service>, admission: Admission, mut socket: WebSocket) {
    let Admission {
        room, participant, ..
    } = admission;
    let (_membership, mut to_client) = service.signaling.join(&room, &participant);
    tracing::info!(room, participant, "participant joined");
    // The room's version first, then its state: every event up to that version is in what
    // the session is shown, and it is sent none of them (a later one may be too: its view is
    // then the one the session holds, and that is not sent again either).
    let seen = service.signaling.room_version(&room).await;
    let (role, folder) = (
        service.signaling.role(&room, &participant).await,
        service.folders.folder(&room).await,
    );
    let (welcome, mut shown) = match (seen, role, folder) {
        (Ok(seen), Ok(role), Ok(folder)) => (
            signaling::join_success(&participant, role, folder.as_ref()),
            Shown {
                // A room without a folder: the session holds "none", which `deleted` says too.
                holds: match &folder {
                    Some(folder) => signaling::updated(roles::access(folder, role)),
                    None => signaling::deleted(),
                },
                seen,
            },
        ),
        _ => {
            let close = closing(close_code::ERROR, "the room's state could not be read");
            let _ = socket.send(Message::Close(Some(close))).await;
            return;
        }
    };
    if socket.send(Message::Text(welcome.into())).await.is_err() {
        return;
    }
    let close = loop {
        tokio::select! {
            outgoing = to_client.recv() => match outgoing {
                Some(out) => {
                    let Some(text) = shown.pass(out) else {
                        continue;
                    };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                // Signaling closed the session (the service shuts down).
                None => break Some(closing(close_code::AWAY, "the service is shutting down")),
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let answer = answer(&service, &room, &participant, text.as_str()).await;
                    if socket.send(Message::Text(answer.into())).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(error)) => break Some(refusal(error)),
                // Pings are answered by axum; binary frames are ignored.
                Some(Ok(_)) => {}
            },
        }
    };
    let _ = socket.send(Message::Close(close)).await;
    tracing::info!(room, participant, "participant left");
}

/// What a session has been shown: the view it holds, and the room version it has seen up to.
#[derive(Debug)]
struct Shown {
    holds: String,
    seen: u64,
}

impl Shown {
    /// Whether the session is sent `out`, and what: nothing from an event it has seen (up to
    /// the version it joined at, or one it got since — events.rs), nor the view it holds (a
    /// resynchronisation, or an event whose view the session got with an earlier one).
    fn pass(&mut self, out: Outgoing) -> Option<String> {
        if out.version != 0 && out.version <= self.seen {
            return None;
        }
        self.seen = self.seen.max(out.version);
        if out.text == self.holds {
            return None;
        }
        self.holds = out.text.clone();
        Some(out.text)
    }
}

fn closing(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// The close frame for what went wrong reading a participant's messages: 1009 for a message
/// over [`MAX_MESSAGE`], 1002 for anything else the WebSocket protocol refuses.
fn refusal(error: axum::Error) -> CloseFrame {
    match error.into_inner().downcast::<tungstenite::Error>() {
        Ok(error) if matches!(*error, tungstenite::Error::Capacity(_)) => {
            closing(close_code::SIZE, "message too big: 64 KiB at most")
        }
        _ => closing(close_code::PROTOCOL, "protocol error"),
    }
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
async fn answer(service: &Service, room: &str, participant: &str, text: &str) -> String {
    let Ok(message) = serde_json::from_str::<ClientMessage>(text) else {
        return signaling::error("invalid_json");
    };
    if message.namespace != "shared_folder" || message.payload.action != "refresh" {
        return signaling::error("unknown_action");
    }
    match service.folders.folder(room).await {
        Ok(Some(folder)) => match service.signaling.role(room, participant).await {
            Ok(role) => signaling::updated(roles::access(&folder, role)),
            Err(_) => signaling::error("internal"),
        },
        Ok(None) => signaling::error("no_shared_folder"),
        Err(_) => signaling::error("internal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str, version: u64) -> Outgoing {
        Outgoing {
            text: text.into(),
            version,
        }
    }

    #[test]
    fn a_session_is_sent_nothing_older_than_its_join_nor_twice() {
        // Joined at version 4, shown the moderator view.
        let mut shown = Shown {
            holds: "moderator".into(),
            seen: 4,
        };
        // An event of before the join arrives late, bringing what the room looks like now
        // (a demotion already made): not sent, it is the demotion's event's to say.
        assert_eq!(shown.pass(out("participant", 3)), None);
        assert_eq!(shown.pass(out("participant", 4)), None);
        // The demotion's own event.
        assert_eq!(
            shown.pass(out("participant", 5)),
            Some("participant".into())
        );
        // Seen since: not again, whatever it brings.
        assert_eq!(shown.pass(out("moderator", 5)), None);
        // A later event with the view the session holds; then a resynchronisation of it.
        assert_eq!(shown.pass(out("participant", 6)), None);
        assert_eq!(shown.pass(out("participant", 0)), None);
        assert_eq!(shown.pass(out("deleted", 0)), Some("deleted".into()));
        assert_eq!(shown.pass(out("moderator", 7)), Some("moderator".into()));
    }

    #[test]
    fn a_session_that_joined_without_a_folder_is_not_told_it_is_deleted() {
        let mut shown = Shown {
            holds: signaling::deleted(),
            seen: 0,
        };
        // A host before versions: the delete's event, late.
        assert_eq!(shown.pass(out(&signaling::deleted(), 0)), None);
        assert_eq!(shown.pass(out("view", 1)), Some("view".into()));
    }
}
