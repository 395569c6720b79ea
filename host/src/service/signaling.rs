//! Who is in which room, with which role, and what each of them is sent.
//!
//! The controller decides roles: it asks for a ticket for a participant with their role, and
//! the participant joins a room's WebSocket with that ticket (single use, short-lived), so
//! nobody can claim a role they were not given. Every message a session gets is computed from
//! its participant's role at the moment it is sent ([`roles::access`]): a read-write link
//! never reaches a non-moderator.
//!
//! Whatever changes a room — a folder made or deleted through any host or the CLI, a role set
//! through any host — arrives as a [`RoomEvent`] from the records ([`Records::subscribe`]),
//! and [`Signaling`]'s fan-out sends each of this host's sessions in that room what it should
//! see now. On PostgreSQL, tickets and roles are the hosts' shared state (`ledger.rs`); one
//! host keeps them here, in memory.
//!
//! Messages follow OpenTalk's signaling: `join_success` carries the `shared_folder` part of
//! the participant's view, and a change arrives as
//! `{"namespace":"shared_folder","payload":{"message":"updated", …view}}`; a folder deleted
//! during the meeting arrives as `{"message":"deleted"}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use shared_folder_runtime::FolderRecord;
use shared_folder_runtime::roles::{self, Role};

use super::{Admission, ledger};
use crate::events::RoomEvent;
use crate::records::{Records, RoomState, StoreError, bounded};

/// A message to one session, already serialised, with the room version of the event it comes
/// from (0 for none: a resynchronisation): a session skips what it has seen (events.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub text: String,
    pub version: u64,
}

/// Tickets and roles could not be stored or read (the shared database failed).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignalingError {
    #[error("no random source: {0}")]
    Random(String),
    #[error("signaling state in the database: {0}")]
    Database(String),
    /// The database could not be reached: asking again later may succeed.
    #[error("signaling state in the database: {0}")]
    DatabaseUnavailable(String),
}

impl From<StoreError> for SignalingError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(message) => SignalingError::DatabaseUnavailable(message),
            StoreError::Failed(message) => SignalingError::Database(message),
        }
    }
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
    /// Tickets and roles of a host on its own (unused on PostgreSQL, see `ledger.rs`).
    tickets: HashMap<String, Ticket>,
    /// (room, participant) → role, as the controller last said.
    roles: HashMap<(String, String), Role>,
    sessions: HashMap<String, Vec<Session>>,
    next_session: u64,
    /// Set by `close_all`: no session is kept from then on.
    closed: bool,
}

/// The signaling state of all rooms, and the fan-out of room events to this host's sessions.
/// How soon sessions are brought up to date again when the records could not be read for
/// them after a reconnection.
const RESYNC_RETRY: Duration = Duration::from_secs(1);

pub struct Signaling {
    records: Arc<Records>,
    rooms: Mutex<Rooms>,
    ticket_ttl: Duration,
}

/// A joined session; leaves its room when dropped.
pub struct Membership {
    signaling: Arc<Signaling>,
    room: String,
    id: u64,
    pub participant: String,
}

impl Signaling {
    /// Signaling over the folder `records`, whose room events it starts handing to its
    /// sessions (for as long as it lives).
    pub fn start(records: Arc<Records>, ticket_ttl: Duration) -> Arc<Self> {
        let events = records.subscribe();
        let signaling = Arc::new(Signaling {
            records,
            rooms: Mutex::default(),
            ticket_ttl,
        });
        tokio::spawn(fan_out(Arc::downgrade(&signaling), events));
        signaling
    }

    fn records(&self) -> &Records {
        &self.records
    }

    /// The folder of `room` as participants see it: none while it is made or deleted.
    /// `Err` (logged) when the records could not be read: the sessions are then told nothing.
    async fn folder(&self, room: &str) -> Result<Option<FolderRecord>, ()> {
        match self.records.get(room).await {
            Ok(Some(RoomState::Ready(folder))) => Ok(Some(folder)),
            Ok(_) => Ok(None),
            Err(error) => {
                tracing::warn!(room, %error, "the room's folder could not be read for its sessions");
                Err(())
            }
        }
    }

