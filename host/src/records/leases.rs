//! Leases: which host works on a room now (or runs the reconcile round), as rows of the
//! `leases` table instead of locks a connection holds. A connection is taken for each
//! statement only, so a host needs the same few connections whatever the number of rooms in
//! progress, and nothing here is session state: it all works through PgBouncer in transaction
//! mode.
//!
//! A lease names its holder (this process's [`instance_id`]) and a grant (one acquisition),
//! and runs out at `expires_at`, on the database server's clock (so hosts' clocks may
//! differ). While it is held, one task per host renews all of its leases in one statement
//! every [`LeaseTiming::renew_every`]; a host that dies renews nothing, and once its leases ran
//! out another host takes them over (recovery purges what it left). Dropping a [`Lease`]
//! releases it at once (best effort: a release that fails leaves it to run out).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::types::Type;

use super::{StoreError, bounded};

/// How long a lease lasts unless renewed, and how often its holder renews it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// How long after its last renewal a lease runs out: how long a dead host's rooms wait
    /// before another host may clean up after it.
    pub duration: Duration,
    /// How often a holder renews its leases: a third of `duration`, so two renewals may fail
    /// (the database away for a moment) before a lease runs out.
    pub renew_every: Duration,
}

impl LeaseTiming {
    /// Leases of `duration`, renewed every third of it.
    pub fn lasting(duration: Duration) -> Self {
        LeaseTiming {
            duration,
            renew_every: duration / 3,
        }
    }
}

impl Default for LeaseTiming {
    /// 30 s, renewed every 10 s.
    fn default() -> Self {
        Self::lasting(Duration::from_secs(30))
    }
}

/// How long a wait for a held lease sleeps between tries, first and at most.
const FIRST_WAIT: Duration = Duration::from_millis(20);
const LONGEST_WAIT: Duration = Duration::from_millis(500);

/// How soon renewal is tried again after it failed (the database away).
const RENEW_RETRY: Duration = Duration::from_secs(1);

/// This process's leases on one database.
pub(crate) struct Leases {
    pool: Pool,
    holder: String,
    timing: LeaseTiming,
    /// Grants held now (until their `Lease` drops), by grant: the lease's name, and whether
    /// it was found lost (run out and taken over: no longer renewed).
    held: Mutex<HashMap<i64, Held>>,
}

impl Leases {
    /// Leases taken with statements on `pool`'s connections, renewed by a task of their own
    /// for as long as the returned value (or a lease) lives.
    pub(crate) fn new(pool: Pool, timing: LeaseTiming) -> Arc<Self> {
        let leases = Arc::new(Leases {
            pool,
            holder: instance_id(),
            timing,
            held: Mutex::new(HashMap::new()),
        });
        tokio::spawn(renew(Arc::downgrade(&leases)));
        leases
    }

