-- Signaling state the hosts share: tickets (by the SHA-256 of the ticket, never the ticket
-- itself) and participants' roles.
CREATE TABLE tickets (
    digest      TEXT PRIMARY KEY NOT NULL,
    room        TEXT NOT NULL,
    participant TEXT NOT NULL,
    role        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE TABLE roles (
    room        TEXT NOT NULL,
    participant TEXT NOT NULL,
    role        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (room, participant)
);
