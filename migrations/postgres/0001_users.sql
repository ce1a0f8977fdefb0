-- Users in PostgreSQL: the same model as migrations/sqlite. Emails are stored normalised
-- (trimmed, lowercase); the unique index on lower(email) is a second guard.
-- Timestamps are whole seconds, UTC.
CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    auth_epoch    BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
