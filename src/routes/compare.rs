//! `/compare`: this browser's session in both modes side by side — the cookie, its size, what it
//! decodes to, the row, the deadlines — and forms that act on both at once. Needs `--mode both`
//! for the second column: each app then opens the other mode's cookie with the other mode's store
//! and key (cookies ignore ports, so both arrive with every request). Without it the page says
//! how to start both and shows this mode's column alone.
//!
//! Every change goes through the `Session` API of each mode, this app's own and the sibling's
//! ([`Session::sibling`]), and the session fairing saves both and writes both cookies.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::{get, post, State};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth;
use crate::auth::login::{self, Attempt, LoginGate};
use crate::both::SideBySide;
use crate::cookies::{browser_size, CookieConfig, COOKIE_LIMIT};
use crate::csrf::{self, CheckedForm, NoFields};
use crate::error::AppError;
use crate::page::Page;
use crate::routes::color::{parse_color, COLOR};
use crate::routes::notes::{check_note, NOTES};
use crate::session::{Session, SessionError, SiblingSession, StoreError};
use crate::settings::Mode;

/// How many characters of a cookie's value the page shows: enough to see it change.
const VALUE_START: usize = 32;

/// What the browser sent and where the two apps are: the `Cookie` header's pairs (values as the
/// browser holds them, so their size is the browser's), and in `--mode both` both apps' origins.
pub struct Seen {
    cookies: Vec<(String, String)>,
    pub urls: Option<Urls>,
}

/// Both apps' origins, scheme-relative (`//host:port`), for links from one to the other.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Urls {
    pub server: String,
    pub cookie: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Seen {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let cookies = req
            .headers()
            .get("Cookie")
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let urls = req.rocket().state::<SideBySide>().map(|sides| {
            let host = host_name(req.headers().get_one("Host").unwrap_or_default());
            Urls {
                server: format!("//{host}:{}", sides.server_port),
                cookie: format!("//{host}:{}", sides.cookie_port),
            }
        });
        Outcome::Success(Seen { cookies, urls })
    }
}

