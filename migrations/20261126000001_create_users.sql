-- Accounts. Usernames are stored lower-case and unique; the check keeps the rule in one place
-- the application cannot forget. Passwords are argon2id PHC strings, never the password.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{3,32}$'),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- "Sign out everywhere" for cookie mode: copied into the cookie at login; bumping it makes
    -- every older cookie of this user refused wherever the user is loaded (one indexed read).
    session_epoch INTEGER NOT NULL DEFAULT 0
);
