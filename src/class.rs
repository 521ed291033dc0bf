//! The class as a teacher sees it: every server-mode session row (named by its handle, never its
//! id), which of them look orphaned, each learner's exercise progress, and the class-wide actions — end every session, reset the
//! class — that `/teacher` and `session-lab reset` share, so the page and the command do exactly
//! the same thing.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::{Duration, OffsetDateTime};

use crate::db::DbError;

/// Whether the account `user_id` is a teacher (`users.is_teacher`, set only by
/// `create-user --teacher`). A missing account is no teacher.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn is_teacher(conn: &mut PgConnection, user_id: i64) -> Result<bool, DbError> {
    let teacher: Option<bool> = sqlx::query_scalar("SELECT is_teacher FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(teacher.unwrap_or(false))
}

/// One row of `sessions` as the teacher's table shows it. No `id`: the id is the credential (the
/// cookie carries it), so a page listing everyone's would hand every session to its reader.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClassSession {
    /// The row's public name (random, see the migration), safe to show.
    pub handle: i64,
    /// The account it is logged in as; `None` for an anonymous session.
    pub username: Option<String>,
    /// The session's data as PostgreSQL stores it (`pg_column_size` of the `jsonb`, after any
    /// compression), in bytes.
    pub bytes: i32,
    pub created_at: OffsetDateTime,
    /// The last sliding refresh, which is not the last request: see [`quiet_for`].
    pub updated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub absolute_expires_at: OffsetDateTime,
    /// The row of the session that asked (the teacher's own), if it is in the table.
    pub current: bool,
}

/// Every session row, most recently refreshed first; `current` names the asking session's row.
/// Expired rows waiting for the cleanup task are included: they are in the table too.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn sessions(pool: &PgPool, current: Option<&str>) -> Result<Vec<ClassSession>, DbError> {
    Ok(sqlx::query_as(
        "SELECT s.handle, u.username, pg_column_size(s.data) AS bytes, s.created_at, \
                s.updated_at, s.expires_at, s.absolute_expires_at, s.id = $1 IS TRUE AS current \
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
         ORDER BY s.updated_at DESC, s.handle",
    )
    .bind(current)
    .fetch_all(pool)
    .await?)
}

/// How long a row has certainly had no request, given the idle window `idle`. The layer pushes
/// `updated_at` only once less than half of the window is left (one write per half window, not
/// one per request), so a row refreshed `t` ago may have been used at any time in the first
/// `idle / 2` of that: only what lies beyond it is known to be quiet. Zero when nothing is known.
pub fn quiet_for(updated_at: OffsetDateTime, now: OffsetDateTime, idle: Duration) -> Duration {
    let quiet: Duration = now - updated_at - idle / 2;
    quiet.max(Duration::ZERO)
}

/// The derived rule for an orphan: a row that has certainly had no request for a quarter of the
/// idle window (7.5 minutes with the default 30) is most likely one whose cookie was deleted or
/// whose browser was closed. Nobody can tell it apart from a student who stepped away; either
/// way the row stays until its idle deadline.
pub fn orphan_after(idle: Duration) -> Duration {
    idle / 4
}

/// One learner (one browser, see [`crate::learner`]) and what it solved.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LearnerProgress {
    /// The first 8 hex digits of the learner's id: enough to tell browsers apart on the page.
    /// The id alone acts as nobody (a learner cookie naming it needs the app's key), but the whole
    /// of it is not needed here.
    pub learner: String,
    /// The account last logged in from this browser, if any.
    pub username: Option<String>,
    pub last_seen_at: OffsetDateTime,
    /// The exercises solved, each once whichever mode solved it.
    pub solved: Vec<String>,
}

/// Every learner, most recently seen first, with the exercises it solved.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn progress(pool: &PgPool) -> Result<Vec<LearnerProgress>, DbError> {
    Ok(sqlx::query_as(
        "SELECT left(l.id, 8) AS learner, u.username, l.last_seen_at, \
                COALESCE(array_agg(DISTINCT p.exercise_id ORDER BY p.exercise_id) \
                         FILTER (WHERE p.solved_at IS NOT NULL), '{}') AS solved \
         FROM learners l \
         LEFT JOIN users u ON u.id = l.user_id \
         LEFT JOIN exercise_progress p ON p.learner_id = l.id \
         GROUP BY l.id, u.username, l.last_seen_at \
         ORDER BY l.last_seen_at DESC, l.id",
    )
    .fetch_all(pool)
    .await?)
}

