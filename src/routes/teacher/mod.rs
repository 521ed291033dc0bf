//! `/teacher`: the teacher's view of the class and what a teacher can do to it. Teachers only: an
//! anonymous visitor is sent to the login page, a student gets a 403 that says why.
//!
//! - [`board`]: the page — every server-mode session row, the orphans among them, each learner's
//!   progress — read on the class clock while the teacher shifts it.
//! - [`actions`]: the class-wide actions (end every session, a class-wide outage or clock shift
//!   for a demonstration, reset the class).
//! - [`student`]: one student's actions (end their sessions, reset their progress).
//!
//! The class-wide switches are [`crate::browser_lab::ClassLabs`], which every other browser's
//! [`crate::browser_lab::Lab`] combines with its own; these routes are exempt from them, so the
//! page shows the class as it really is and can always end the outage it started.

use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::User;
use crate::class::{self, Keep};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::page::Page;
use crate::session::{Session, SiblingSession};
use crate::settings::Revocation;

mod actions;
mod board;
mod student;

/// A logged-in teacher. As `Result<Teacher, AppError>`: the `User` guard's answer for an
/// anonymous visitor (303 to the login page, back here afterwards), a 403 for anyone else.
pub struct Teacher(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Teacher {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let user = match req.guard::<User>().await {
            Outcome::Success(user) => user,
            Outcome::Error((_, e)) => return error(e),
            Outcome::Forward(status) => return Outcome::Forward(status),
        };
        // Teacher powers only on a session the server can end. The `User` guard has checked the
        // epoch (or the deny-list) already; with `cookie_revocation = "none"` there is nothing
        // to check, and a copy of the teacher's cookie — which anyone on the classroom's plain
        // http can take — would keep its powers after logout.
        if let Outcome::Success(session) = req.guard::<Session<'_>>().await {
            let layer = session.layer();
            if !layer.keeps_sessions() && layer.revocation() == Some(Revocation::None) {
                return error(AppError::Forbidden(
                    "The teacher's pages need a session the server can end, and with \
                     cookie_revocation = \"none\" nothing ends a cookie-mode session before its \
                     deadlines: a copy of your cookie would keep a teacher's powers after you log \
                     out. Run server mode, or cookie mode with cookie_revocation = \"epoch\" or \
                     \"denylist\"."
                        .into(),
                ));
            }
        }
        let mut conn = match req.guard::<DbConnection>().await {
            Outcome::Success(conn) => conn,
            _ => return error(AppError::Unavailable),
        };
        let checked = class::is_teacher(&mut conn, user.id).await;
        // Login state, like the `User` guard's own read of `users`: counted in `Session-Trace`.
        if let Outcome::Success(session) = req.guard::<Session<'_>>().await {
            session.counted(1, None).await;
        }
        match checked {
            Ok(true) => Outcome::Success(Teacher(user)),
            Ok(false) => error(AppError::Forbidden(format!(
                "This page is for teachers, and {} is a student account. A teacher's account is \
                 made on the server with `session-lab create-user --teacher NAME`; the signup \
                 form never makes one.",
                user.username
            ))),
            Err(e) => error(e.into()),
        }
    }
}

fn error(e: AppError) -> Outcome<Teacher, AppError> {
    Outcome::Error((e.status(), e))
}

/// The asking teacher's own session and account, which the class-wide actions leave standing.
pub(super) fn keep(teacher: &Teacher) -> Keep {
    Keep {
        user_id: Some(teacher.0.id),
    }
}

/// The session whose store keeps sessions — this app's, or under `--mode both` the sibling's
/// (server mode's either way) — through whose index the class's sessions are listed and ended.
/// `None` where no store of this process keeps any (cookie mode alone).
pub(super) fn indexed<'a, 'r>(
    page: &'a Page<'r>,
    sibling: &'a SiblingSession<'r>,
) -> Option<&'a Session<'r>> {
    std::iter::once(&page.session)
        .chain(sibling.0.as_ref())
        .find(|s| s.can_end_sessions_remotely())
}

/// Ends every kept session but the asking one, through the store's index.
pub(super) async fn end_kept(
    page: &Page<'_>,
    sibling: &SiblingSession<'_>,
) -> Result<u64, AppError> {
    Ok(match indexed(page, sibling) {
        Some(sessions) => sessions.end_every_other_session().await?.unwrap_or(0),
        None => 0,
    })
}

pub fn routes() -> Vec<rocket::Route> {
    let mut routes = board::routes();
    routes.extend(actions::routes());
    routes.extend(student::routes());
    routes
}
