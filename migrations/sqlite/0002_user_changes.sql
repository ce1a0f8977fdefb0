-- One counter that every change to a user row moves, kept by the database itself, so a
-- change made by any process (another instance, the admin command line) moves it too.
-- The user cache compares it, once a second, instead of reading each user again: while
-- it stands still, nothing cached can be stale. A new user moves nothing, since no cache
-- can hold a user that did not exist.
CREATE TABLE user_changes (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    stamp INTEGER NOT NULL
);
INSERT INTO user_changes (id, stamp) VALUES (1, 0);

CREATE TRIGGER users_updated AFTER UPDATE ON users
BEGIN
    UPDATE user_changes SET stamp = stamp + 1 WHERE id = 1;
END;

CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
    UPDATE user_changes SET stamp = stamp + 1 WHERE id = 1;
END;
