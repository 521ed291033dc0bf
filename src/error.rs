//! The app's error type for handlers, and the catchers that turn every error status into a page
//! that says what went wrong — never SQL, never a backtrace.

use rocket::http::{ContentType, Status};
use rocket::response::{self, Redirect, Responder};
use rocket::{Request, Response};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::db::DbError;
use crate::session::{SessionError, SessionLayer};

/// What a handler can fail with. Each answers with its own status and a page.
#[derive(Debug, Clone)]
pub enum AppError {
    /// The page needs a login: 303 to the login page, coming back to `next` afterwards.
    LoginRequired { next: String },
    /// PostgreSQL is down or the pool timed out: 503.
    Unavailable,
    /// The session would no longer fit in a cookie: 413.
    TooLarge { bytes: usize, limit: usize },
    /// A bug or an unexpected database error: logged, answered with an opaque 500.
    Internal(String),
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Unavailable(why) => {
                rocket::warn!("session store unavailable: {why}");
                AppError::Unavailable
            }
            SessionError::TooLarge { bytes, limit } => AppError::TooLarge { bytes, limit },
            SessionError::Internal(why) => AppError::Internal(why),
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
            DbError::Query(e) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

/// The title and explanation shown for a status.
fn explain(status: Status) -> (&'static str, &'static str) {
    match status.code {
        400 => ("Bad request", "The request could not be understood."),
        403 => (
            "Forbidden",
            "This form was not sent from a page of this site, or its CSRF token is missing or out \
             of date (it changes when you log in or out). Go back, reload the page, and try again.",
        ),
        404 => ("Not found", "There is no page at this address."),
        405 => (
            "Method not allowed",
            "This page does not take that kind of request.",
        ),
        413 => (
            "Too large",
            "That would make your session larger than the 4096 bytes a browser keeps for one \
             cookie, so it was refused and nothing changed.",
        ),
        415 => (
            "Unsupported form",
            "Send the form as application/x-www-form-urlencoded.",
        ),
        422 => ("Invalid input", "Some fields were missing or not valid."),
        503 => (
            "Database unavailable",
            "PostgreSQL cannot be reached right now, so this page cannot be served. Nothing you \
             stored was lost; try again once the database is back.",
        ),
        _ => (
            "Something went wrong",
            "The error was logged. Try again, or go back home.",
        ),
    }
}

/// The error page's template context.
pub fn context(req: &Request<'_>, status: Status, detail: Option<String>) -> serde_json::Value {
    let (title, message) = explain(status);
    // The header shows the mode on every page, error pages included.
    let mode = req
        .rocket()
        .state::<SessionLayer>()
        .map(|l| l.mode().as_str());
    json!({ "status": status.code, "title": title, "message": message, "detail": detail, "mode": mode })
}

/// The login page, with `next` percent-encoded so it survives as one query value.
pub fn login_redirect(next: &str) -> Redirect {
    let next: String = next
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Redirect::to(format!("/login?next={next}"))
}

impl AppError {
    /// The status this error answers with.
    pub fn status(&self) -> Status {
        match self {
            AppError::LoginRequired { .. } => Status::SeeOther,
            AppError::Unavailable => Status::ServiceUnavailable,
            AppError::TooLarge { .. } => Status::PayloadTooLarge,
            AppError::Internal(_) => Status::InternalServerError,
        }
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (status, detail) = match self {
            AppError::LoginRequired { next } => return login_redirect(&next).respond_to(req),
            AppError::Unavailable => (Status::ServiceUnavailable, None),
            AppError::TooLarge { bytes, limit } => (
                Status::PayloadTooLarge,
                Some(format!(
                    "The cookie would have been {bytes} bytes; the limit is {limit}."
                )),
            ),
            AppError::Internal(why) => {
                rocket::error!("internal error on {}: {why}", req.uri());
                (Status::InternalServerError, None)
            }
        };
        (
            status,
            Template::render("error", context(req, status, detail)),
        )
            .respond_to(req)
    }
}

/// Turns an already built response into an error page — 503 when the store is unreachable, 500
/// otherwise: used when the session's write fails after the handler ran. Its cookies are dropped too, since they describe a state that was not saved.
pub fn replace_with_error(req: &Request<'_>, res: &mut Response<'_>, error: &SessionError) {
    let status = match error {
        SessionError::Unavailable(_) => Status::ServiceUnavailable,
        _ => Status::InternalServerError,
    };
    let body = Template::show(req.rocket(), "error", context(req, status, None))
        .unwrap_or_else(|| explain(status).1.to_string());
    res.set_status(status);
    res.remove_header("Set-Cookie");
    res.set_header(ContentType::HTML);
    res.set_sized_body(body.len(), std::io::Cursor::new(body));
}

/// Why a request guard refused a request, for the catcher's page.
#[derive(Default)]
pub struct Refusal(pub std::sync::Mutex<Option<String>>);

/// Records why a guard refused the request, so the error page can say it.
pub fn refuse(req: &Request<'_>, why: impl Into<String>) {
    if let Ok(mut slot) = req.local_cache(Refusal::default).0.lock() {
        *slot = Some(why.into());
    }
}

#[rocket::catch(default)]
fn any(status: Status, req: &Request<'_>) -> (Status, Template) {
    let detail = req
        .local_cache(Refusal::default)
        .0
        .lock()
        .ok()
        .and_then(|s| s.clone());
    (
        status,
        Template::render("error", context(req, status, detail)),
    )
}

pub fn catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![any]
}
