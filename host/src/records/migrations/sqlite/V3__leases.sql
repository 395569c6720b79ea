-- Leases, as PostgreSQL's (`records/leases.rs`): one host on SQLite holds its rooms in
-- memory and never writes here; the table is here so that both databases have one schema.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    grant_id   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
