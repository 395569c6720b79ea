-- The folder records (what `records/mod.rs` describes). A file written before these
-- migrations (SQLite `user_version` 1 to 3) was first brought to this shape by the host's
-- earlier in-code migration, so the table may exist already.
CREATE TABLE IF NOT EXISTS folders (
    room                TEXT PRIMARY KEY NOT NULL,
    provider            TEXT NOT NULL,
    contract            TEXT NOT NULL,
    digest              TEXT NOT NULL,
    storage             TEXT NOT NULL,
    account             TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'deleting')),
    path                TEXT,
    handle              TEXT,
    read_url            TEXT,
    read_password       TEXT,
    read_write_url      TEXT,
    read_write_password TEXT,
    created_at          INTEGER NOT NULL
) STRICT;
