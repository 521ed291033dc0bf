//! The app's error type for handlers, and the catchers that turn every error status into a page
//! that says what went wrong — never SQL, never a backtrace.

pub mod page;

use crate::html::Html;
use rocket::http::uri::fmt::{Query, UriDisplay};
use rocket::http::Status;
use rocket::response::{self, Redirect, Responder};
use rocket::Request;

use crate::db::DbError;
use page::{context, GuardRefusal};

use crate::logging::chain;
use crate::session::{SessionError, StoreError};

/// What a handler can fail with. Each answers with its own status and a page.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The page needs a login: 303 to the login page, coming back to `next` afterwards.
    #[error("login required")]
    LoginRequired { next: String },
    /// Logged in, but not allowed here (a student at `/teacher`): 403 with the reason.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A form value the page does not offer: 422 with what was wrong, nothing changed.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// The request does not fit the state it finds (a cookie edit without a session cookie):
    /// 409 with the reason, nothing changed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// PostgreSQL is down or the pool timed out: 503.
    #[error("database unavailable")]
    Unavailable,
    /// The session would pass a size limit: 413.
    #[error("session too large: {0}")]
    TooLarge(String),
    /// Throttled (429) or shed (503): answered at once with `Retry-After` and a page saying why.
    #[error("retry later ({status}): {why}")]
    RetryLater {
        status: Status,
        retry_after: u64,
        why: String,
    },
    /// A bug or an unexpected database error: logged with its causes, answered with an opaque 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Store(StoreError::Unavailable(why)) => {
                rocket::warn!("session store unavailable: {why}");
                AppError::Unavailable
            }
            SessionError::TooLarge { what, bytes, limit } => {
                AppError::TooLarge(what.describe(bytes, limit))
            }
            other => AppError::Internal(chain(&other)),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(why) => {
                rocket::warn!("database unavailable: {why}");
                AppError::Unavailable
            }
            other => AppError::Internal(chain(&other)),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

/// A response with `Retry-After` added (429, 503).
pub struct RetryAfter<R>(pub R, pub u64);

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for RetryAfter<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'o> {
        let mut res = self.0.respond_to(req)?;
        res.set_raw_header("Retry-After", self.1.to_string());
        Ok(res)
    }
}

/// The login page, with `next` percent-encoded so it survives as one query value. Encoded as
/// `uri!` encodes a query argument (Rocket's `UriDisplay<Query>`): `uri!` itself would need the
/// login route, which lives in `routes`, above this module.
pub fn login_redirect(next: &str) -> Redirect {
    let next: &dyn UriDisplay<Query> = &next;
    Redirect::to(format!("/login?next={next}"))
}

impl AppError {
    /// The status this error answers with.
    pub fn status(&self) -> Status {
        match self {
            AppError::LoginRequired { .. } => Status::SeeOther,
            AppError::Forbidden(_) => Status::Forbidden,
            AppError::Unprocessable(_) => Status::UnprocessableEntity,
            AppError::Conflict(_) => Status::Conflict,
            AppError::Unavailable => Status::ServiceUnavailable,
            AppError::TooLarge(_) => Status::PayloadTooLarge,
            AppError::RetryLater { status, .. } => *status,
            AppError::Internal(_) => Status::InternalServerError,
        }
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (status, detail) = match self {
            AppError::LoginRequired { next } => return login_redirect(&next).respond_to(req),
            AppError::Forbidden(why) => (Status::Forbidden, Some(why)),
            AppError::Conflict(why) => (Status::Conflict, Some(why)),
            AppError::Unprocessable(why) => (
                Status::UnprocessableEntity,
                Some(format!("Refused: {why}. Nothing changed.")),
            ),
            AppError::Unavailable => (Status::ServiceUnavailable, None),
            AppError::TooLarge(why) => (Status::PayloadTooLarge, Some(format!("Refused: {why}."))),
            AppError::RetryLater {
                status,
                retry_after,
                why,
            } => {
                let page = Html::render("error", context(req, status, Some(why)));
                return RetryAfter((status, page), retry_after).respond_to(req);
            }
            AppError::Internal(why) => {
                rocket::error!("internal error on {}: {why}", req.uri());
                (Status::InternalServerError, None)
            }
        };
        (status, Html::render("error", context(req, status, detail))).respond_to(req)
    }
}

#[rocket::catch(default)]
fn any(status: Status, req: &Request<'_>) -> (Status, Html) {
    let detail = req
        .local_cache(GuardRefusal::default)
        .0
        .lock()
        .ok()
        .and_then(|s| s.clone());
    (status, Html::render("error", context(req, status, detail)))
}

pub fn catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![any]
}

#[cfg(test)]
mod tests {
    use super::login_redirect;
    use rocket::local::blocking::Client;
    use rocket::response::Responder;

    fn location(next: &str) -> String {
        let client = Client::debug_with(vec![]).expect("an empty app");
        let req = client.get("/");
        let res = login_redirect(next)
            .respond_to(req.inner())
            .expect("a redirect");
        res.headers()
            .get_one("Location")
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn the_login_redirect_encodes_next_as_one_query_value() {
        assert_eq!(location("/account"), "/login?next=%2Faccount");
        assert_eq!(
            location("/notes?a=1&b=2 3"),
            "/login?next=%2Fnotes%3Fa%3D1%26b%3D2%203"
        );
    }
}
