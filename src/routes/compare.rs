//! `/compare`: this browser's session in both modes side by side — the cookie, its size, what it
//! decodes to, the row, the deadlines — and forms that act on both at once. Needs `--mode both`
//! for the second column: each app then opens the other mode's cookie with the other mode's store
//! and key (cookies ignore ports, so both arrive with every request). Without it the page says
//! how to start both and shows this mode's column alone.
//!
//! Every change goes through the `Session` API of each mode, this app's own and the sibling's
//! ([`Session::sibling`]), and the session fairing saves both and writes both cookies.

use crate::html::Html;
use rocket::form::{FromForm, FromFormField};
use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post};
use serde_json::{json, Value};

use crate::auth;
use crate::auth::login::{self, Attempt, LoginGate};
use crate::cookies::{browser_size, COOKIE_LIMIT};
use crate::csrf::{self, CheckedForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;
use crate::routes::color::{parse_color, COLOR};
use crate::routes::inspector::{inspect, Usage};
use crate::routes::notes::{check_note, NOTES};
use crate::session::{Session, SessionError, SiblingSession, SideBySide, StoreError};

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
            // Not percent-decoded: a value's size is the browser's only as it was sent.
            .flat_map(::cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .map(|c| (c.name().to_string(), c.value().to_string()))
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

/// The first characters of a value, with an ellipsis when there is more.
fn start_of(value: &str, chars: usize) -> String {
    match value.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

/// What `/compare.json` says of a store it cannot reach, as `reason`.
const UNREACHABLE: &str = "database-unreachable";

/// One mode's column as data, the shape `/compare.json` gives: the inspector's JSON for that
/// mode (as `/session.json`), plus `user` (the logged-in name or `null`) and `available`. A store
/// that cannot be reached (server mode in an outage) gives `available: false` and its `reason`
/// instead of failing the page, so the other column still shows.
async fn column(session: &Session<'_>, seen: &Seen, db: &Db) -> Result<Value, AppError> {
    let cookies = session.cookies();
    let sent = seen.value(cookies.session);
    match inspect(session, sent).await {
        Ok(mut view) => {
            view["user"] = json!(session.get::<String>(auth::keys::USERNAME).await?);
            view["available"] = json!(true);
            view["reason"] = Value::Null;
            Ok(view)
        }
        Err(SessionError::Store(StoreError::Unavailable(why))) => {
            rocket::warn!("compare: the {} store is unavailable: {why}", cookies.mode);
            let why = if session.lab().cut {
                "the outage lab has cut this browser off from PostgreSQL".to_string()
            } else if session.lab().class.cut_until.is_some() {
                "the teacher's class-wide outage has cut every browser off from PostgreSQL"
                    .to_string()
            } else {
                format!(
                    "PostgreSQL could not be reached within {} s",
                    db.connect_timeout()
                )
            };
            // What the browser sent still came; what it points to cannot be read.
            let cookie = sent.map(|value| {
                json!({
                    "name": cookies.session,
                    "value": value,
                    "bytes": browser_size(cookies.session, value),
                })
            });
            Ok(json!({
                "mode": cookies.mode.as_str(),
                "available": false,
                "reason": UNREACHABLE,
                "reason_why": why,
                "user": null,
                "cookie": cookie,
                "data": null,
                "expires_at": null,
                "row": null,
                "limit_bytes": Usage::limit_of(session),
                "refused": null,
            }))
        }
        Err(e) => Err(e.into()),
    }
}

/// A column for the page: [`column`]'s data and what the template shows besides (the value's
/// start, the meters, the times in words with the exact one on hover).
async fn column_view(
    session: &Session<'_>,
    seen: &Seen,
    db: &Db,
    this_app: bool,
) -> Result<Value, AppError> {
    let mut view = column(session, seen, db).await?;
    let cookies = session.cookies();
    let layer = session.layer();
    view["this_app"] = json!(this_app);
    view["cookie_name"] = json!(cookies.session);
    view["stores_rows"] = json!(layer.keeps_sessions());
    view["cookie_limit"] = json!(COOKIE_LIMIT);
    // Where the meter turns to a warning: the last tenth before browsers drop the cookie.
    view["cookie_high"] = json!(COOKIE_LIMIT * 9 / 10);
    if let Some(value) = seen.value(cookies.session) {
        view["cookie_start"] = json!(start_of(value, VALUE_START));
    }
    if view["available"] != true {
        return Ok(view);
    }
    view["data_pretty"] = json!(serde_json::to_string_pretty(&view["data"]).unwrap_or_default());
    if let Some(record) = session.record().await? {
        // The countdowns run on this browser's clock (fast-forwarded or not), as the inspector's.
        let now = session.clock_now();
        let d = layer.deadlines(&record);
        let when = |t| json!({ "words": humanize::relative(t, now), "exact": humanize::exact(t) });
        view["times"] = json!({
            "created": when(record.created_at),
            "updated": when(record.last_seen),
            "expires": when(d.expires_at()),
            "idle": when(d.idle),
            "absolute": when(d.absolute),
        });
    }
    Ok(view)
}

/// The request's sessions, the cookie-mode one first: only a cookie can outgrow its limit, so a
/// change refused for size is refused before the other mode's session has changed.
fn cookie_first<'a, 'r>(
    own: &'a Session<'r>,
    sibling: &'a SiblingSession<'r>,
) -> Vec<&'a Session<'r>> {
    let mut all: Vec<&Session<'r>> = std::iter::once(own).chain(sibling.0.as_ref()).collect();
    // A mode that keeps no sessions keeps them whole in the cookie.
    all.sort_by_key(|s| s.layer().keeps_sessions());
    all
}

type Answer = Result<Result<Redirect, (Status, Html)>, AppError>;

/// The page, with `error` above the forms when a form was refused. Renders whether or not each
/// store can be reached: a column that cannot load its session says so, and the header, which
/// would need this app's session, says the login state is unknown instead of failing the page.
async fn show(
    page: &Page<'_>,
    sibling: &SiblingSession<'_>,
    seen: &Seen,
    db: &Db,
    error: Option<String>,
) -> Result<Html, AppError> {
    // Both columns load at once: in an outage the waits overlap instead of adding up.
    let (own, other) = tokio::join!(column_view(&page.session, seen, db, true), async {
        match &sibling.0 {
            Some(other) => Some(column_view(other, seen, db, false).await),
            None => None,
        }
    });
    let own = own?;
    let other = other.transpose()?;
    let header_user = own["user"].as_str().map(str::to_string);
    let who_unknown = (own["available"] != true).then(|| {
        format!(
            "Login state unknown: {} mode cannot load its session",
            page.cookies.mode
        )
    });
    let mut columns: Vec<Value> = std::iter::once(own).chain(other).collect();
    // Server mode on the left, whichever app this is: the same place on both ports.
    columns.sort_by_key(|c| c["mode"] != "server");
    let forms = offer(&columns);
    let context = json!({
        "columns": columns,
        "both": sibling.0.is_some(),
        "urls": seen.urls,
        "error": error,
        "offer": forms,
        "who_unknown": who_unknown,
    });
    Ok(page.render_as(header_user, "compare", context).await)
}

/// Which login and logout forms the columns need: "log in" while any column that can be read is
/// logged out (in both or just there), "log out" per column that is logged in, and "log out of
/// both" when both are.
fn offer(columns: &[Value]) -> Value {
    let readable: Vec<&Value> = columns.iter().filter(|c| c["available"] == true).collect();
    let out: Vec<&str> = readable
        .iter()
        .filter(|c| c["user"].is_null())
        .filter_map(|c| c["mode"].as_str())
        .collect();
    let users: Vec<&str> = readable.iter().filter_map(|c| c["user"].as_str()).collect();
    json!({
        "log_in": !out.is_empty(),
        // With two columns and only one that can be logged in (the other logged in already, or
        // its store unreachable), the login form is for that column by default.
        "log_in_side": if columns.len() == 2 && out.len() == 1 { out[0] } else { "both" },
        "log_out_both": columns.len() == 2 && users.len() == 2,
        // Logged in on both sides as different people: worth saying.
        "differ": users.len() == 2 && users[0] != users[1],
        "choose_side": columns.len() == 2,
    })
}

async fn refused(
    page: &Page<'_>,
    sibling: &SiblingSession<'_>,
    seen: &Seen,
    db: &Db,
    status: Status,
    why: String,
) -> Answer {
    Ok(Err((
        status,
        show(page, sibling, seen, db, Some(why)).await?,
    )))
}

#[get("/compare")]
async fn compare_page(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
    db: &Db,
) -> Result<Html, AppError> {
    show(&page, &sibling, &seen, db, None).await
}

/// Both columns as JSON: `{"server": …, "cookie": …}`, each [`column`]'s data; a mode this process
/// does not run (no `--mode both`) is `null`.
#[get("/compare.json")]
async fn compare_json(
    session: Session<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
    db: &Db,
) -> Result<Json<Value>, AppError> {
    let (own, other) = tokio::join!(column(&session, &seen, db), async {
        match &sibling.0 {
            Some(other) => Some(column(other, &seen, db).await),
            None => None,
        }
    });
    let mut both = json!({ "server": null, "cookie": null });
    for c in std::iter::once(own?).chain(other.transpose()?) {
        let mode = c["mode"].as_str().unwrap_or_default().to_string();
        both[mode] = c;
    }
    Ok(Json(both))
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
    db: &Db,
    form: CheckedForm<ColorForm>,
    gate: LoginGate<'_>,
) -> Answer {
    let Some(color) = parse_color(&form.0.color) else {
        let why = "Use a CSS color name (like rebeccapurple) or a hex color like #ff8800.";
        return refused(
            &page,
            &sibling,
            &seen,
            db,
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
                return refused(&page, &sibling, &seen, db, Status::PayloadTooLarge, why).await;
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
    db: &Db,
    form: CheckedForm<NoteForm>,
    gate: LoginGate<'_>,
) -> Answer {
    let note = form.0.note;
    if let Err(why) = check_note(&note) {
        return refused(&page, &sibling, &seen, db, Status::UnprocessableEntity, why).await;
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
                return refused(&page, &sibling, &seen, db, Status::PayloadTooLarge, why).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(Redirect::to("/compare")))
}

/// Which sessions a login or logout on `/compare` acts on: both (the default), or one mode's
/// alone, so a student can make the columns differ and watch what each mode does.
#[derive(FromFormField, Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Both,
    Server,
    Cookie,
}

impl Side {
    fn includes(self, session: &Session<'_>) -> bool {
        match self {
            Side::Both => true,
            Side::Server => session.cookies().mode.as_str() == "server",
            Side::Cookie => session.cookies().mode.as_str() == "cookie",
        }
    }
}

#[derive(FromForm)]
struct Credentials {
    username: String,
    password: String,
    remember: bool,
    // Missing: both; a value that is not a side: 422 (an `Option` would swallow it as none).
    #[field(default = Side::Both)]
    side: Side,
}

/// One lookup and one password check, then a login in each mode asked for (both unless `side`
/// names one): a new id (server mode) and a freshly sealed cookie (cookie mode), and a new CSRF
/// token for each app logged in.
#[post("/compare/login", data = "<form>")]
async fn log_in_both(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    seen: Seen,
    db: &Db,
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
            return refused(&page, &sibling, &seen, db, Status::Unauthorized, why).await;
        }
    };
    let side = f.side;
    for session in cookie_first(&page.session, &sibling) {
        if side.includes(session) {
            auth::log_in(session, &page.cookies.keys, &user, f.remember).await?;
        }
    }
    renew_csrf(&page, &sibling, jar, side);
    Ok(Ok(Redirect::to("/compare")))
}

#[derive(FromForm)]
struct LogoutForm {
    #[field(default = Side::Both)]
    side: Side,
}

/// Ends the session in each mode asked for (both unless `side` names one).
#[post("/compare/logout", data = "<form>")]
async fn log_out_both(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    jar: &CookieJar<'_>,
    form: CheckedForm<LogoutForm>,
) -> Result<Redirect, AppError> {
    let side = form.0.side;
    for session in cookie_first(&page.session, &sibling) {
        if side.includes(session) {
            session.flush().await?;
        }
    }
    renew_csrf(&page, &sibling, jar, side);
    Ok(Redirect::to("/compare"))
}

/// What "Delete" in devtools' Cookies panel does, done by the server: both session cookies are
/// removed and nothing else happens — server mode's row stays (orphaned until it expires), as
/// the guide's walkthrough on deleting the cookie shows (docs/guide/devtools.md, step 5).
#[post("/compare/forget", data = "<_form>")]
async fn forget_both_cookies(
    session: Session<'_>,
    sibling: SiblingSession<'_>,
    _form: CheckedForm<NoFields>,
) -> Redirect {
    for session in std::iter::once(&session).chain(sibling.0.as_ref()) {
        session.forget_cookie().await;
        session.note(forget_note(session)).await;
    }
    Redirect::to("/compare")
}

/// What deleting a mode's session cookie leaves behind, for the report.
fn forget_note(session: &Session<'_>) -> String {
    let name = session.cookies().session;
    if session.layer().keeps_sessions() {
        format!(
            "Told your browser to delete {name}. Nothing else happened: the session's row stays in \
             the table until it expires or is cleaned up, so a copy of the deleted cookie still \
             works until then."
        )
    } else {
        format!(
            "Told your browser to delete {name}. The server keeps nothing to delete: a copy of the \
             deleted cookie still works until its idle deadline if left unused, and never past its \
             absolute one."
        )
    }
}

/// Login and logout renew the CSRF token (forms shown before no longer post) in each app whose
/// session they changed.
fn renew_csrf(page: &Page<'_>, sibling: &SiblingSession<'_>, jar: &CookieJar<'_>, side: Side) {
    if side.includes(&page.session) {
        page.renew_csrf();
    }
    if let Some(other) = sibling.0.as_ref().filter(|s| side.includes(s)) {
        csrf::renew(jar, other.cookies());
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        compare_page,
        compare_json,
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
