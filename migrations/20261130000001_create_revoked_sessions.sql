-- Cookie mode's deny-list (`cookie_revocation = "denylist"`): the random ids of cookie sessions
-- that were logged out before their time. The server keeps nothing else about cookie sessions;
-- to end one early it must keep this much again, and read it on every request that loads one.
CREATE TABLE revoked_sessions (
    -- The random id sealed inside the cookie (never the cookie itself).
    id         TEXT PRIMARY KEY,
    -- The latest moment a copy of that cookie could still be valid (its absolute deadline): the
    -- entry is useless afterwards, and the cleanup task deletes it.
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX revoked_sessions_expires_at_idx ON revoked_sessions (expires_at);
