-- The folder records (what `records/mod.rs` describes); the same table as SQLite's.
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
    created_at          BIGINT NOT NULL
);
