//! `/compare`: this browser's session in every mode that runs, side by side — the cookie, its
//! size, what it decodes to, the row or key, the deadlines — and forms that act on all at once.
//! Needs `--mode both` for a second column (server and cookie) or `--mode all` for a third
//! (redis): each app then opens the other modes' cookies with their stores and the shared key
//! (cookies ignore ports, so all arrive with every request). Without either the page says how to
//! start them and shows this mode's column alone.
//!
//! Every change goes through the `Session` API of each mode, this app's own and the siblings'
//! ([`Session::siblings`]), and the response step saves them all and the cookie writer sends every
//! cookie. The page and its JSON are here; the forms that act on all are in [`forms`].

mod forms;

use crate::html::Html;
use rocket::get;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use serde_json::{json, Value};

use crate::auth;
use crate::browser_lab::Lab;
use crate::cookies::{browser_size, COOKIE_LIMIT};
use crate::db::Db;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;
use crate::routes::inspector::{inspect, Usage};
use crate::session::{Session, SessionError, Siblings, SideBySide, StoreError};
use crate::settings::Mode;

/// How many characters of a cookie's value the page shows: enough to see it change.
const VALUE_START: usize = 32;

/// What the browser sent and where the apps are: the `Cookie` header's pairs (values as the
/// browser holds them, so their size is the browser's), and in `--mode both` or `all` every app's
/// origin.
pub struct Seen {
    cookies: Vec<(String, String)>,
    pub urls: Option<Urls>,
}

/// The apps' origins, scheme-relative (`//host:port`), for links from one to another.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Urls {
    pub server: String,
    pub cookie: String,
    /// `--mode all` only.
    pub redis: Option<String>,
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
                redis: sides.redis_port.map(|p| format!("//{host}:{p}")),
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

/// What `/compare.json` says of a store it cannot reach, as `reason`: the database, or in redis
/// mode Redis (unless the outage lab cut this browser off from both).
const UNREACHABLE: &str = "database-unreachable";
const REDIS_UNREACHABLE: &str = "redis-unreachable";

