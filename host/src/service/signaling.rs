//! Who is in which room, with which role, and what each of them is sent.
//!
//! The controller decides roles: it asks for a ticket for a participant with their role, and
//! the participant joins a room's WebSocket with that ticket (single use, short-lived), so
//! nobody can claim a role they were not given. Every message a session gets is computed from
//! its participant's role at the moment it is sent ([`roles::access`]): a read-write link
//! never reaches a non-moderator.
//!
//! Messages follow OpenTalk's signaling: `join_success` carries the `shared_folder` part of
//! the participant's view, and a change arrives as
//! `{"namespace":"shared_folder","payload":{"message":"updated", …view}}`; a folder deleted
//! during the meeting arrives as `{"message":"deleted"}`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use shared_folder_runtime::FolderRecord;
use shared_folder_runtime::roles::{self, Role};

/// A message to one session, already serialised.
pub type Outgoing = String;

/// What a ticket grants: one join of one room as one participant with one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub room: String,
    pub participant: String,
    pub role: Role,
}

struct Ticket {
    admission: Admission,
    expires: Instant,
}

struct Session {
    id: u64,
    participant: String,
    to_client: mpsc::UnboundedSender<Outgoing>,
}

#[derive(Default)]
struct Rooms {
    tickets: HashMap<String, Ticket>,
    /// (room, participant) → role, as the controller last said.
    roles: HashMap<(String, String), Role>,
    sessions: HashMap<String, Vec<Session>>,
    next_session: u64,
    /// Set by `close_all`: no session is kept from then on.
    closed: bool,
}

/// The signaling state of all rooms.
pub struct Signaling {
    rooms: Mutex<Rooms>,
    ticket_ttl: Duration,
}

/// A joined session; leaves its room when dropped.
pub struct Membership<'a> {
    signaling: &'a Signaling,
    room: String,
    id: u64,
    pub participant: String,
}

impl Signaling {
    pub fn new(ticket_ttl: Duration) -> Self {
        Signaling {
            rooms: Mutex::default(),
            ticket_ttl,
        }
    }

    /// A ticket for `admission`. It also sets the participant's role in the room, as
    /// [`Signaling::set_role`] does: sessions they have open there get the update when their
    /// moderator status changed (a ticket that demotes a moderator takes the read-write link
    /// from their open sessions at once).
    pub fn issue_ticket(
        &self,
        admission: Admission,
        folder: Option<&FolderRecord>,
    ) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut rooms = self.lock();
        let now = Instant::now();
        rooms.tickets.retain(|_, t| t.expires > now);
        let (room, participant, role) = (
            admission.room.clone(),
            admission.participant.clone(),
            admission.role,
        );
        rooms.tickets.insert(
            ticket.clone(),
            Ticket {
                admission,
                expires: now + self.ticket_ttl,
            },
        );
        change_role(&mut rooms, &room, &participant, role, folder);
        Ok(ticket)
    }

    pub fn ticket_ttl(&self) -> Duration {
        self.ticket_ttl
    }

    /// Takes `ticket` for `room`: its admission if it is valid, unexpired, unused and for
    /// that room. A ticket is used up by this, whatever the outcome.
    pub fn redeem(&self, ticket: &str, room: &str) -> Option<Admission> {
        let ticket = self.lock().tickets.remove(ticket)?;
        (ticket.expires > Instant::now() && ticket.admission.room == room)
            .then_some(ticket.admission)
    }

    /// Adds a session of `participant` to `room`; its messages arrive on the receiver.
    pub fn join(
        &self,
        room: &str,
        participant: &str,
    ) -> (Membership<'_>, mpsc::UnboundedReceiver<Outgoing>) {
        let (to_client, receiver) = mpsc::unbounded_channel();
        let mut rooms = self.lock();
        rooms.next_session += 1;
        let id = rooms.next_session;
        // Once closed, the sender is dropped right here and the session ends at once.
        if !rooms.closed {
            rooms
                .sessions
                .entry(room.to_owned())
                .or_default()
                .push(Session {
                    id,
                    participant: participant.to_owned(),
                    to_client,
                });
        }
        let membership = Membership {
            signaling: self,
            room: room.to_owned(),
            id,
            participant: participant.to_owned(),
        };
        (membership, receiver)
    }

    /// The participant's role in `room` now.
    pub fn role(&self, room: &str, participant: &str) -> Role {
        role_in(&self.lock(), room, participant)
    }

    /// Sets a participant's role; their sessions get the new view when `folder` exists and
    /// the moderator status changed. Returns the role they had.
    pub fn set_role(
        &self,
        room: &str,
        participant: &str,
        role: Role,
        folder: Option<&FolderRecord>,
    ) -> Role {
        change_role(&mut self.lock(), room, participant, role, folder)
    }

    /// Tells everyone in `room` about its folder: their view of it, or that it is gone.
    pub fn folder_changed(&self, room: &str, folder: Option<&FolderRecord>) {
        let rooms = self.lock();
        for session in sessions_of(&rooms, room) {
            let message = match folder {
                Some(folder) => {
                    let role = role_in(&rooms, room, &session.participant);
                    updated(roles::access(folder, role))
                }
                None => shared_folder_message(json!({"message": "deleted"})),
            };
            let _ = session.to_client.send(message);
        }
    }

    /// Ends every session, and any that joins later: their senders go, so each socket
    /// closes.
    pub fn close_all(&self) {
        let mut rooms = self.lock();
        rooms.closed = true;
        rooms.sessions.clear();
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.values().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Membership<'_> {
    fn drop(&mut self) {
        let mut rooms = self.signaling.lock();
        if let Some(sessions) = rooms.sessions.get_mut(&self.room) {
            sessions.retain(|s| s.id != self.id);
            if sessions.is_empty() {
                rooms.sessions.remove(&self.room);
            }
        }
        // The role is kept while the participant has a session or an unused ticket here;
        // after that a new ticket states it again. So the map does not grow without end.
        if !present(&rooms, &self.room, &self.participant) {
            rooms
                .roles
                .remove(&(self.room.clone(), self.participant.clone()));
        }
    }
}

