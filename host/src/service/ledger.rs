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

use super::signaling::Admission;
use crate::events::{CHANNEL, RoomEvent};
use crate::records::postgres::{Postgres, describe};

/// Roles nobody set for this long are forgotten (a later ticket states them again).
const ROLE_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Stores a ticket (by digest) for `admission`, valid for `ttl`, and sets the participant's
/// role as the ticket says. Expired tickets are dropped on the way.
pub async fn issue(
    postgres: &Postgres,
    ticket: &str,
    admission: &Admission,
    ttl: Duration,
) -> Result<(), String> {
    let now = now_unix();
    let expires = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let mut client = postgres.client().await?;
    let transaction = client.transaction().await.map_err(describe)?;
    transaction
        .execute("DELETE FROM tickets WHERE expires_at <= $1", &[&now])
        .await
        .map_err(describe)?;
    transaction
        .execute(
            "INSERT INTO tickets (digest, room, participant, role, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &digest(ticket),
                &admission.room,
                &admission.participant,
                &role_text(admission.role),
                &expires,
            ],
        )
        .await
        .map_err(describe)?;
    change_role(
        &transaction,
        &admission.room,
        &admission.participant,
        admission.role,
        now,
    )
    .await?;
    transaction.commit().await.map_err(describe)
}

/// Takes `ticket` (whatever the outcome: it is used up) and returns what it admits, if it is
/// unexpired and for `room`.
pub async fn redeem(
    postgres: &Postgres,
    ticket: &str,
    room: &str,
) -> Result<Option<Admission>, String> {
    let client = postgres.client().await?;
    let row = client
        .query_opt(
            "DELETE FROM tickets WHERE digest = $1
             RETURNING room, participant, role, expires_at",
            &[&digest(ticket)],
        )
        .await
        .map_err(describe)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (ticket_room, participant, role, expires): (String, String, String, i64) = (
        row.try_get(0).map_err(describe)?,
        row.try_get(1).map_err(describe)?,
        row.try_get(2).map_err(describe)?,
        row.try_get(3).map_err(describe)?,
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
pub async fn role(postgres: &Postgres, room: &str, participant: &str) -> Result<Role, String> {
    let client = postgres.client().await?;
    let row = client
        .query_opt(
            "SELECT role FROM roles WHERE room = $1 AND participant = $2",
            &[&room, &participant],
        )
        .await
        .map_err(describe)?;
    match row {
        Some(row) => Ok(parse_role(&row.try_get::<_, String>(0).map_err(describe)?)),
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
) -> Result<Role, String> {
    let mut client = postgres.client().await?;
    let transaction = client.transaction().await.map_err(describe)?;
    let before = change_role(&transaction, room, participant, role, now_unix()).await?;
    transaction.commit().await.map_err(describe)?;
    Ok(before)
}

/// Forgets roles nobody set for [`ROLE_KEPT`], and expired tickets; how many rows went.
pub async fn forget_stale(postgres: &Postgres) -> Result<u64, String> {
    let now = now_unix();
    let kept = i64::try_from(ROLE_KEPT.as_secs()).unwrap_or(i64::MAX);
    let client = postgres.client().await?;
    let roles = client
        .execute(
            "DELETE FROM roles WHERE updated_at < $1",
            &[&now.saturating_sub(kept)],
        )
        .await
        .map_err(describe)?;
    let tickets = client
        .execute("DELETE FROM tickets WHERE expires_at <= $1", &[&now])
        .await
        .map_err(describe)?;
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
) -> Result<Role, String> {
    let inserted = transaction
        .execute(
            "INSERT INTO roles (room, participant, role, updated_at)
             VALUES ($1, $2, 'participant', $3) ON CONFLICT (room, participant) DO NOTHING",
            &[&room, &participant, &now],
        )
        .await
        .map_err(describe)?;
    let row = transaction
        .query_one(
            "SELECT role FROM roles WHERE room = $1 AND participant = $2 FOR UPDATE",
            &[&room, &participant],
        )
        .await
        .map_err(describe)?;
    let stored = parse_role(&row.try_get::<_, String>(0).map_err(describe)?);
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
        .execute(
            "UPDATE roles SET role = $3, updated_at = $4 WHERE room = $1 AND participant = $2",
            &[&room, &participant, &role_text(role), &now],
        )
        .await
        .map_err(describe)?;
    if before != role {
        // The room's version, raised in this transaction (events.rs).
        let raised = transaction
            .query_one(
                "INSERT INTO room_versions AS v (room, version) VALUES ($1, 1)
                 ON CONFLICT (room) DO UPDATE SET version = v.version + 1 RETURNING version",
                &[&room],
            )
            .await
            .map_err(describe)?;
        let version: i64 = raised.try_get(0).map_err(describe)?;
        let event = RoomEvent::Role {
            room: room.to_owned(),
            participant: participant.to_owned(),
            before,
            after: role,
            version: u64::try_from(version).unwrap_or(0),
        };
        transaction
            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &event.payload()])
            .await
            .map_err(describe)?;
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
