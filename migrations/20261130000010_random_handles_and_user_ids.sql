-- Numbers users see are random, not sequential: a session handle (in every "sign out this one"
-- form) or a user id (on /account, in the inspector's session map) that counts up tells anyone
-- with two accounts how many others signed up or logged in between them.
--
-- 53 random bits: unguessable enough to reveal no count, and still an exact number in JavaScript
-- (Number.MAX_SAFE_INTEGER = 2^53 - 1), so /session.json reads the same in a browser. The bits
-- come from gen_random_uuid() (PostgreSQL's strong random source; random() is a seeded PRNG),
-- mixed through md5 so the UUID's fixed version bits do not matter. The UNIQUE and PRIMARY KEY
-- constraints stay: a collision (about n / 2^53 per insert) fails that one insert.
CREATE FUNCTION random_public_id() RETURNS BIGINT
LANGUAGE sql VOLATILE
AS $$
    SELECT ('x' || substr(md5(gen_random_uuid()::text), 1, 16))::bit(64)::bigint
           & 9007199254740991
$$;

-- Handles: no longer an identity; existing rows get random ones too, so no sequential handle
-- stays in a page. A handle names a row only within its user's own sessions (the DELETE checks
-- user_id as well), so changing it ends nothing.
ALTER TABLE sessions ALTER COLUMN handle DROP IDENTITY;
ALTER TABLE sessions ALTER COLUMN handle SET DEFAULT random_public_id();
UPDATE sessions SET handle = random_public_id();

-- User ids: new accounts get random ids. Existing ids stay: sessions reference them, and cookie
-- mode's sealed cookies carry them, so renumbering would log everyone out or worse.
ALTER TABLE users ALTER COLUMN id DROP IDENTITY;
ALTER TABLE users ALTER COLUMN id SET DEFAULT random_public_id();
