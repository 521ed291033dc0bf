-- Sessions filed under the SHA-256 of their id, not the id: `sessions.id` was the credential
-- itself, so a dump, a replica or a backup of this table opened every live session (as Django's
-- `django_session.session_key` still does; Rails stores SHA-256(id) since CVE-2019-16782). From
-- here on `id` holds hex(SHA-256(the id the cookie carries)); the app hashes the cookie's id on
-- every statement, so the cookies already out there keep working once their rows are re-keyed.
--
-- The handle (what "your sessions" and the teacher's view name a row by) does not change.
UPDATE sessions SET id = encode(sha256(convert_to(id, 'UTF8')), 'hex');

COMMENT ON COLUMN sessions.id IS
    'hex SHA-256 of the session id the cookie carries (never the id itself)';
