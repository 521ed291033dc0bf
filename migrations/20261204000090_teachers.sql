-- Teachers: an account that may open /teacher, see every session row and the class's progress,
-- and end or reset the class. One flag on `users` rather than a roles table: there is exactly one
-- role, the check reads the row the login already found, and a join for one bit would teach
-- nothing. Only `session-lab create-user --teacher` sets it; the signup form's INSERT does not
-- name the column, so a signup can never make a teacher.
ALTER TABLE users ADD COLUMN is_teacher BOOLEAN NOT NULL DEFAULT false;