/// What [`end_every_session`] ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ended {
    /// `sessions` rows deleted (server mode's sessions).
    pub rows: u64,
    /// Accounts whose `session_epoch` went up: their cookie-mode sessions are refused wherever
    /// the account is loaded.
    pub accounts: u64,
}

/// What a class-wide action must leave standing: the asking teacher's own session, so the page
/// that asked can say what happened instead of sending its teacher to the login page.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    /// The asking session's row id (server mode), kept in `sessions`.
    pub session_id: Option<String>,
    /// The asking teacher's account, whose epoch is not bumped (its cookie sessions stay).
    pub user_id: Option<i64>,
}

/// Ends every session but `keep`'s: deletes every `sessions` row, and bumps every account's
/// `session_epoch`, which refuses its cookie-mode sessions where the account is loaded. Anonymous
/// cookie-mode sessions cannot be ended: the server keeps nothing of them to delete or bump.
///
/// # Errors
/// [`DbError`] when the database cannot be reached; nothing is changed then (one transaction).
pub async fn end_every_session(pool: &PgPool, keep: &Keep) -> Result<Ended, DbError> {
    let mut tx = pool.begin().await?;
    let ended = end_sessions(&mut tx, keep).await?;
    tx.commit().await?;
    Ok(ended)
}

async fn end_sessions(conn: &mut PgConnection, keep: &Keep) -> Result<Ended, DbError> {
    let rows = sqlx::query("DELETE FROM sessions WHERE id IS DISTINCT FROM $1")
        .bind(keep.session_id.as_deref())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let accounts = sqlx::query(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE id IS DISTINCT FROM $1",
    )
    .bind(keep.user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(Ended { rows, accounts })
}

/// What [`reset`] removed, per table, and the teachers it kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// `sessions` rows.
    pub sessions: u64,
    /// `revoked_sessions` entries (cookie mode's deny-list).
    pub revoked_sessions: u64,
    /// `exercise_progress` rows (predictions, hints, solves).
    pub exercise_progress: u64,
    /// `learners` rows: the browsers' learner cookies then name nobody, and start afresh.
    pub learners: u64,
    /// `users` rows that were not teachers.
    pub users: u64,
    /// Teachers' accounts, kept (their sessions end like everyone's, the asking one aside).
    pub teachers_kept: u64,
}

impl Removed {
    /// One line per table, as `session-lab reset` prints it.
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!("sessions: {} rows deleted", self.sessions),
            format!(
                "revoked_sessions: {} deny-list entries deleted",
                self.revoked_sessions
            ),
            format!("exercise_progress: {} rows deleted", self.exercise_progress),
            format!("learners: {} rows deleted", self.learners),
            format!("users: {} non-teacher accounts deleted", self.users),
            format!("teachers kept: {}", self.teachers_kept),
        ]
    }
}

/// Resets the class for its next session: ends every session (but `keep`'s), and removes all
/// exercise progress, every account that is not a teacher and — unless a teacher is kept logged
/// in — the deny-list. One transaction: a failure leaves the class as it was.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn reset(pool: &PgPool, keep: &Keep) -> Result<Removed, DbError> {
    let mut tx = pool.begin().await?;
    let ended = end_sessions(&mut tx, keep).await?;
    // The deny-list goes only when every account's epoch moved too (the command). A teacher kept
    // logged in (the page) keeps their epoch, so the copies of their own logged-out cookie-mode
    // sessions — which only the deny-list refuses — must stay refused; the entries expire anyway.
    let revoked_sessions = match keep.user_id {
        None => sqlx::query("DELETE FROM revoked_sessions")
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        Some(_) => 0,
    };
    let exercise_progress = sqlx::query("DELETE FROM exercise_progress")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let learners = sqlx::query("DELETE FROM learners")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let users = sqlx::query("DELETE FROM users WHERE NOT is_teacher")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let teachers_kept: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Removed {
        sessions: ended.rows,
        revoked_sessions,
        exercise_progress,
        learners,
        users,
        teachers_kept: u64::try_from(teachers_kept).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_row_is_known_quiet_only_past_half_its_idle_window() {
        let idle = Duration::minutes(30);
        let refreshed = datetime!(2026-12-04 10:00 UTC);
        let at = |m: i64| refreshed + Duration::minutes(m);
        assert_eq!(quiet_for(refreshed, at(10), idle), Duration::ZERO);
        assert_eq!(quiet_for(refreshed, at(15), idle), Duration::ZERO);
        assert_eq!(quiet_for(refreshed, at(25), idle), Duration::minutes(10));
        assert!(quiet_for(refreshed, at(22), idle) < orphan_after(idle));
        assert!(quiet_for(refreshed, at(23), idle) >= orphan_after(idle));
    }
}
