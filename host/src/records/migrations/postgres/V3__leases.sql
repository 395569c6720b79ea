-- Leases (`records/leases.rs`): a room held by one host while an operation on it runs, and
-- the reconcile round held by one host at a time. A row per lease held: its holder (a host
-- instance), the grant (one acquisition) and when it runs out unless renewed, on the server's
-- clock. Rows rather than advisory locks, so that no connection is held for them and they
-- work through PgBouncer in transaction mode.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    grant_id   BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
