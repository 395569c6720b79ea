-- The order of each room's events: every write that announces a room event (a folder written
-- or being deleted, a role changed) raises its room's version in the same statement and
-- carries the new one in the notification, so a session that joined knowing version N skips
-- what it has seen already. Never lowered; a row per room that ever had an event.
-- (SQLite serves one process, which counts the versions itself.)
CREATE TABLE room_versions (
    room    TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
