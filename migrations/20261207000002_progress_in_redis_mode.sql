-- The third store's exercises (`evicted`, `dump`) are done in redis mode, so progress rows name
-- it too: without this the row was refused by the check and the solve waited in the learner
-- cookie for good.
ALTER TABLE exercise_progress DROP CONSTRAINT IF EXISTS exercise_progress_mode_check;
ALTER TABLE exercise_progress
    ADD CONSTRAINT exercise_progress_mode_check CHECK (mode IN ('server', 'cookie', 'redis'));
