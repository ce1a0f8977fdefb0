-- Sessions, keyed by SHA-256 of the session id (32 bytes): a copy of this table cannot be
-- replayed as cookies. Timestamps are Unix seconds (UTC), as in the SQLite store. These
-- tables live in their own schema (setting `postgres_session_schema`), apart from users.
CREATE TABLE sessions (
    key               BYTEA PRIMARY KEY,
    user_id           UUID NOT NULL,
    created_at        BIGINT NOT NULL,
    last_seen         BIGINT NOT NULL,
    idle_deadline     BIGINT NOT NULL,
    absolute_deadline BIGINT NOT NULL,
    -- LEAST(idle_deadline, absolute_deadline), kept so the sweep is one index range scan.
    expires_at        BIGINT NOT NULL,
    user_agent        TEXT,
    auth_epoch        BIGINT NOT NULL,
    -- "Remember me": the cookie outlives the browser (otherwise a browser-session cookie).
    persistent        BOOLEAN NOT NULL DEFAULT TRUE
);

-- "Log out everywhere" and the session list read by user.
CREATE INDEX sessions_by_user ON sessions (user_id);
-- The sweep deletes by expiry.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Login and signup throttling counters, shared by every instance.
CREATE TABLE throttle (
    key       TEXT PRIMARY KEY,
    count     BIGINT NOT NULL,
    resets_at BIGINT NOT NULL
);
CREATE INDEX throttle_by_reset ON throttle (resets_at);
