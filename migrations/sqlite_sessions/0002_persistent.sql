-- "Remember me": 1 when the cookie outlives the browser (Max-Age = absolute timeout),
-- 0 for a browser-session cookie. Sessions from before the choice existed were persistent.
ALTER TABLE sessions ADD COLUMN persistent INTEGER NOT NULL DEFAULT 1;