/// The one place a role changes (tickets and the controller's role calls both come here): the
/// new role is kept, and the participant's sessions in the room get their new view when their
/// moderator status changed and the room has a folder. Returns the role they had.
fn change_role(
    rooms: &mut Rooms,
    room: &str,
    participant: &str,
    role: Role,
    folder: Option<&FolderRecord>,
) -> Role {
    let before = role_in(rooms, room, participant);
    // Kept only for a participant who is here or holds a ticket (see `Membership::drop`);
    // anyone else states their role with their next ticket.
    if present(rooms, room, participant) {
        rooms
            .roles
            .insert((room.to_owned(), participant.to_owned()), role);
    }
    let update = folder.and_then(|f| roles::update_on_role_change(f, before, role).map(updated));
    if let Some(message) = update {
        for session in sessions_of(rooms, room).filter(|s| s.participant == participant) {
            let _ = session.to_client.send(message.clone());
        }
    }
    before
}

fn sessions_of<'r>(rooms: &'r Rooms, room: &str) -> impl Iterator<Item = &'r Session> {
    rooms.sessions.get(room).into_iter().flatten()
}

/// Whether `participant` has a session in `room` or an unused ticket for it.
fn present(rooms: &Rooms, room: &str, participant: &str) -> bool {
    sessions_of(rooms, room).any(|s| s.participant == participant)
        || rooms
            .tickets
            .values()
            .any(|t| t.admission.room == room && t.admission.participant == participant)
}

fn role_in(rooms: &Rooms, room: &str, participant: &str) -> Role {
    rooms
        .roles
        .get(&(room.to_owned(), participant.to_owned()))
        .copied()
        .unwrap_or(Role::Participant)
}

/// `join_success` for a participant with `role`, with their view of `folder` if there is one.
pub fn join_success(participant: &str, role: Role, folder: Option<&FolderRecord>) -> Outgoing {
    let mut payload = json!({"message": "join_success", "id": participant, "role": role});
    if let Some(folder) = folder {
        payload["shared_folder"] = view(roles::access(folder, role));
    }
    json!({"namespace": "control", "payload": payload}).to_string()
}

/// `updated` with a participant's view.
pub fn updated(access: roles::Access) -> Outgoing {
    let mut payload = view(access);
    payload["message"] = json!("updated");
    shared_folder_message(payload)
}

/// An error answer to something a client sent.
pub fn error(code: &str) -> Outgoing {
    shared_folder_message(json!({"message": "error", "error": code}))
}

fn shared_folder_message(payload: Value) -> Outgoing {
    json!({"namespace": "shared_folder", "payload": payload}).to_string()
}

