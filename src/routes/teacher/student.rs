//! One student's actions on the teacher's board: end their sessions, reset their progress. Each is
//! a form (CSRF-checked, teachers only) whose result the board says on the page it lands on: how
//! many sessions ended, how many progress rows went, and what a cookie store cannot do.

use rocket::form::FromForm;
use rocket::post;
use rocket::response::Redirect;

use super::{indexed, Teacher};
use crate::class;
use crate::csrf::CheckedForm;
use crate::db::Db;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;
use crate::session::SiblingSession;
use crate::settings::Revocation;

#[derive(FromForm)]
struct Account {
    /// The account's id, as the board's per-student table sends it.
    user: i64,
}

/// The student account `user_id` names, or a 422 saying why nothing changed: the board acts on
/// students only (a teacher's own sessions are ended from "Your sessions").
async fn student(pool: &sqlx::PgPool, user_id: i64) -> Result<String, AppError> {
    class::student_name(pool, user_id).await?.ok_or_else(|| {
        AppError::Unprocessable(format!(
            "there is no student account with id {user_id} (deleted by a reset, or a teacher's \
             account, which the board does not act on)"
        ))
    })
}

/// End every session of one student: the store's rows (or keys) of the account are deleted
/// through its by-user index, and the account's epoch is bumped for cookie mode.
#[post("/teacher/student/end-sessions", data = "<form>")]
async fn end_their_sessions(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    teacher: Result<Teacher, AppError>,
    db: &Db,
    form: CheckedForm<Account>,
) -> Result<Redirect, AppError> {
    teacher?;
    let pool = db.ready().await?;
    let user_id = form.0.user;
    let name = student(pool, user_id).await?;
    // The asking session is the teacher's, never the student's: every one of theirs ends.
    let kept = match indexed(&page, &sibling) {
        Some(sessions) => Some(sessions.end_other_sessions(user_id).await?.unwrap_or(0)),
        None => None,
    };
    let epoch = class::bump_epoch_of(pool, user_id).await?;
    let server = match kept {
        Some(n) => format!(
            "{} kept on the server ended (deleted from the store, so those cookies now point at \
             nothing: their next request is refused and starts anonymous)",
            humanize::count(n, "session", "sessions")
        ),
        // Redis holds each session under its id but keeps no index by account to find theirs.
        None if page.session.layer().holds_data() => "this store keeps no index of sessions by \
                                                       account, so none could be found to delete"
            .into(),
        None => "cookie mode keeps nothing on the server, so there was nothing to delete".into(),
    };
    let revocation = page
        .session
        .layer()
        .revocation()
        .unwrap_or(Revocation::Epoch);
    let checked = if revocation == Revocation::Denylist {
        "the deny-list holds only ids recorded at logout, so it is the epoch that refuses these"
    } else {
        "the epoch is checked on every page that loads the account"
    };
    page.session
        .note(format!(
            "Ended the sessions of {name}: {server}. The session epoch of {name} is now {epoch}, so \
             each of their cookie-mode sessions is refused (logged out) where the account is loaded; \
             {checked}. What a cookie store cannot do: it cannot count those sessions or delete \
             them, since they live only in the browsers, so the anonymous part of such a cookie \
             (a color, notes) still opens until the deadlines sealed in it."
        ))
        .await;
    Ok(Redirect::to("/teacher"))
}

#[derive(FromForm)]
struct Whose {
    /// A student account: the progress of every learner filed under it.
    user: Option<i64>,
    /// A learner with no account, by the 8 hex digits the board shows.
    learner: Option<String>,
}

/// Reset one student's progress (every learner filed under the account), or one learner's.
#[post("/teacher/student/reset-progress", data = "<form>")]
async fn reset_their_progress(
    page: Page<'_>,
    teacher: Result<Teacher, AppError>,
    db: &Db,
    form: CheckedForm<Whose>,
) -> Result<Redirect, AppError> {
    teacher?;
    let pool = db.ready().await?;
    let (whose, reset) = match form.0 {
        Whose {
            user: Some(user_id),
            learner: None,
        } => {
            let name = student(pool, user_id).await?;
            (name, class::reset_account_progress(pool, user_id).await?)
        }
        Whose {
            user: None,
            learner: Some(prefix),
        } => {
            if prefix.len() != 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(AppError::Unprocessable(
                    "a learner is named by the 8 hex digits the board shows".into(),
                ));
            }
            let prefix = prefix.to_ascii_lowercase();
            let Some(reset) = class::reset_learner_progress(pool, &prefix).await? else {
                return Err(AppError::Unprocessable(format!(
                    "no single learner starts with {prefix}: none does (deleted by a reset), or \
                     more than one, which the board cannot tell apart"
                )));
            };
            (format!("learner {prefix}"), reset)
        }
        _ => {
            return Err(AppError::Unprocessable(
                "name either a student account (user) or a learner (learner), not both".into(),
            ))
        }
    };
    page.session
        .note(format!(
            "Reset the progress of {whose}: {} deleted (predictions, hints and solves), from {}. \
             The learner cookies stay, so the same browsers start each exercise afresh with \
             their next prediction; nothing else changed (sessions, account).",
            humanize::count(
                reset.rows,
                "exercise_progress row",
                "exercise_progress rows"
            ),
            humanize::count(reset.learners, "learner (browser)", "learners (browsers)"),
        ))
        .await;
    Ok(Redirect::to("/teacher"))
}

pub(super) fn routes() -> Vec<rocket::Route> {
    rocket::routes![end_their_sessions, reset_their_progress]
}
