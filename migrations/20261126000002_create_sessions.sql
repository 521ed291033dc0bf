-- Server mode's sessions: one row per session, keyed by the random id the cookie carries.
-- Cookie mode never writes here.
CREATE TABLE sessions (
    -- 256 random bits, base64url: unguessable, so the id itself is the credential.
    id                  TEXT PRIMARY KEY,
    -- The session map, exactly what the inspector's "decoded map" shows.
    data                JSONB NOT NULL,
    -- Mirrors data->'user_id' so "your sessions" and "sign out everywhere" are one index lookup.
    user_id             BIGINT REFERENCES users (id) ON DELETE CASCADE,
    -- Creation or login: the absolute deadline counts from here.
    created_at          TIMESTAMPTZ NOT NULL,
    -- Last sliding refresh of the idle deadline.
    updated_at          TIMESTAMPTZ NOT NULL,
    -- When the session ends: the earlier of the idle and the absolute deadline. Loads check it.
    expires_at          TIMESTAMPTZ NOT NULL,
    -- Never moves: a session ends here however active it is.
    absolute_expires_at TIMESTAMPTZ NOT NULL,
    -- "Remember me": the cookie is persistent instead of ending with the browser.
    remember            BOOLEAN NOT NULL DEFAULT false,
    user_agent          TEXT,
    -- A name for the row that is safe to put in another page's form ("sign out this one"): the id
    -- is the credential, shown only to its owner, in the inspector.
    handle              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
)
-- Room on each page for a new version of a row: an update that changes no indexed column (most
-- writes change only data and updated_at) then stays on its page and touches no index.
WITH (fillfactor = 70);

-- The cleanup task deletes by expiry in batches.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
-- Per-user lookups: list a user's sessions, sign out all others.
CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE user_id IS NOT NULL;