impl Seen {
    fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The host of a `Host` header without its port (`[::1]:8000` → `[::1]`); loopback if none came.
fn host_name(header: &str) -> &str {
    let host = match header.strip_prefix('[') {
        Some(rest) => rest.find(']').map_or(header, |end| &header[..end + 2]),
        None => header.split(':').next().unwrap_or(header),
    };
    if host.is_empty() {
        "127.0.0.1"
    } else {
        host
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The first characters of a value, with an ellipsis when there is more.
fn start_of(value: &str, chars: usize) -> String {
    match value.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

/// One mode's column: what the browser sent for it and what that mode's store makes of it. A
/// store that cannot be reached (server mode in an outage) fills its column with the fact instead
/// of failing the page, so the other column still shows.
async fn column(session: &Session<'_>, seen: &Seen, this_app: bool) -> Result<Value, AppError> {
    let cookies = session.cookies();
    let name = cookies.session;
    let cookie = seen.value(name).map(|value| {
        let bytes = browser_size(name, value);
        json!({
            "name": name,
            "start": start_of(value, VALUE_START),
            "bytes": bytes,
            "over": bytes > COOKIE_LIMIT,
        })
    });
    let mut view = json!({
        "mode": cookies.mode.as_str(),
        "this_app": this_app,
        "cookie_name": name,
        "cookie": cookie,
        "limit": COOKIE_LIMIT,
        // Where the meter turns to a warning: the last tenth before browsers drop the cookie.
        "high": COOKIE_LIMIT * 9 / 10,
    });
    let record = match session.record().await {
        Ok(record) => record,
        Err(SessionError::Store(StoreError::Unavailable(why))) => {
            rocket::warn!("compare: the {} store is unavailable: {why}", cookies.mode);
            view["unavailable"] = json!(true);
            return Ok(view);
        }
        Err(e) => return Err(e.into()),
    };
    let layer = session.layer();
    // The countdowns run on this browser's clock (fast-forwarded or not), as the inspector's.
    let now = session.clock_now();
    let deadlines = record.as_ref().map(|r| layer.deadlines(r));
    view["refused"] = json!(session.refusal().await?.map(|r| r.as_str()));
    view["data"] = json!(serde_json::to_string_pretty(
        &record.as_ref().map(|r| r.data.clone()).unwrap_or_default()
    )
    .unwrap_or_default());
    view["user_id"] = json!(record.as_ref().and_then(|r| r.user_id));
    view["deadlines"] = match deadlines {
        Some(d) => json!({
            "idle": rfc3339(d.idle),
            "idle_left": (d.idle - now).whole_seconds().max(0),
            "absolute": rfc3339(d.absolute),
            "absolute_left": (d.absolute - now).whole_seconds().max(0),
        }),
        None => Value::Null,
    };
    // A session with an id is a row of `sessions`; the id is the credential, so only its start.
    view["row"] = match (&record, deadlines) {
        (Some(r), Some(d)) => match &r.id {
            Some(id) => json!({
                "id": start_of(id, 8),
                "user_id": r.user_id,
                "created_at": rfc3339(r.created_at),
                "updated_at": rfc3339(r.last_seen),
                "expires_at": rfc3339(d.expires_at()),
            }),
            None => Value::Null,
        },
        _ => Value::Null,
    };
    view["stores_rows"] = json!(cookies.mode == Mode::Server);
    Ok(view)
}

/// The request's sessions, the cookie-mode one first: only a cookie can outgrow its limit, so a
/// change refused for size is refused before the other mode's session has changed.
fn cookie_first<'a, 'r>(
    own: &'a Session<'r>,
    sibling: &'a SiblingSession<'r>,
) -> Vec<&'a Session<'r>> {
    let mut all: Vec<&Session<'r>> = std::iter::once(own).chain(sibling.0.as_ref()).collect();
    all.sort_by_key(|s| s.cookies().mode != Mode::Cookie);
    all
}

type Answer = Result<Result<Redirect, (Status, Html)>, AppError>;

/// The page, with `error` above the forms when a form was refused.
async fn show(
    page: &Page<'_>,
    sibling: &SiblingSession<'_>,
    seen: &Seen,
    error: Option<String>,
) -> Result<Html, AppError> {
    let own = column(&page.session, seen, true).await?;
    if own["unavailable"] == true {
        // The layout needs this app's session too (who is logged in): without its store there is
        // no page, as on every other session page of server mode in an outage.
        return Err(AppError::Unavailable);
    }
    let mut columns = vec![own];
    if let Some(other) = &sibling.0 {
        columns.push(column(other, seen, false).await?);
    }
    // Server mode on the left, whichever app this is: the same place on both ports.
    columns.sort_by_key(|c| c["mode"] != "server");
    page.render(
        "compare",
        json!({
            "columns": columns,
            "both": sibling.0.is_some(),
            "urls": seen.urls,
            "error": error,
        }),
    )
    .await
}

async fn refused(
    page: &Page<'_>,
    sibling: &SiblingSession<'_>,
    seen: &Seen,
    status: Status,
    why: String,
) -> Answer {
    Ok(Err((status, show(page, sibling, seen, Some(why)).await?)))
}

#[get("/compare")]
async fn compare_page(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
) -> Result<Html, AppError> {
    show(&page, &sibling, &seen, None).await
}

#[derive(FromForm)]
struct ColorForm {
    color: String,
}

#[post("/compare/color", data = "<form>")]
async fn set_color_in_both(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
    form: CheckedForm<ColorForm>,
    gate: LoginGate<'_>,
) -> Answer {
    let Some(color) = parse_color(&form.0.color) else {
        let why = "Use a CSS color name (like rebeccapurple) or a hex color like #ff8800.";
        return refused(
            &page,
            &sibling,
            &seen,
            Status::UnprocessableEntity,
            why.into(),
        )
        .await;
    };
    // As /color: a cookie-less POST that would create sessions counts against this address.
    for session in cookie_first(&page.session, &sibling) {
        gate.throttles.new_session(session, gate.addr).await?;
    }
    for session in cookie_first(&page.session, &sibling) {
        match session.insert(COLOR, &color).await {
            Ok(()) => {}
            Err(SessionError::TooLarge { what, bytes, limit }) => {
                let why = format!(
                    "Refused in {}: {}. Nothing changed in either mode.",
                    session.cookies().session,
                    what.describe(bytes, limit)
                );
                return refused(&page, &sibling, &seen, Status::PayloadTooLarge, why).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(Redirect::to("/compare")))
}

#[derive(FromForm)]
struct NoteForm {
    note: String,
}

#[post("/compare/notes", data = "<form>")]
async fn add_note_to_both(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
    form: CheckedForm<NoteForm>,
    gate: LoginGate<'_>,
) -> Answer {
    let note = form.0.note;
    if let Err(why) = check_note(&note) {
        return refused(&page, &sibling, &seen, Status::UnprocessableEntity, why).await;
    }
    for session in cookie_first(&page.session, &sibling) {
        gate.throttles.new_session(session, gate.addr).await?;
    }
    // Cookie mode first: its 4096-byte cookie is the limit a note meets long before server
    // mode's `session_max_bytes`, so a refusal there changes neither session.
    for session in cookie_first(&page.session, &sibling) {
        let added = note.clone();
        match session
            .update(NOTES, |notes: &mut Vec<String>| notes.push(added))
            .await
        {
            Ok(()) => {}
            Err(SessionError::TooLarge { what, bytes, limit }) => {
                let why = format!(
                    "Refused in {}: with this note {}. Nothing changed in either mode — the \
                     server-mode cookie, only an id, would not have grown at all.",
                    session.cookies().session,
                    what.describe(bytes, limit)
                );
                return refused(&page, &sibling, &seen, Status::PayloadTooLarge, why).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(Redirect::to("/compare")))
}

#[derive(FromForm)]
struct Credentials {
    username: String,
    password: String,
    remember: bool,
}

/// One lookup and one password check, then a login in each mode: a new id (server mode) and a
/// freshly sealed cookie (cookie mode), and a new CSRF token for each app.
#[post("/compare/login", data = "<form>")]
async fn log_in_both(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
    jar: &CookieJar<'_>,
    form: CheckedForm<Credentials>,
    gate: LoginGate<'_>,
) -> Answer {
    let f = form.0;
    // The same steps as /login, throttle and hash queue included.
    let attempt = login::authenticate(&page.session, &gate, &f.username, f.password).await?;
    let user = match attempt {
        Attempt::Accepted(user) => user,
        Attempt::Throttled(too_many) => {
            let why = too_many.sentence("login attempts for this name or from your address");
            return Err(AppError::RetryLater {
                status: Status::TooManyRequests,
                retry_after: too_many.retry_after,
                why,
            });
        }
        Attempt::Busy => {
            return Err(AppError::RetryLater {
                status: Status::ServiceUnavailable,
                retry_after: 1,
                why: "Too many logins are being checked right now; try again in a second.".into(),
            });
        }
        Attempt::Refused => {
            let why = "Wrong username or password.".to_string();
            return refused(&page, &sibling, &seen, Status::Unauthorized, why).await;
        }
    };
    for session in cookie_first(&page.session, &sibling) {
        auth::log_in(session, &page.cookies.keys, &user, f.remember).await?;
    }
    renew_csrf_of_both(&page, &sibling, jar);
    Ok(Ok(Redirect::to("/compare")))
}

#[post("/compare/logout", data = "<_form>")]
async fn log_out_both(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    jar: &CookieJar<'_>,
    _form: CheckedForm<NoFields>,
) -> Result<Redirect, AppError> {
    for session in cookie_first(&page.session, &sibling) {
        session.flush().await?;
    }
    renew_csrf_of_both(&page, &sibling, jar);
    Ok(Redirect::to("/compare"))
}

/// What "Delete" in devtools' Cookies panel does, done by the server: both session cookies are
/// removed and nothing else happens — server mode's row stays (orphaned until it expires), as
/// the README's lesson on deleting the cookie shows.
#[post("/compare/forget", data = "<_form>")]
async fn forget_both_cookies(
    cookies: &State<CookieConfig>,
    sibling: SiblingSession<'_>,
    jar: &CookieJar<'_>,
    _form: CheckedForm<NoFields>,
) -> Redirect {
    jar.add(cookies.removal(cookies.session));
    if let Some(other) = &sibling.0 {
        let theirs = other.cookies();
        jar.add(theirs.removal(theirs.session));
    }
    Redirect::to("/compare")
}

/// Login and logout renew the CSRF token (forms shown before no longer post) in each app.
fn renew_csrf_of_both(page: &Page<'_>, sibling: &SiblingSession<'_>, jar: &CookieJar<'_>) {
    page.renew_csrf();
    if let Some(other) = &sibling.0 {
        csrf::renew(jar, other.cookies());
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        compare_page,
        set_color_in_both,
        add_note_to_both,
        log_in_both,
        log_out_both,
        forget_both_cookies
    ]
}

#[cfg(test)]
mod tests {
    use super::{host_name, start_of};

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(host_name("127.0.0.1:8000"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8000"), "[::1]");
        assert_eq!(host_name("lab.example"), "lab.example");
        assert_eq!(host_name(""), "127.0.0.1");
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(start_of("abcdef", 3), "abc…");
        assert_eq!(start_of("abc", 3), "abc");
    }
}
