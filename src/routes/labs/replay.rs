//! `/labs/replay`: keep a copy of this browser's session cookie, do something elsewhere (change
//! the color, log out, sign out everywhere else), then see what a request carrying the copy
//! would get — on the color page and on an account page.
//!
//! The copy lives in a lab cookie of its own, sealed with the app's key, never in the session:
//! keeping it must not change what it copies. Replaying runs the steps a request would
//! ([`SessionLayer::open`], then the `User` guard's [`check_login`]) and keeps nothing: no row
//! changes and no session cookie is sent.

use crate::html::Html;
use rocket::http::{CookieJar, Status};
use rocket::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{start_of, RedirectWithCookies};
use crate::auth::{check_login, keys, LoginStamp};
use crate::cookies::{browser_size, CookieConfig, COOKIE_LIMIT};
use crate::csrf::{CheckedForm, NoFields};
use crate::db::{Db, DbError};
use crate::error::AppError;
use crate::page::Page;
use crate::routes::color::COLOR;
use crate::session::store::Statements;
use crate::session::{Opened, Record, SessionError};

/// What the lab cookie seals: the session cookie's value as the browser held it, and when.
#[derive(Serialize, Deserialize)]
struct Kept {
    value: String,
    /// Unix seconds on the session layer's clock (the one deadlines are measured on).
    kept_at: i64,
}

