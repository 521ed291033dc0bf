-- Device cookies (docs/guide/throttling.md) name an account, not a user name: its id and this
-- secret, sealed in the cookie. `session-lab reset`, a password change and the account's deletion
-- give the account a new one (or take the row), so a device cookie minted before them is no
-- device afterwards: it cannot spend a new account of the same name's attempts (issue 22: three
-- minted before a reset checked 15 passwords against the new account while it was locked).
-- gen_random_uuid() draws from the server's strong random source (122 random bits).
ALTER TABLE users ADD COLUMN device_secret TEXT NOT NULL DEFAULT gen_random_uuid()::text;
