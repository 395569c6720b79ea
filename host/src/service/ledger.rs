//! Tickets and roles in PostgreSQL, for hosts that share it: a ticket issued through one host
//! opens a WebSocket on another, and a role set through any host is the role every host
//! sees. (One host keeps both in memory, in `signaling.rs`.)
//!
//! A ticket is stored by its SHA-256 only, so the table cannot be used to join a room; it is
//! taken with one `DELETE … RETURNING`, so it opens one session on one host, once. A role
//! change is announced (`pg_notify`) in the transaction that makes it, with the role before
//! and after, for each host to update its sessions of that participant.

use std::time::Duration;

use sha2::{Digest, Sha256};
use shared_folder_runtime::roles::Role;

use super::Admission;
use crate::events::{CHANNEL, RoomEvent};
use tokio_postgres::types::Type;

use crate::records::StoreError;
use crate::records::postgres::Postgres;

/// Roles nobody set for this long are forgotten (a later ticket states them again).
const ROLE_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Stores a ticket (by digest) for `admission`, valid for `ttl`, and sets the participant's
/// role as the ticket says. Expired tickets are dropped on the way.
pub async fn issue(
    postgres: &Postgres,
    ticket: &str,
    admission: &Admission,
    ttl: Duration,
) -> Result<(), StoreError> {
    let now = now_unix();
    let expires = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let mut client = postgres.client().await?;
    let transaction = client.transaction().await?;
    transaction
        .execute_typed(
            "DELETE FROM tickets WHERE expires_at <= $1",
            &[(&now, Type::INT8)],
        )
        .await?;
    transaction
        .execute_typed(
            "INSERT INTO tickets (digest, room, participant, role, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                (&digest(ticket), Type::TEXT),
                (&admission.room, Type::TEXT),
                (&admission.participant, Type::TEXT),
                (&role_text(admission.role), Type::TEXT),
                (&expires, Type::INT8),
            ],
        )
        .await?;
    change_role(
        &transaction,
        &admission.room,
        &admission.participant,
        admission.role,
        now,
    )
    .await?;
    Ok(transaction.commit().await?)
}

/// Takes `ticket` (whatever the outcome: it is used up) and returns what it admits, if it is
/// unexpired and for `room`.
pub async fn redeem(
    postgres: &Postgres,
    ticket: &str,
    room: &str,
) -> Result<Option<Admission>, StoreError> {
    let client = postgres.client().await?;
    let row = client
        .query_typed_opt(
            "DELETE FROM tickets WHERE digest = $1
             RETURNING room, participant, role, expires_at",
            &[(&digest(ticket), Type::TEXT)],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (ticket_room, participant, role, expires): (String, String, String, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    Ok(
        (expires > now_unix() && ticket_room == room).then(|| Admission {
            room: ticket_room,
            participant,
            role: parse_role(&role),
        }),
    )
}

/// The participant's role in `room` (a participant's, if none was set).
pub async fn role(postgres: &Postgres, room: &str, participant: &str) -> Result<Role, StoreError> {
    let client = postgres.client().await?;
    let row = client
        .query_typed_opt(
            "SELECT role FROM roles WHERE room = $1 AND participant = $2",
            &[(&room, Type::TEXT), (&participant, Type::TEXT)],
        )
        .await?;
    match row {
        Some(row) => Ok(parse_role(&row.try_get::<_, String>(0)?)),
        None => Ok(Role::Participant),
    }
}

/// Sets a participant's role and announces the change to every host; returns the role they
/// had.
pub async fn set_role(
    postgres: &Postgres,
    room: &str,
    participant: &str,
    role: Role,
) -> Result<Role, StoreError> {
    let mut client = postgres.client().await?;
    let transaction = client.transaction().await?;
    let before = change_role(&transaction, room, participant, role, now_unix()).await?;
    transaction.commit().await?;
    Ok(before)
}

/// Forgets roles nobody set for [`ROLE_KEPT`], and expired tickets; how many rows went.
pub async fn forget_stale(postgres: &Postgres) -> Result<u64, StoreError> {
    let now = now_unix();
    let kept = i64::try_from(ROLE_KEPT.as_secs()).unwrap_or(i64::MAX);
    let client = postgres.client().await?;
    let roles = client
        .execute_typed(
            "DELETE FROM roles WHERE updated_at < $1",
            &[(&now.saturating_sub(kept), Type::INT8)],
        )
        .await?;
    let tickets = client
        .execute_typed(
            "DELETE FROM tickets WHERE expires_at <= $1",
            &[(&now, Type::INT8)],
        )
        .await?;
    Ok(roles + tickets)
}

/// Within `transaction`: the role row locked, set, and the change announced (on commit).
/// Returns the role stored before (a participant's, when none was).
async fn change_role(
    transaction: &deadpool_postgres::Transaction<'_>,
    room: &str,
    participant: &str,
    role: Role,
    now: i64,
) -> Result<Role, StoreError> {
    let inserted = transaction
        .execute_typed(
            "INSERT INTO roles (room, participant, role, updated_at)
             VALUES ($1, $2, 'participant', $3) ON CONFLICT (room, participant) DO NOTHING",
            &[
                (&room, Type::TEXT),
                (&participant, Type::TEXT),
                (&now, Type::INT8),
            ],
        )
        .await?;
    let row = transaction
        .query_typed_one(
            "SELECT role FROM roles WHERE room = $1 AND participant = $2 FOR UPDATE",
            &[(&room, Type::TEXT), (&participant, Type::TEXT)],
        )
        .await?;
    let stored = parse_role(&row.try_get::<_, String>(0)?);
    // A participant without a row may still have sessions open from before their role was
    // forgotten (`forget_stale`): their role then is not known, and they are sent the view of
    // the new one whatever it is.
    let before = if inserted > 0 {
        match role {
            Role::Moderator => Role::Participant,
            Role::Participant => Role::Moderator,
        }
    } else {
        stored
    };
    transaction
        .execute_typed(
            "UPDATE roles SET role = $3, updated_at = $4 WHERE room = $1 AND participant = $2",
            &[
                (&room, Type::TEXT),
                (&participant, Type::TEXT),
                (&role_text(role), Type::TEXT),
                (&now, Type::INT8),
            ],
        )
        .await?;
    if before != role {
        // The room's version, raised in this transaction (events.rs).
        let raised = transaction
            .query_typed_one(
                "INSERT INTO room_versions AS v (room, version) VALUES ($1, 1)
                 ON CONFLICT (room) DO UPDATE SET version = v.version + 1 RETURNING version",
                &[(&room, Type::TEXT)],
            )
            .await?;
        let version: i64 = raised.try_get(0)?;
        let event = RoomEvent::Role {
            room: room.to_owned(),
            participant: participant.to_owned(),
            before,
            after: role,
            version: u64::try_from(version).unwrap_or(0),
        };
        transaction
            .execute_typed(
                "SELECT pg_notify($1, $2)",
                &[(&CHANNEL, Type::TEXT), (&event.payload(), Type::TEXT)],
            )
            .await?;
    }
    Ok(stored)
}

fn digest(ticket: &str) -> String {
    Sha256::digest(ticket.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Moderator => "moderator",
        Role::Participant => "participant",
    }
}

/// A stored role; anything else reads as the lesser role.
fn parse_role(text: &str) -> Role {
    text.parse().unwrap_or(Role::Participant)
}

fn now_unix() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(now).unwrap_or(i64::MAX)
}
