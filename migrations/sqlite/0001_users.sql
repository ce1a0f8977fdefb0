-- Users. Emails are stored normalised (trimmed, lowercase); NOCASE is a second guard.
-- Timestamps are Unix seconds (UTC).
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    auth_epoch    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
