//! The class as a teacher sees it: every kept session (named by its handle, never its id), which
//! of them look orphaned, each learner's exercise progress, and the class-wide actions — end every
//! session, reset the class — that `/teacher` and `session-lab reset` share, so the page and the
//! command do exactly the same thing. The sessions themselves are listed and ended through the
//! session store's index ([`crate::session::SessionStore`]), never by SQL on its table: what is
//! here is the accounts' side (names, epochs) and the progress. With `shared_state = "redis"` the
//! class switches (outage, clock shift) reach every instance behind the proxy ([`shared`]).

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::{Duration, OffsetDateTime};

use crate::db::DbError;

mod shared;
pub use shared::{stage, SharedSwitches};

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

/// The account names of `user_ids`, for the kept sessions the store lists by account id.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn usernames(
    pool: &PgPool,
    user_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, DbError> {
    if user_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, username FROM users WHERE id = ANY($1)")
            .bind(user_ids)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
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
    /// Its id, for the board's per-student actions.
    pub user_id: Option<i64>,
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
        "SELECT left(l.id, 8) AS learner, u.username, l.user_id, l.last_seen_at, \
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

/// Learners with an account by its name, then those without; the order they came in (last seen)
/// within each.
pub fn sort_by_name(learners: &mut [LearnerProgress]) {
    learners.sort_by(|a, b| match (&a.username, &b.username) {
        (Some(x), Some(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// What a class-wide action must leave standing: the asking teacher's own account, whose epoch is
/// not bumped (its cookie sessions stay), so the page that asked can say what happened instead of
/// sending its teacher to the login page.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    pub user_id: Option<i64>,
}

/// Bumps every account's `session_epoch` (but `keep`'s), which refuses its cookie-mode sessions
/// wherever the account is loaded; returns how many accounts. Anonymous cookie-mode sessions
/// cannot be ended: the server keeps nothing of them to delete or bump.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn bump_epochs(pool: &PgPool, keep: &Keep) -> Result<u64, DbError> {
    let mut conn = pool.acquire().await?;
    bump(&mut conn, keep).await
}

async fn bump(conn: &mut PgConnection, keep: &Keep) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE id IS DISTINCT FROM $1",
    )
    .bind(keep.user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// What [`reset`] removed, per table, and the teachers it kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Kept sessions ended (server mode's rows), by the store.
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

/// Resets the class for its next session, once its kept sessions have been ended through the
/// store (`sessions_ended` of them): bumps every epoch (but `keep`'s), and removes all exercise
/// progress, every account that is not a teacher (the teachers' device cookies are replaced) and
/// — unless a teacher is kept logged in — the deny-list. One transaction: a failure leaves the accounts and progress as they were.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn reset(pool: &PgPool, keep: &Keep, sessions_ended: u64) -> Result<Removed, DbError> {
    let mut tx = pool.begin().await?;
    bump(&mut tx, keep).await?;
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
    // The teachers' device cookies go too: a reset starts the room over, and a device cookie a
    // student copied from the teacher's browser must not outlive it.
    sqlx::query("UPDATE users SET device_secret = gen_random_uuid()::text")
        .execute(&mut *tx)
        .await?;
    let teachers_kept: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Removed {
        sessions: sessions_ended,
        revoked_sessions,
        exercise_progress,
        learners,
        users,
        teachers_kept: u64::try_from(teachers_kept).unwrap_or(0),
    })
}

// One student, for the board's per-student actions (`/teacher/student/…`). Their sessions are
// ended through the store's index like the class's; what is here is the account and progress side.

/// A student account as the board's per-student table shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Student {
    pub id: i64,
    pub username: String,
    /// Learners (browsers) filed under the account.
    pub learners: i64,
    /// Their `exercise_progress` rows (predictions, hints, solves; one per exercise and mode).
    pub progress_rows: i64,
}

/// Every account that is not a teacher's, by name, with its learners and progress rows.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn students(pool: &PgPool) -> Result<Vec<Student>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.username, count(DISTINCT l.id) AS learners, \
                count(p.learner_id) AS progress_rows \
         FROM users u \
         LEFT JOIN learners l ON l.user_id = u.id \
         LEFT JOIN exercise_progress p ON p.learner_id = l.id \
         WHERE NOT u.is_teacher \
         GROUP BY u.id, u.username \
         ORDER BY lower(u.username), u.id",
    )
    .fetch_all(pool)
    .await?)
}

/// The name of the student account `user_id`; `None` when there is no such account or it is a
/// teacher's (the board's per-student actions act on students only).
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn student_name(pool: &PgPool, user_id: i64) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT username FROM users WHERE id = $1 AND NOT is_teacher")
            .bind(user_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Bumps one account's `session_epoch`, which refuses its cookie-mode sessions wherever the
/// account is loaded (as "sign out everywhere" does); returns the new epoch.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn bump_epoch_of(pool: &PgPool, user_id: i64) -> Result<i32, DbError> {
    let mut conn = pool.acquire().await?;
    crate::auth::users::bump_epoch(&mut conn, user_id).await
}

/// What resetting one student's or one learner's progress removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressReset {
    /// `exercise_progress` rows deleted.
    pub rows: u64,
    /// Learners (browsers) they belonged to; the learners themselves stay.
    pub learners: u64,
}

/// Deletes the progress of every learner filed under the account `user_id`. The learner rows
/// stay, so their cookies keep naming them: the next prediction starts that exercise afresh.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn reset_account_progress(pool: &PgPool, user_id: i64) -> Result<ProgressReset, DbError> {
    let (rows, learners): (i64, i64) = sqlx::query_as(
        "WITH l AS (SELECT id FROM learners WHERE user_id = $1), \
              d AS (DELETE FROM exercise_progress p USING l WHERE p.learner_id = l.id \
                    RETURNING 1) \
         SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM l)",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    Ok(ProgressReset {
        rows: u64::try_from(rows).unwrap_or(0),
        learners: u64::try_from(learners).unwrap_or(0),
    })
}

/// Deletes the progress of the one learner whose id starts with `prefix` (the 8 hex digits the
/// board shows). `None` when no learner, or more than one, starts so: nothing is deleted then.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn reset_learner_progress(
    pool: &PgPool,
    prefix: &str,
) -> Result<Option<ProgressReset>, DbError> {
    let (rows, learners): (i64, i64) = sqlx::query_as(
        "WITH l AS (SELECT id FROM learners WHERE left(id, 8) = $1), \
              d AS (DELETE FROM exercise_progress p USING l \
                    WHERE p.learner_id = l.id AND (SELECT count(*) FROM l) = 1 RETURNING 1) \
         SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM l)",
    )
    .bind(prefix)
    .fetch_one(pool)
    .await?;
    Ok((learners == 1).then(|| ProgressReset {
        rows: u64::try_from(rows).unwrap_or(0),
        learners: 1,
    }))
}

/// How many learners were seen (a step of an exercise stored, or their account filed) since
/// `since`, and how many there are: the browsers doing the exercises, for the board's "this will
/// reach N of M browsers".
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn learners_seen(pool: &PgPool, since: OffsetDateTime) -> Result<(i64, i64), DbError> {
    Ok(
        sqlx::query_as("SELECT count(*) FILTER (WHERE last_seen_at >= $1), count(*) FROM learners")
            .bind(since)
            .fetch_one(pool)
            .await?,
    )
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
