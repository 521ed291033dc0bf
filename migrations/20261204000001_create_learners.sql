-- Exercises: who is learning, and what they predicted, asked and did. A learner is one browser,
-- not a session: the exercises make students delete, tamper with and replay their session
-- cookie and log out, so progress kept in the session would be lost by the very lessons it
-- records. The learner's id lives sealed in a long-lived `learner` cookie of its own.
CREATE TABLE learners (
    -- 128 random bits, hex. Sealed inside the learner cookie, so knowing it is not enough to
    -- act as the learner: a cookie naming it can only be made with the app's key.
    id           TEXT PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The account last logged in from this browser (for a teacher's view of the class); the
    -- learner stays when the account goes.
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL
);

-- One row per learner, exercise and mode: the same exercise teaches something different in each
-- mode (a replayed cookie works in one and is refused in the other), so each has its own
-- prediction. The score board counts an exercise once, whichever mode solved it.
CREATE TABLE exercise_progress (
    learner_id   TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    -- An id from the catalogue in src/exercises/catalogue.rs (`tamper`, `overflow`, …).
    exercise_id  TEXT NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('server', 'cookie')),
    -- The index of the choice the learner predicted, before acting.
    prediction   SMALLINT,
    predicted_at TIMESTAMPTZ,
    -- Hints asked for; the full answer shows from the second on.
    hints        SMALLINT NOT NULL DEFAULT 0,
    -- When the server saw the learner's own requests do it, and what it saw, in words.
    solved_at    TIMESTAMPTZ,
    evidence     TEXT,
    PRIMARY KEY (learner_id, exercise_id, mode)
);

-- A teacher's view reads per account.
CREATE INDEX learners_user_id_idx ON learners (user_id) WHERE user_id IS NOT NULL;
