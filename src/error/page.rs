//! The error page: a title and an explanation for each status, rendered for catchers, for
//! handlers' errors, and for responses the session layer replaces after the handler ran. It needs
//! only the cookie configuration (for the mode badge), so every layer can use it.

use rocket::http::{ContentType, Status};
use rocket::{Request, Response};
use serde_json::json;

use crate::cookies::{CookieConfig, Outbox};

/// The title and explanation shown for a status.
pub fn explain(status: Status) -> (&'static str, &'static str) {
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
        409 => (
            "Your session ended meanwhile",
            "Your session ended while this request was running — you logged out in another tab, \
             or were signed out elsewhere — so this change was not kept. Your browser was told to \
             drop its session cookie.",
        ),
        413 => (
            "Too large",
            "That would make your session larger than its limit — the 4096 bytes a browser keeps \
             for one cookie, or the data this server keeps for one session (session_max_bytes) — \
             so it was refused and nothing changed.",
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
    // 409's own words are the session layer's (a session ended under a request); a handler's 409
    // comes with its reason (nothing to edit yet, a hint before a prediction), under a title that
    // fits any of them.
    let title = if status == Status::Conflict && detail.is_some() {
        "Not possible yet"
    } else {
        title
    };
    // A student who cut the database off and browsed on must learn why, and where the switch is.
    let lab = crate::browser_lab::Lab::of(req);
    let detail = match detail {
        None if status == Status::ServiceUnavailable && lab.cut => Some(
            "This browser's outage lab has cut the database off (PostgreSQL itself is running, \
             and other browsers use it): bring it back on /labs/outage."
                .to_string(),
        ),
        None if status == Status::ServiceUnavailable => lab.class.cut_until.map(|until| {
            format!(
                "Your teacher has cut the database off for the whole class, as a demonstration \
                 (PostgreSQL itself is running). It comes back by itself at {}.",
                crate::humanize::exact(until)
            )
        }),
        detail => detail,
    };
    // The header shows the mode on every page, error pages included.
    let mode = req
        .rocket()
        .state::<CookieConfig>()
        .map(|c| c.mode.as_str());
    // An error page, too, says what crossed the wire: the cookie writer fills it in.
    Outbox::of(req).show_exchange();
    // The address, so the header's navigation can mark its page current (a 503 at /account is
    // still where the Account link leads).
    let path = req.uri().path().as_str();
    json!({
        "status": status.code,
        "title": title,
        "message": message,
        "detail": detail,
        "mode": mode,
        "wire": crate::cookies::wire::EXCHANGE_MARKER,
        "path": path,
    })
}

/// Turns an already built response into the error page for `status`.
pub fn replace(req: &Request<'_>, res: &mut Response<'_>, status: Status, detail: Option<String>) {
    let body = crate::html::show(req.rocket(), "error", context(req, status, detail))
        .unwrap_or_else(|| explain(status).1.to_string());
    res.set_status(status);
    res.remove_header("Location");
    res.set_header(ContentType::HTML);
    // Finished once the cookie writer has run, as every page that shows the exchange.
    Outbox::of(req).hold_page(body);
    res.set_sized_body(0, std::io::Cursor::new(Vec::new()));
}

/// Why a request guard refused a request, for the catcher's page.
#[derive(Default)]
pub struct GuardRefusal(pub std::sync::Mutex<Option<String>>);

/// Records why a guard refused the request, so the error page can say it.
pub fn refuse(req: &Request<'_>, why: impl Into<String>) {
    if let Ok(mut slot) = req.local_cache(GuardRefusal::default).0.lock() {
        *slot = Some(why.into());
    }
}
