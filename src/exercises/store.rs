//! Progress in PostgreSQL: one row per learner (`learners`) and one per learner, exercise and
//! mode (`exercise_progress`). Every write is one statement that also makes the learner's row, so
//! a learner whose first steps were kept in the cookie (database away) is stored whole later.

use rocket::Rocket;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{ExerciseId, ProgressTrace};
use crate::db::{Db, DbError};
use crate::learner::Pending;
use crate::settings::Mode;
use rocket_db_pools::Database;

/// One exercise in one mode, as stored.
#[derive(Debug, Clone)]
pub struct Progress {
    pub exercise: ExerciseId,
    pub mode: Mode,
    pub prediction: Option<i16>,
    pub hints: i16,
    pub solved_at: Option<OffsetDateTime>,
    pub evidence: Option<String>,
}

impl Progress {
    /// Nothing yet: no prediction, no hint, not solved.
    pub fn empty(exercise: ExerciseId, mode: Mode) -> Progress {
        Progress {
            exercise,
            mode,
            prediction: None,
            hints: 0,
            solved_at: None,
            evidence: None,
        }
    }
}

/// A row as the table holds it: names as text, read into a [`Progress`].
#[derive(sqlx::FromRow)]
struct Row {
    exercise_id: String,
    mode: String,
    prediction: Option<i16>,
    hints: i16,
    solved_at: Option<OffsetDateTime>,
    evidence: Option<String>,
}

impl Row {
    /// `None` for a row this version has no exercise or mode for (left by a newer one).
    fn typed(self) -> Option<Progress> {
        Some(Progress {
            exercise: ExerciseId::parse(&self.exercise_id)?,
            mode: Mode::named(&self.mode)?,
            prediction: self.prediction,
            hints: self.hints,
            solved_at: self.solved_at,
            evidence: self.evidence,
        })
    }
}

/// The pool. The outage lab's switch cuts one browser's *session* off from the database, not its
/// progress: the progress store is the course's record, so it keeps working while a student
/// watches their session fail (which is how the `outage` exercise gets recorded at once).
///
/// # Errors
/// [`DbError::Unavailable`] when PostgreSQL cannot be reached.
pub async fn pool<P>(rocket: &Rocket<P>) -> Result<&PgPool, DbError>
where
    P: rocket::Phase,
{
    let Some(db) = Db::fetch(rocket) else {
        return Err(DbError::Config("no database configured".into()));
    };
    db.ready().await
}

/// A learner's progress in every exercise and mode.
///
/// # Errors
/// The database's.
pub async fn load(
    pool: &PgPool,
    learner: &str,
    trace: &ProgressTrace,
) -> Result<Vec<Progress>, DbError> {
    trace.query();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT exercise_id, mode, prediction, hints, solved_at, evidence \
         FROM exercise_progress WHERE learner_id = $1",
    )
    .bind(learner)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().filter_map(Row::typed).collect())
}

/// Stores one piece of progress: a prediction (kept only while unsolved: what was predicted
/// before acting is what the page compares), a hint, or a solve (the first one counts).
///
/// # Errors
/// The database's.
pub async fn record(
    pool: &PgPool,
    learner: &str,
    p: &Pending,
    trace: &ProgressTrace,
) -> Result<(), DbError> {
    let at =
        OffsetDateTime::from_unix_timestamp(p.at).unwrap_or_else(|_| OffsetDateTime::now_utc());
    trace.query();
    sqlx::query(
        "WITH learner AS ( \
             INSERT INTO learners (id) VALUES ($1) \
             ON CONFLICT (id) DO UPDATE SET last_seen_at = now()) \
         INSERT INTO exercise_progress AS p \
             (learner_id, exercise_id, mode, prediction, predicted_at, hints, solved_at, evidence) \
         VALUES ($1, $2, $3, $4::smallint, CASE WHEN $4::smallint IS NULL THEN NULL ELSE $5 END, \
                 $6, CASE WHEN $7::text IS NULL THEN NULL ELSE $5 END, $7::text) \
         ON CONFLICT (learner_id, exercise_id, mode) DO UPDATE SET \
             prediction = CASE WHEN p.solved_at IS NULL AND EXCLUDED.prediction IS NOT NULL \
                          THEN EXCLUDED.prediction ELSE p.prediction END, \
             predicted_at = CASE WHEN p.solved_at IS NULL AND EXCLUDED.prediction IS NOT NULL \
                            THEN EXCLUDED.predicted_at ELSE p.predicted_at END, \
             hints = LEAST(p.hints + EXCLUDED.hints, 100), \
             solved_at = COALESCE(p.solved_at, EXCLUDED.solved_at), \
             evidence = COALESCE(p.evidence, EXCLUDED.evidence)",
    )
    .bind(learner)
    .bind(p.exercise.as_str())
    .bind(p.mode.as_str())
    .bind(p.prediction)
    .bind(at)
    .bind(i16::from(p.hint))
    .bind(p.evidence.as_deref())
    .execute(pool)
    .await?;
    Ok(())
}

/// Files this learner's browser under the account logged in from it, for a teacher's view: the
/// learner's row is made if its progress has not made it yet (a student who signed up first and
/// predicts next).
///
/// # Errors
/// The database's.
pub async fn note_account(
    pool: &PgPool,
    learner: &str,
    user_id: i64,
    trace: &ProgressTrace,
) -> Result<(), DbError> {
    trace.query();
    sqlx::query(
        "INSERT INTO learners (id, user_id) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET user_id = $2, last_seen_at = now()",
    )
    .bind(learner)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The learner last seen under `user_id`, for a browser that logs in without a learner cookie
/// (its site data cleared, or a new browser): its progress follows the account.
///
/// # Errors
/// The database's.
pub async fn learner_of_account(
    pool: &PgPool,
    user_id: i64,
    trace: &ProgressTrace,
) -> Result<Option<String>, DbError> {
    trace.query();
    let id = sqlx::query_scalar(
        "SELECT id FROM learners WHERE user_id = $1 ORDER BY last_seen_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(id)
}
