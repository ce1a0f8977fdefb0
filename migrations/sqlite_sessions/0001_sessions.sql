-- Sessions, keyed by SHA-256 of the session id (32 bytes): a copy of this table cannot be
-- replayed as cookies. Timestamps are Unix seconds (UTC).
CREATE TABLE sessions (
    key               BLOB PRIMARY KEY NOT NULL,
    user_id           TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    idle_deadline     INTEGER NOT NULL,
    absolute_deadline INTEGER NOT NULL,
    -- min(idle_deadline, absolute_deadline), kept so the sweep is one index range scan.
    expires_at        INTEGER NOT NULL,
    user_agent        TEXT,
    auth_epoch        INTEGER NOT NULL
) WITHOUT ROWID;

-- "Log out everywhere" and the session list read by user.
CREATE INDEX sessions_by_user ON sessions (user_id);
-- The sweep deletes by expiry.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