    /// A ticket for `admission`. It also sets the participant's role in the room, as
    /// [`Signaling::set_role`] does: sessions they have open get the update when their
    /// moderator status changed (a ticket that demotes a moderator takes the read-write link
    /// from their open sessions at once).
    pub async fn issue_ticket(&self, admission: Admission) -> Result<String, SignalingError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| SignalingError::Random(e.to_string()))?;
        let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if let Some(postgres) = self.records().postgres() {
            bounded(ledger::issue(
                postgres,
                &ticket,
                &admission,
                self.ticket_ttl,
            ))
            .await
            .map_err(SignalingError::from)?;
            return Ok(ticket);
        }
        let (room, participant, role) = (
            admission.room.clone(),
            admission.participant.clone(),
            admission.role,
        );
        let mut rooms = self.lock();
        let now = Instant::now();
        rooms.tickets.retain(|_, t| t.expires > now);
        rooms.tickets.insert(
            ticket.clone(),
            Ticket {
                admission,
                expires: now + self.ticket_ttl,
            },
        );
        let event = change_role(&mut rooms, &room, &participant, role);
        // Announced before the lock goes: two role changes of one participant reach the
        // sessions in the order they were made.
        self.announce(event);
        drop(rooms);
        Ok(ticket)
    }

    pub fn ticket_ttl(&self) -> Duration {
        self.ticket_ttl
    }

    /// Takes `ticket` for `room`: its admission if it is valid, unexpired, unused and for
    /// that room. A ticket is used up by this, whatever the outcome.
    pub async fn redeem(
        &self,
        ticket: &str,
        room: &str,
    ) -> Result<Option<Admission>, SignalingError> {
        if let Some(postgres) = self.records().postgres() {
            return bounded(ledger::redeem(postgres, ticket, room))
                .await
                .map_err(SignalingError::from);
        }
        let Some(ticket) = self.lock().tickets.remove(ticket) else {
            return Ok(None);
        };
        Ok(
            (ticket.expires > Instant::now() && ticket.admission.room == room)
                .then_some(ticket.admission),
        )
    }

    /// Adds a session of `participant` to `room`; its messages arrive on the receiver.
    pub fn join(
        self: &Arc<Self>,
        room: &str,
        participant: &str,
    ) -> (Membership, mpsc::UnboundedReceiver<Outgoing>) {
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
            signaling: Arc::clone(self),
            room: room.to_owned(),
            id,
            participant: participant.to_owned(),
        };
        (membership, receiver)
    }

    /// The version of `room`'s last event: what a session that reads it before the room's
    /// state has seen (events.rs).
    pub async fn room_version(&self, room: &str) -> Result<u64, SignalingError> {
        self.records()
            .room_version(room)
            .await
            .map_err(|e| SignalingError::Database(e.to_string()))
    }

    /// The participant's role in `room` now.
    pub async fn role(&self, room: &str, participant: &str) -> Result<Role, SignalingError> {
        match self.records().postgres() {
            Some(postgres) => bounded(ledger::role(postgres, room, participant))
                .await
                .map_err(SignalingError::from),
            None => Ok(role_in(&self.lock(), room, participant)),
        }
    }

    /// Sets a participant's role; their sessions (on every host) get the new view when the
    /// room has a folder and their moderator status changed. Returns the role they had.
    pub async fn set_role(
        &self,
        room: &str,
        participant: &str,
        role: Role,
    ) -> Result<Role, SignalingError> {
        if let Some(postgres) = self.records().postgres() {
            return bounded(ledger::set_role(postgres, room, participant, role))
                .await
                .map_err(SignalingError::from);
        }
        let mut rooms = self.lock();
        let event = change_role(&mut rooms, room, participant, role);
        let before = match &event {
            Some(RoomEvent::Role { before, .. }) => *before,
            _ => role,
        };
        // As in `issue_ticket`: announced in the order the changes were made.
        self.announce(event);
        Ok(before)
    }

    /// Forgets roles and tickets nobody needs any more (on PostgreSQL; one host forgets a
    /// role as soon as its participant has neither a session nor a ticket).
    pub async fn forget_stale(&self) -> Result<u64, SignalingError> {
        match self.records().postgres() {
            Some(postgres) => bounded(ledger::forget_stale(postgres))
                .await
                .map_err(SignalingError::from),
            None => Ok(0),
        }
    }

    /// Ends every session, and any that joins later: their senders go, so each socket
    /// closes.
    pub fn close_all(&self) {
        let mut rooms = self.lock();
        rooms.closed = true;
        rooms.sessions.clear();
    }

    /// How many sessions are open on this host.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.values().map(Vec::len).sum()
    }

    fn announce(&self, event: Option<RoomEvent>) {
        if let Some(event) = event {
            self.records().announce_here(event);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sessions of `room` (of `participant` only, if given): their participant and
    /// sender, taken out so that no lock is held while the folder and roles are looked up.
    fn sessions(
        &self,
        room: &str,
        participant: Option<&str>,
    ) -> Vec<(String, mpsc::UnboundedSender<Outgoing>)> {
        sessions_of(&self.lock(), room)
            .filter(|s| participant.is_none_or(|p| s.participant == p))
            .map(|s| (s.participant.clone(), s.to_client.clone()))
            .collect()
    }

    /// Ends `participant`'s sessions in `room` on this host (their senders go).
    fn end_sessions(&self, room: &str, participant: &str) {
        if let Some(sessions) = self.lock().sessions.get_mut(room) {
            sessions.retain(|s| s.participant != participant);
        }
    }

    /// Sends this host's sessions what `event` means for each of them.
    async fn deliver(&self, event: RoomEvent) {
        let version = event.version();
        let outgoing = |text: String| Outgoing { text, version };
        match event {
            RoomEvent::Folder { room, .. } => {
                let sessions = self.sessions(&room, None);
                if sessions.is_empty() {
                    return;
                }
                let Ok(folder) = self.folder(&room).await else {
                    return;
                };
                for (participant, to_client) in sessions {
                    let message = match &folder {
                        Some(folder) => match self.role(&room, &participant).await {
                            Ok(role) => updated(roles::access(folder, role)),
                            Err(error) => {
                                tracing::warn!(room, %error, "no view sent: the role is unknown");
                                continue;
                            }
                        },
                        None => deleted(),
                    };
                    let _ = to_client.send(outgoing(message));
                }
            }
            RoomEvent::Role {
                room,
                participant,
                before,
                after,
                ..
            } => {
                let sessions = self.sessions(&room, Some(&participant));
                if sessions.is_empty() {
                    return;
                }
                let folder = match self.folder(&room).await {
                    Ok(Some(folder)) => folder,
                    Ok(None) => return,
                    // The new view cannot be computed: a demoted participant must not keep
                    // the read-write link, so their sessions end (they may join again).
                    Err(()) => {
                        if before == Role::Moderator && after != Role::Moderator {
                            self.end_sessions(&room, &participant);
                        }
                        return;
                    }
                };
                if let Some(access) = roles::update_on_role_change(&folder, before, after) {
                    let message = updated(access);
                    for (_, to_client) in sessions {
                        let _ = to_client.send(outgoing(message.clone()));
                    }
                }
            }
            RoomEvent::Resync => {
                let rooms: Vec<String> = self.lock().sessions.keys().cloned().collect();
                let mut unread = false;
                for room in rooms {
                    // Events for any room may have been missed, deletes included.
                    let Ok(folder) = self.folder(&room).await else {
                        unread = true;
                        continue;
                    };
                    for (participant, to_client) in self.sessions(&room, None) {
                        let message = match &folder {
                            Some(folder) => match self.role(&room, &participant).await {
                                Ok(role) => updated(roles::access(folder, role)),
                                Err(error) => {
                                    tracing::warn!(room, %error, "no view sent: the role is unknown");
                                    unread = true;
                                    continue;
                                }
                            },
                            None => deleted(),
                        };
                        let _ = to_client.send(outgoing(message));
                    }
                }
                // The database answers LISTEN again before it answers everything (a PgBouncer
                // still waiting to log in again, say): the sessions not brought up to date are
                // tried again soon, all of them, rather than left with what they missed.
                if unread {
                    tracing::info!("sessions not brought up to date yet; trying again");
                    let records = Arc::clone(&self.records);
                    tokio::spawn(async move {
                        tokio::time::sleep(RESYNC_RETRY).await;
                        records.announce_here(RoomEvent::Resync);
                    });
                }
            }
        }
    }
}

/// Hands room events to the sessions, one after another (so each room's arrive in order),
/// until the signaling is gone.
async fn fan_out(signaling: Weak<Signaling>, mut events: broadcast::Receiver<RoomEvent>) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "room events fell behind; sending every session its view again"
                );
                RoomEvent::Resync
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(signaling) = signaling.upgrade() else {
            return;
        };
        signaling.deliver(event).await;
    }
}