fn kept_copy(jar: &CookieJar<'_>, cookies: &CookieConfig) -> Option<Kept> {
    let name = cookies.replay_copy;
    let opened = cookies.keys.open(name, jar.get(name)?.value())?;
    serde_json::from_str(&opened.plaintext).ok()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The epoch the session was stamped with at login, read as the `User` guard reads it (absent
/// is 0, the epoch of an account never signed out everywhere).
fn stamped_epoch(record: &Record) -> i32 {
    record
        .data
        .get(keys::SESSION_EPOCH)
        .and_then(Value::as_i64)
        .and_then(|e| i32::try_from(e).ok())
        .unwrap_or(0)
}

/// What a request carrying `value` as its session cookie would see now, on the color page and on
/// an account page. Writes nothing; counts its statements into `statements`.
async fn replay(
    page: &Page<'_>,
    db: &Db,
    value: &str,
    statements: &mut Statements,
) -> Result<Value, AppError> {
    let layer = page.session.layer();
    // lesson: replay-open
    let opened = layer
        .open(page.cookies, value, page.session.clock_now(), statements)
        .await
        .map_err(SessionError::from)?;
    // end lesson
    let record = match opened {
        Opened::Found { record, .. } => record,
        Opened::Refused(why) => {
            // Every page refuses it alike: the request would start a fresh, empty session.
            return Ok(json!({
                "color_page": { "refused": why.as_str() },
                "account_page": { "outcome": "refused", "refused": why.as_str() },
            }));
        }
    };
    let color = record.data.get(COLOR).and_then(Value::as_str);
    let header_user = record.data.get(keys::USERNAME).and_then(Value::as_str);
    let account = match record.user_id {
        None => json!({ "outcome": "anonymous" }),
        Some(user_id) => {
            let stamp = LoginStamp {
                user_id,
                epoch: stamped_epoch(&record),
                bound: record
                    .data
                    .get(keys::AUTH_HASH)
                    .and_then(Value::as_str)
                    .map(str::to_string),
            };
            // The same rule the User guard applies.
            let check_epoch = layer.checks_epoch();
            let checked = match page.session.lab().connection(db).await {
                Ok(mut conn) => {
                    let keys = &page.cookies.keys;
                    // lesson: replay-check
                    check_login(&mut conn, keys, &stamp, check_epoch, statements).await
                    // end lesson
                }
                Err(e) => Err(e),
            };
            match checked {
                Ok(Ok(user)) => json!({
                    "outcome": "logged-in",
                    "username": user.username,
                    "user_id": user.id,
                }),
                Ok(Err(why)) => json!({
                    "outcome": "refused",
                    "refused": why.as_str(),
                    "epoch": stamp.epoch,
                }),
                // The lab page itself can still say what happened: the account page would be 503.
                Err(DbError::Unavailable(_)) => json!({ "outcome": "unavailable" }),
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok(json!({
        "color_page": { "refused": null, "color": color, "header_user": header_user },
        "account_page": account,
    }))
}

/// The page, with the replay's result when asked for, and an error when a form was refused.
async fn render(
    page: &Page<'_>,
    jar: &CookieJar<'_>,
    db: &Db,
    show_replay: bool,
    error: Option<String>,
) -> Result<Html, AppError> {
    let cookies = page.cookies;
    let layer = page.session.layer();
    let current = jar.get(cookies.session).map(|c| c.value().to_string());
    let color_now: Option<String> = page.session.get(COLOR).await?;
    let copy = kept_copy(jar, cookies);
    let mut result = Value::Null;
    if let (true, Some(copy)) = (show_replay, &copy) {
        let mut statements = Statements::for_lab(page.session.lab());
        result = replay(page, db, &copy.value, &mut statements).await?;
        // The request did run them, so its Session-Trace counts them too.
        page.session.count_statements(statements.count).await;
        result["statements"] = json!(statements.count);
        // A refused copy never works again (its row is gone, its time is up, its key or epoch
        // is old): its lesson is over, so the copy goes.
        if !result["color_page"]["refused"].is_null() {
            jar.remove(cookies.removal(cookies.replay_copy));
            result["copy_removed"] = json!(true);
        }
    }
    let now = layer.now();
    let copy_view = copy.as_ref().map(|copy| {
        let kept_at = OffsetDateTime::from_unix_timestamp(copy.kept_at).unwrap_or(now);
        json!({
            "start": start_of(&copy.value),
            "bytes": browser_size(cookies.session, &copy.value),
            "kept_at": rfc3339(kept_at),
            "kept_in_words": crate::humanize::relative(kept_at, now),
            "kept_exact": crate::humanize::exact(kept_at),
            "seconds_ago": (now - kept_at).whole_seconds().max(0),
            "same_as_current": current.as_deref() == Some(copy.value.as_str()),
        })
    });
    page.render(
        "labs_replay",
        json!({
            "current": current.as_ref().map(|v| json!({
                "start": start_of(v),
                "bytes": browser_size(cookies.session, v),
            })),
            "color_now": color_now,
            "copy": copy_view,
            "copy_name": cookies.replay_copy,
            "replay": result,
            "error": error,
        }),
    )
    .await
}

#[get("/labs/replay?<replay>")]
async fn replay_page(
    page: Page<'_>,
    jar: &CookieJar<'_>,
    db: &Db,
    replay: Option<&str>,
) -> Result<Html, AppError> {
    render(&page, jar, db, replay.is_some(), None).await
}

type Answer<T> = Result<Result<T, (Status, Html)>, AppError>;

async fn refused<T>(
    page: &Page<'_>,
    jar: &CookieJar<'_>,
    db: &Db,
    status: Status,
    why: &str,
) -> Answer<T> {
    let body = render(page, jar, db, false, Some(why.to_string())).await?;
    Ok(Err((status, body)))
}

/// Seals the browser's session cookie value into the lab cookie. Reads the value from the jar and
/// never opens the session, so keeping a copy cannot change it (not even a sliding refresh).
#[post("/labs/replay/keep", data = "<_form>")]
async fn keep_copy(
    page: Page<'_>,
    jar: &CookieJar<'_>,
    db: &Db,
    _form: CheckedForm<NoFields>,
) -> Answer<RedirectWithCookies> {
    let cookies = page.cookies;
    let Some(value) = jar.get(cookies.session).map(|c| c.value().to_string()) else {
        let why = "Your browser has no session cookie to copy yet: set a color or log in first.";
        return refused(&page, jar, db, Status::UnprocessableEntity, why).await;
    };
    let kept = Kept {
        value,
        kept_at: page.session.layer().now().unix_timestamp(),
    };
    let plaintext = serde_json::to_string(&kept).map_err(|e| AppError::Internal(e.to_string()))?;
    let name = cookies.replay_copy;
    let cookie = cookies.sealed(name, &plaintext);
    let bytes = browser_size(name, cookie.value());
    if bytes > COOKIE_LIMIT {
        let why = format!(
            "A sealed copy of your {}-byte session cookie would be {bytes} bytes, over the \
             {COOKIE_LIMIT} a browser keeps: clear some notes and try again. Nothing changed.",
            browser_size(cookies.session, &kept.value)
        );
        return refused(&page, jar, db, Status::PayloadTooLarge, &why).await;
    }
    page.session
        .note(format!(
            "Kept a copy of your {}-byte session cookie in a cookie of its own, {name} ({bytes} \
             bytes, sealed so only this server can open it). Your session did not change.",
            browser_size(cookies.session, &kept.value)
        ))
        .await;
    Ok(Ok(RedirectWithCookies::new("/labs/replay", vec![cookie])))
}

/// Shows the replay: a 303 to the page, which opens the copy. Nothing is sent to the browser.
#[post("/labs/replay/replay", data = "<_form>")]
async fn replay_copy(
    page: Page<'_>,
    jar: &CookieJar<'_>,
    db: &Db,
    _form: CheckedForm<NoFields>,
) -> Answer<rocket::response::Redirect> {
    if kept_copy(jar, page.cookies).is_none() {
        return no_copy(&page, jar, db).await;
    }
    page.session
        .note(
            "Replayed the kept copy: the page below sends it through the same checks a request \
             would, without touching your browser's own session cookie.",
        )
        .await;
    Ok(Ok(rocket::response::Redirect::to("/labs/replay?replay=1")))
}

/// Sets the browser's session cookie to the kept value, byte for byte: the one lab action that
/// changes the session cookie, and on purpose.
#[post("/labs/replay/put-back", data = "<_form>")]
async fn put_back(
    page: Page<'_>,
    jar: &CookieJar<'_>,
    db: &Db,
    _form: CheckedForm<NoFields>,
) -> Answer<RedirectWithCookies> {
    let Some(copy) = kept_copy(jar, page.cookies) else {
        return no_copy(&page, jar, db).await;
    };
    page.session.adopt_cookie(copy.value).await;
    page.session
        .note(format!(
            "Put the kept copy back as your {} cookie, byte for byte, and deleted the copy: \
             its lesson is done.",
            page.cookies.session
        ))
        .await;
    // The copy's lesson is over once it is the session cookie again: it goes too.
    let removal = page.cookies.removal(page.cookies.replay_copy);
    Ok(Ok(RedirectWithCookies::new("/labs/replay", vec![removal])))
}

#[post("/labs/replay/forget", data = "<_form>")]
async fn forget_copy(page: Page<'_>, _form: CheckedForm<NoFields>) -> RedirectWithCookies {
    let removal = page.cookies.removal(page.cookies.replay_copy);
    page.session
        .note(format!(
            "Deleted the kept copy ({}). Your session did not change.",
            page.cookies.replay_copy
        ))
        .await;
    RedirectWithCookies::new("/labs/replay", vec![removal])
}

async fn no_copy<T>(page: &Page<'_>, jar: &CookieJar<'_>, db: &Db) -> Answer<T> {
    let why = "There is no kept copy yet (or it no longer opens): keep one first.";
    refused(page, jar, db, Status::UnprocessableEntity, why).await
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![replay_page, keep_copy, replay_copy, put_back, forget_copy]
}