fn view(access: roles::Access) -> Value {
    // `Access` serialises passwords in clear (participants must see them) and has no map
    // keys that could fail.
    serde_json::to_value(access).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_folder_runtime::Secret;
    use shared_folder_runtime::ShareLink;

    fn folder() -> FolderRecord {
        let link = |kind: &str| ShareLink {
            url: format!("https://c/s/{kind}"),
            password: Secret::new(format!("{kind}-pw")),
        };
        FolderRecord {
            room: "r".into(),
            maker: shared_folder_runtime::Maker {
                provider: "nextcloud".into(),
                contract: shared_folder_runtime::Contract::V0_3,
                digest: String::new(),
                storage: String::new(),
                account: String::new(),
            },
            path: "m/r".into(),
            handle: "h".into(),
            read: link("ro"),
            read_write: link("rw"),
            created_at_unix: 0,
        }
    }

    fn admission(room: &str, role: Role) -> Admission {
        Admission {
            room: room.into(),
            participant: "p".into(),
            role,
        }
    }

    #[test]
    fn tickets_are_single_use_and_bound_to_their_room() {
        let signaling = Signaling::new(Duration::from_secs(60));
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator), None)
            .unwrap();
        assert_eq!(ticket.len(), 43);
        assert_eq!(signaling.redeem(&ticket, "other"), None);
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator), None)
            .unwrap();
        assert_eq!(
            signaling.redeem(&ticket, "r"),
            Some(admission("r", Role::Moderator))
        );
        assert_eq!(signaling.redeem(&ticket, "r"), None, "used up");
        let expired = Signaling::new(Duration::ZERO);
        let ticket = expired
            .issue_ticket(admission("r", Role::Participant), None)
            .unwrap();
        assert_eq!(expired.redeem(&ticket, "r"), None);
    }

    #[test]
    fn role_changes_reach_only_that_participant_and_only_their_view() {
        let signaling = Signaling::new(Duration::from_secs(60));
        let f = folder();
        let (_p, mut to_p) = signaling.join("r", "p");
        let (_q, mut to_q) = signaling.join("r", "q");
        signaling.set_role("r", "p", Role::Moderator, Some(&f));
        let granted = to_p.try_recv().unwrap();
        assert!(granted.contains("rw-pw") && granted.contains("\"updated\""));
        assert!(to_q.try_recv().is_err());
        signaling.set_role("r", "p", Role::Moderator, Some(&f));
        assert!(to_p.try_recv().is_err(), "no change, no update");
        signaling.set_role("r", "p", Role::Participant, Some(&f));
        let revoked = to_p.try_recv().unwrap();
        assert!(revoked.contains("ro-pw") && !revoked.contains("rw"));

        signaling.folder_changed("r", Some(&f));
        assert!(!to_q.try_recv().unwrap().contains("rw-pw"));
        signaling.folder_changed("r", None);
        assert!(to_q.try_recv().unwrap().contains("deleted"));
    }

    #[test]
    fn a_ticket_that_demotes_a_moderator_updates_their_open_sessions() {
        let signaling = Signaling::new(Duration::from_secs(60));
        let f = folder();
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator), Some(&f))
            .unwrap();
        signaling.redeem(&ticket, "r").unwrap();
        let (_session, mut to_p) = signaling.join("r", "p");
        assert_eq!(signaling.role("r", "p"), Role::Moderator);
        // A new ticket for the same participant, as a participant: a demotion.
        signaling
            .issue_ticket(admission("r", Role::Participant), Some(&f))
            .unwrap();
        let update = to_p.try_recv().expect("the open session is told");
        assert!(
            update.contains("ro-pw") && !update.contains("rw"),
            "{update}"
        );
        assert_eq!(signaling.role("r", "p"), Role::Participant);
        // The same role again changes nothing, and says nothing.
        signaling
            .issue_ticket(admission("r", Role::Participant), Some(&f))
            .unwrap();
        assert!(to_p.try_recv().is_err());
        // A promotion by ticket brings the read-write link.
        signaling
            .issue_ticket(admission("r", Role::Moderator), Some(&f))
            .unwrap();
        assert!(to_p.try_recv().unwrap().contains("rw-pw"));
    }

    #[test]
    fn closing_ends_every_session_and_later_joins() {
        let signaling = Signaling::new(Duration::from_secs(60));
        let (_before, mut early) = signaling.join("r", "p");
        signaling.close_all();
        assert!(matches!(
            early.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        let (_after, mut late) = signaling.join("r", "q");
        assert!(matches!(
            late.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        assert_eq!(signaling.session_count(), 0);
    }

    #[test]
    fn leaving_forgets_the_session_and_then_the_role() {
        let signaling = Signaling::new(Duration::from_secs(60));
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator), None)
            .unwrap();
        signaling.redeem(&ticket, "r").unwrap();
        let (first, _rx) = signaling.join("r", "p");
        let (second, _rx2) = signaling.join("r", "p");
        assert_eq!(signaling.session_count(), 2);
        drop(first);
        assert_eq!(
            signaling.role("r", "p"),
            Role::Moderator,
            "a session remains"
        );
        drop(second);
        assert_eq!(signaling.session_count(), 0);
        assert_eq!(
            signaling.role("r", "p"),
            Role::Participant,
            "role forgotten"
        );
        assert!(signaling.lock().roles.is_empty());
    }
}