    /// The lease `name` if nobody holds it now (or its holder's ran out).
    pub(crate) async fn try_acquire(
        self: &Arc<Self>,
        name: &str,
    ) -> Result<Option<Lease>, StoreError> {
        let mut lease = Lease {
            leases: Arc::clone(self),
            name: name.to_owned(),
            grant: new_grant()?,
            // Until the answer says otherwise, the row may be written: a future dropped
            // meanwhile releases it.
            written: true,
        };
        let row = bounded(async {
            let client = self.pool.get().await?;
            Ok(client
                .query_typed_opt(
                    "WITH before AS (SELECT holder FROM leases WHERE name = $1)
                 INSERT INTO leases (name, holder, grant_id, expires_at)
                 VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))
                 ON CONFLICT (name) DO UPDATE
                     SET holder = EXCLUDED.holder, grant_id = EXCLUDED.grant_id,
                         expires_at = EXCLUDED.expires_at
                     WHERE leases.expires_at <= clock_timestamp()
                 RETURNING (SELECT holder FROM before)",
                    &[
                        (&name, Type::TEXT),
                        (&self.holder, Type::TEXT),
                        (&lease.grant, Type::INT8),
                        (&self.timing.duration.as_secs_f64(), Type::FLOAT8),
                    ],
                )
                .await?)
        })
        .await?;
        let Some(row) = row else {
            lease.written = false;
            return Ok(None);
        };
        let before: Option<String> = row.try_get(0)?;
        if let Some(before) = before {
            tracing::info!(lease = name, holder = %before, "took over a lease that ran out");
        }
        self.held_grants().insert(
            lease.grant,
            Held {
                name: name.to_owned(),
                lost: false,
            },
        );
        Ok(Some(lease))
    }

    /// Waits until nobody holds the lease `name`, and holds it.
    pub(crate) async fn acquire(self: &Arc<Self>, name: &str) -> Result<Lease, StoreError> {
        let mut wait = FIRST_WAIT;
        loop {
            if let Some(lease) = self.try_acquire(name).await? {
                return Ok(lease);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(LONGEST_WAIT);
        }
    }

    /// The grant of the lease `name` this process holds, if it does (also when it was found
    /// lost: statements fenced by it then change nothing).
    pub(crate) fn grant(&self, name: &str) -> Option<i64> {
        self.held_grants()
            .iter()
            .find(|(_, held)| held.name == name)
            .map(|(grant, _)| *grant)
    }

    fn held_grants(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renews every lease held; the grants renewed. A lease that ran out and was not taken
    /// over is still this host's grant, and is renewed: nobody else worked on its room.
    async fn renew_held(&self, grants: &[i64]) -> Result<Vec<i64>, StoreError> {
        let rows = bounded(async {
            let client = self.pool.get().await?;
            Ok(client
                .query_typed(
                    "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => $3)
                 WHERE holder = $1 AND grant_id = ANY($2)
                 RETURNING grant_id",
                    &[
                        (&self.holder, Type::TEXT),
                        (&grants, Type::INT8_ARRAY),
                        (&self.timing.duration.as_secs_f64(), Type::FLOAT8),
                    ],
                )
                .await?)
        })
        .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?)
    }
}

/// A grant this process holds.
struct Held {
    name: String,
    lost: bool,
}

/// A lease held; released on drop.
pub(crate) struct Lease {
    leases: Arc<Leases>,
    name: String,
    grant: i64,
    /// Whether the lease's row may be in the table (and so is deleted on drop).
    written: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.leases.held_grants().remove(&self.grant);
        if !self.written {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (leases, name, grant) = (Arc::clone(&self.leases), self.name.clone(), self.grant);
        runtime.spawn(async move {
            let released = async {
                let client = leases.pool.get().await?;
                client
                    .execute_typed(
                        "DELETE FROM leases WHERE name = $1 AND grant_id = $2",
                        &[(&name, Type::TEXT), (&grant, Type::INT8)],
                    )
                    .await?;
                Ok::<_, StoreError>(())
            };
            if let Err(error) = bounded(released).await {
                tracing::warn!(lease = %name, %error, "could not release a lease; it runs out");
            }
        });
    }
}

/// Renews `leases`' grants every [`LeaseTiming::renew_every`], for as long as they live.
async fn renew(leases: Weak<Leases>) {
    let Some(every) = leases.upgrade().map(|l| l.timing.renew_every) else {
        return;
    };
    let mut wait = every;
    loop {
        tokio::time::sleep(wait).await;
        let Some(leases) = leases.upgrade() else {
            return;
        };
        let grants: Vec<i64> = leases
            .held_grants()
            .iter()
            .filter(|(_, held)| !held.lost)
            .map(|(grant, _)| *grant)
            .collect();
        if grants.is_empty() {
            wait = every;
            continue;
        }
        match leases.renew_held(&grants).await {
            Ok(renewed) => {
                wait = every;
                let mut held = leases.held_grants();
                for grant in grants.iter().filter(|g| !renewed.contains(g)) {
                    // Released meanwhile, or run out (and maybe taken over by another host):
                    // renewing it no more.
                    if let Some(held) = held.get_mut(grant) {
                        held.lost = true;
                        tracing::warn!(
                            lease = %held.name,
                            "a lease ran out and was taken over before it was renewed"
                        );
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not renew this host's leases; trying again");
                wait = RENEW_RETRY.min(every);
            }
        }
    }
}

/// This process, as the holder of its leases: the machine's name, the process id and a
/// random part (a process id may come again, in another container).
pub(crate) fn instance_id() -> String {
    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    format!(
        "{machine}/{}/{:08x}",
        std::process::id(),
        u32::from_be_bytes(random)
    )
}

fn new_grant() -> Result<i64, StoreError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|e| StoreError::Failed(format!("no random grant for a lease: {e}")))?;
    Ok(i64::from_be_bytes(random))
}
