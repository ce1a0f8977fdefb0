-- One counter that every change to a user row moves, kept by the database itself, so a
-- change made by any instance (or the admin command line) moves it for all of them.
-- Each instance's user cache compares it, once a second, instead of reading each user
-- again: while it stands still, nothing cached can be stale. It moves in the same
-- transaction as the change, so it is never seen to move before the change is. A new
-- user moves nothing, since no cache can hold a user that did not exist.
CREATE TABLE user_changes (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    stamp BIGINT NOT NULL
);
INSERT INTO user_changes (id, stamp) VALUES (1, 0);

-- search_path as at creation: the table is found in this schema whoever runs the trigger.
CREATE FUNCTION note_user_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE user_changes SET stamp = stamp + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION note_user_change();