impl Drop for Membership {
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

/// The one place a role changes on a host on its own (tickets and the controller's role calls
/// both come here): the new role is kept, and the change is returned as the event that tells
/// the participant's sessions, if the role changed.
fn change_role(rooms: &mut Rooms, room: &str, participant: &str, role: Role) -> Option<RoomEvent> {
    let before = role_in(rooms, room, participant);
    // Kept only for a participant who is here or holds a ticket (see `Membership::drop`);
    // anyone else states their role with their next ticket.
    if present(rooms, room, participant) {
        rooms
            .roles
            .insert((room.to_owned(), participant.to_owned()), role);
    }
    (before != role).then(|| RoomEvent::Role {
        room: room.to_owned(),
        participant: participant.to_owned(),
        before,
        after: role,
        version: 0,
    })
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
pub fn join_success(participant: &str, role: Role, folder: Option<&FolderRecord>) -> String {
    let mut payload = json!({"message": "join_success", "id": participant, "role": role});
    if let Some(folder) = folder {
        payload["shared_folder"] = view(roles::access(folder, role));
    }
    json!({"namespace": "control", "payload": payload}).to_string()
}

/// `updated` with a participant's view.
pub fn updated(access: roles::Access) -> String {
    let mut payload = view(access);
    payload["message"] = json!("updated");
    shared_folder_message(payload)
}

/// `deleted`: the room's folder is gone (or, for a session that joined without one, none).
pub fn deleted() -> String {
    shared_folder_message(json!({"message": "deleted"}))
}

/// An error answer to something a client sent.
pub fn error(code: &str) -> String {
    shared_folder_message(json!({"message": "error", "error": code}))
}

fn shared_folder_message(payload: Value) -> String {
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

    /// Signaling over records in memory, with room "r"'s folder in them if `with_folder`.
    async fn signaling(ttl: Duration, with_folder: bool) -> Arc<Signaling> {
        let records = Records::in_memory().unwrap();
        if with_folder {
            records.begin_create("r", &folder().maker).await.unwrap();
            records.finish_create(&folder()).await.unwrap();
        }
        Signaling::start(Arc::new(records), ttl)
    }

    /// The next message a session gets (the fan-out runs beside the test).
    async fn next(to: &mut mpsc::UnboundedReceiver<Outgoing>) -> String {
        tokio::time::timeout(Duration::from_secs(5), to.recv())
            .await
            .expect("a message within 5 s")
            .expect("the session is open")
            .text
    }

    /// Deletes room "r"'s folder; the next message `to` gets must say so. Events arrive in
    /// order, so this shows nothing else was sent to `to` before.
    async fn next_is_the_delete(signaling: &Signaling, to: &mut mpsc::UnboundedReceiver<Outgoing>) {
        signaling.records().begin_delete("r").await.unwrap();
        let message = next(to).await;
        assert!(
            message.contains("deleted"),
            "sent before the delete: {message}"
        );
    }

    #[tokio::test]
    async fn tickets_are_single_use_and_bound_to_their_room() {
        let signaling = signaling(Duration::from_secs(60), false).await;
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator))
            .await
            .unwrap();
        assert_eq!(ticket.len(), 43);
        assert_eq!(signaling.redeem(&ticket, "other").await.unwrap(), None);
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator))
            .await
            .unwrap();
        assert_eq!(
            signaling.redeem(&ticket, "r").await.unwrap(),
            Some(admission("r", Role::Moderator))
        );
        assert_eq!(
            signaling.redeem(&ticket, "r").await.unwrap(),
            None,
            "used up"
        );
        let expired = self::signaling(Duration::ZERO, false).await;
        let ticket = expired
            .issue_ticket(admission("r", Role::Participant))
            .await
            .unwrap();
        assert_eq!(expired.redeem(&ticket, "r").await.unwrap(), None);
    }

    #[tokio::test]
    async fn role_changes_reach_only_that_participant_and_only_their_view() {
        let signaling = signaling(Duration::from_secs(60), true).await;
        let (_p, mut to_p) = signaling.join("r", "p");
        let (_q, mut to_q) = signaling.join("r", "q");
        signaling.set_role("r", "p", Role::Moderator).await.unwrap();
        let granted = next(&mut to_p).await;
        assert!(granted.contains("rw-pw") && granted.contains("\"updated\""));
        signaling.set_role("r", "p", Role::Moderator).await.unwrap();
        signaling
            .set_role("r", "p", Role::Participant)
            .await
            .unwrap();
        let revoked = next(&mut to_p).await;
        assert!(
            revoked.contains("ro-pw") && !revoked.contains("rw"),
            "no change, no update: {revoked}"
        );
        // q heard nothing of p's changes, nor p of anything more.
        next_is_the_delete(&signaling, &mut to_q).await;
        assert!(next(&mut to_p).await.contains("deleted"));
    }

    #[tokio::test]
    async fn a_ticket_that_demotes_a_moderator_updates_their_open_sessions() {
        let signaling = signaling(Duration::from_secs(60), true).await;
        let (_session, mut to_p) = signaling.join("r", "p");
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator))
            .await
            .unwrap();
        assert!(
            next(&mut to_p).await.contains("rw-pw"),
            "promoted by the ticket"
        );
        signaling.redeem(&ticket, "r").await.unwrap().unwrap();
        assert_eq!(signaling.role("r", "p").await.unwrap(), Role::Moderator);
        // A new ticket for the same participant, as a participant: a demotion.
        signaling
            .issue_ticket(admission("r", Role::Participant))
            .await
            .unwrap();
        let update = next(&mut to_p).await;
        assert!(
            update.contains("ro-pw") && !update.contains("rw"),
            "{update}"
        );
        assert_eq!(signaling.role("r", "p").await.unwrap(), Role::Participant);
        // The same role again changes nothing, and says nothing; a promotion by ticket
        // brings the read-write link.
        signaling
            .issue_ticket(admission("r", Role::Participant))
            .await
            .unwrap();
        signaling
            .issue_ticket(admission("r", Role::Moderator))
            .await
            .unwrap();
        let promoted = next(&mut to_p).await;
        assert!(promoted.contains("rw-pw"), "{promoted}");
        next_is_the_delete(&signaling, &mut to_p).await;
    }

    #[tokio::test]
    async fn closing_ends_every_session_and_later_joins() {
        let signaling = signaling(Duration::from_secs(60), false).await;
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

    #[tokio::test]
    async fn leaving_forgets_the_session_and_then_the_role() {
        let signaling = signaling(Duration::from_secs(60), false).await;
        let ticket = signaling
            .issue_ticket(admission("r", Role::Moderator))
            .await
            .unwrap();
        signaling.redeem(&ticket, "r").await.unwrap().unwrap();
        let (first, _rx) = signaling.join("r", "p");
        let (second, _rx2) = signaling.join("r", "p");
        assert_eq!(signaling.session_count(), 2);
        drop(first);
        assert_eq!(
            signaling.role("r", "p").await.unwrap(),
            Role::Moderator,
            "a session remains"
        );
        drop(second);
        assert_eq!(signaling.session_count(), 0);
        assert_eq!(
            signaling.role("r", "p").await.unwrap(),
            Role::Participant,
            "role forgotten"
        );
        assert!(signaling.lock().roles.is_empty());
    }
}
