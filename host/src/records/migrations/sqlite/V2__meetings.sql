-- Signaling state several hosts share: tickets (by the SHA-256 of the ticket, never the
-- ticket itself) and participants' roles. One host on SQLite keeps these in memory; the tables
-- are here so that both databases have one schema.
CREATE TABLE tickets (
    digest      TEXT PRIMARY KEY NOT NULL,
    room        TEXT NOT NULL,
    participant TEXT NOT NULL,
    role        TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE roles (
    room        TEXT NOT NULL,
    participant TEXT NOT NULL,
    role        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (room, participant)
) STRICT;