/// One mode's column as data, the shape `/compare.json` gives: the inspector's JSON for that
/// mode (as `/session.json`), plus `user` (the logged-in name or `null`) and `available`. A store
/// that cannot be reached (server mode in an outage) gives `available: false` and its `reason`
/// instead of failing the page, so the other column still shows.
async fn column(session: &Session<'_>, seen: &Seen, db: &Db, lab: &Lab) -> Result<Value, AppError> {
    let name = session.cookie_name();
    let sent = seen.value(name);
    match inspect(session, sent).await {
        Ok(mut view) => {
            view["user"] = json!(session.get::<String>(auth::keys::USERNAME).await?);
            view["available"] = json!(true);
            view["reason"] = Value::Null;
            Ok(view)
        }
        Err(SessionError::Store(StoreError::Unavailable(why))) => {
            rocket::warn!(
                "compare: the {} store is unavailable: {why}",
                session.mode()
            );
            let why = if lab.cut {
                "the outage lab has cut this browser off from PostgreSQL".to_string()
            } else if lab.class.cut_until.is_some() {
                "the teacher's class-wide outage has cut every browser off from PostgreSQL"
                    .to_string()
            } else if session.mode() == Mode::Redis {
                "Redis could not be reached".to_string()
            } else {
                format!(
                    "PostgreSQL could not be reached within {} s",
                    db.connect_timeout()
                )
            };
            let reason = match session.mode() {
                Mode::Redis if !lab.cut && lab.class.cut_until.is_none() => REDIS_UNREACHABLE,
                _ => UNREACHABLE,
            };
            // What the browser sent still came; what it points to cannot be read.
            let cookie = sent.map(|value| {
                json!({
                    "name": name,
                    "value": value,
                    "bytes": browser_size(name, value),
                })
            });
            Ok(json!({
                "mode": session.mode().as_str(),
                "available": false,
                "reason": reason,
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
    lab: &Lab,
    this_app: bool,
) -> Result<Value, AppError> {
    let mut view = column(session, seen, db, lab).await?;
    let name = session.cookie_name();
    let layer = session.layer();
    view["this_app"] = json!(this_app);
    view["cookie_name"] = json!(name);
    view["stores_rows"] = json!(layer.keeps_sessions());
    // Redis mode keeps no index of sessions but does hold each one's data, under a key.
    view["holds_data"] = json!(layer.holds_data());
    view["cookie_limit"] = json!(COOKIE_LIMIT);
    // Where the meter turns to a warning: the last tenth before browsers drop the cookie.
    view["cookie_high"] = json!(COOKIE_LIMIT * 9 / 10);
    if let Some(value) = seen.value(name) {
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
/// change refused for size is refused before another mode's session has changed.
fn cookie_first<'a, 'r>(own: &'a Session<'r>, siblings: &'a Siblings<'r>) -> Vec<&'a Session<'r>> {
    let mut all: Vec<&Session<'r>> = std::iter::once(own).chain(&siblings.0).collect();
    // A mode that holds no data on the server keeps it whole in the cookie.
    all.sort_by_key(|s| s.layer().holds_data());
    all
}

type Answer = Result<Result<Redirect, (Status, Html)>, AppError>;

/// The page, with `error` above the forms when a form was refused. Renders whether or not each
/// store can be reached: a column that cannot load its session says so, and the header, which
/// would need this app's session, says the login state is unknown instead of failing the page.
async fn show(
    page: &Page<'_>,
    siblings: &Siblings<'_>,
    seen: &Seen,
    db: &Db,
    error: Option<String>,
) -> Result<Html, AppError> {
    // Every column loads at once: in an outage the waits overlap instead of adding up.
    let lab = page.lab;
    let (own, others) = tokio::join!(
        column_view(&page.session, seen, db, lab, true),
        rocket::futures::future::join_all(
            siblings
                .0
                .iter()
                .map(|other| column_view(other, seen, db, lab, false))
        )
    );
    let own = own?;
    let others = others.into_iter().collect::<Result<Vec<_>, _>>()?;
    let header_user = own["user"].as_str().map(str::to_string);
    let who_unknown = (own["available"] != true).then(|| {
        format!(
            "Login state unknown: {} mode cannot load its session",
            page.jar.mode()
        )
    });
    let mut columns: Vec<Value> = std::iter::once(own).chain(others).collect();
    // Server mode on the left, then cookie, then redis, whichever app this is: the same place on
    // every port.
    columns.sort_by_key(|c| Mode::ALL.iter().position(|m| c["mode"] == m.as_str()));
    let forms = offer(&columns);
    let context = json!({
        "columns": columns,
        "both": !siblings.0.is_empty(),
        "all": siblings.0.len() >= 2,
        "urls": seen.urls,
        "error": error,
        "offer": forms,
        "who_unknown": who_unknown,
    });
    Ok(page.render_as(header_user, "compare", context).await)
}

/// Which login and logout forms the columns need: "log in" while any column that can be read is
/// logged out (in all or just there), "log out" per column that is logged in, and "log out of
/// all" when every column is.
fn offer(columns: &[Value]) -> Value {
    let readable: Vec<&Value> = columns.iter().filter(|c| c["available"] == true).collect();
    let out: Vec<&str> = readable
        .iter()
        .filter(|c| c["user"].is_null())
        .filter_map(|c| c["mode"].as_str())
        .collect();
    let users: Vec<&str> = readable.iter().filter_map(|c| c["user"].as_str()).collect();
    let several = columns.len() >= 2;
    let mut differ = users.clone();
    differ.sort_unstable();
    differ.dedup();
    json!({
        "log_in": !out.is_empty(),
        // With several columns and only one that can be logged in (the others logged in already,
        // or their stores unreachable), the login form is for that column by default.
        "log_in_side": if several && out.len() == 1 { out[0] } else { "both" },
        "log_out_both": several && users.len() == columns.len(),
        // Logged in on several sides as different people: worth saying.
        "differ": differ.len() >= 2,
        "choose_side": several,
        // The sides a login or logout can name: every column's mode.
        "sides": columns.iter().filter_map(|c| c["mode"].as_str()).collect::<Vec<_>>(),
    })
}

async fn refused(
    page: &Page<'_>,
    siblings: &Siblings<'_>,
    seen: &Seen,
    db: &Db,
    status: Status,
    why: String,
) -> Answer {
    Ok(Err((
        status,
        show(page, siblings, seen, db, Some(why)).await?,
    )))
}

#[get("/compare")]
async fn compare_page(
    page: Page<'_>,
    siblings: Siblings<'_>,
    seen: Seen,
    db: &Db,
) -> Result<Html, AppError> {
    show(&page, &siblings, &seen, db, None).await
}

/// Every column as JSON: `{"server": …, "cookie": …, "redis": …}`, each [`column`]'s data; a mode
/// this process does not run (without `--mode both` or `all`) is `null`.
#[get("/compare.json")]
async fn compare_json(
    session: Session<'_>,
    siblings: Siblings<'_>,
    seen: Seen,
    db: &Db,
    lab: &Lab,
) -> Result<Json<Value>, AppError> {
    let (own, others) = tokio::join!(
        column(&session, &seen, db, lab),
        rocket::futures::future::join_all(
            siblings.0.iter().map(|other| column(other, &seen, db, lab))
        )
    );
    let mut all = json!({ "server": null, "cookie": null, "redis": null });
    for c in std::iter::once(own).chain(others) {
        let c = c?;
        let mode = c["mode"].as_str().unwrap_or_default().to_string();
        all[mode] = c;
    }
    Ok(Json(all))
}

pub fn routes() -> Vec<rocket::Route> {
    [rocket::routes![compare_page, compare_json], forms::routes()].concat()
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
