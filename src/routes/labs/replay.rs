//! `/labs/replay`: keep a copy of this browser's session cookie, do something elsewhere (change
//! the color, log out, sign out everywhere else), then see what a request carrying the copy
//! would get — on the color page and on an account page.
//!
//! The copy lives in a lab cookie of its own, sealed with the app's key, never in the session:
//! keeping it must not change what it copies. Replaying runs the steps a request would
//! ([`SessionLayer::open`], then the `User` guard's [`check_login`]) and keeps nothing: no row
//! changes and no session cookie is sent.

use crate::html::Html;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::start_of;
use crate::auth::{check_login, keys, LoginCost, LoginStamp};
use crate::cookies::{browser_size, from_json, to_json, CookieValue, Kind, Lifetime, COOKIE_LIMIT};
use crate::csrf::{CheckedForm, NoFields};
use crate::db::{Db, DbError};
use crate::error::AppError;
use crate::page::Page;
use crate::routes::color::COLOR;
use crate::session::{Opened, Record};
use crate::settings::Mode;

/// What the lab cookie seals: the session cookie's value as the browser held it, and when.
#[derive(Serialize, Deserialize)]
struct Kept {
    value: String,
    /// Unix seconds on the session layer's clock (the one deadlines are measured on).
    kept_at: i64,
}

impl CookieValue for Kept {
    fn kind(mode: Mode) -> Kind {
        Kind::ReplayCopy(mode)
    }
    fn encode(&self) -> Option<String> {
        to_json(self)
    }
    fn decode(plaintext: &str) -> Option<Self> {
        from_json(plaintext)
    }
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
/// an account page. Writes nothing; returns the statements it ran (also counted in this
/// request's `Session-Trace`).
async fn replay(page: &Page<'_>, db: &Db, value: &str) -> Result<(Value, u32), AppError> {
    let layer = page.session.layer();
    // lesson: replay-open
    let (opened, statements) = page.session.open_value(value).await?;
    // end lesson
    let record = match opened {
        Opened::Found { record, .. } => record,
        Opened::Refused(why) => {
            // Every page refuses it alike: the request would start a fresh, empty session.
            let result = json!({
                "color_page": { "refused": why.as_str() },
                "account_page": { "outcome": "refused", "refused": why.as_str() },
            });
            return Ok((result, statements));
        }
    };
    let color = record.data.get(COLOR).and_then(Value::as_str);
    let header_user = record.data.get(keys::USERNAME).and_then(Value::as_str);
    let mut checked_statements = 0;
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
            let mut cost = LoginCost::default();
            let checked = match page.lab.connection(db).await {
                Ok(mut conn) => {
                    let keys = &page.jar.config().keys;
                    // lesson: replay-check
                    check_login(&mut conn, keys, &stamp, check_epoch, &mut cost).await
                    // end lesson
                }
                Err(e) => Err(e),
            };
            page.session.counted(cost.statements, None).await;
            checked_statements = cost.statements;
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
    let result = json!({
        "color_page": { "refused": null, "color": color, "header_user": header_user },
        "account_page": account,
    });
    Ok((result, statements + checked_statements))
}

/// The page, with the replay's result when asked for, and an error when a form was refused.
async fn render(
    page: &Page<'_>,
    db: &Db,
    show_replay: bool,
    error: Option<String>,
) -> Result<Html, AppError> {
    let jar = page.jar;
    let layer = page.session.layer();
    let session_name = page.session.cookie_name();
    let current = jar.value(layer.cookie_kind());
    let color_now: Option<String> = page.session.get(COLOR).await?;
    let copy = jar.get::<Kept>();
    let mut result = Value::Null;
    if let (true, Some(copy)) = (show_replay, &copy) {
        let statements;
        (result, statements) = replay(page, db, &copy.value).await?;
        result["statements"] = json!(statements);
        // A refused copy never works again (its row is gone, its time is up, its key or epoch
        // is old): its lesson is over, so the copy goes.
        if !result["color_page"]["refused"].is_null() {
            jar.remove_value::<Kept>();
            result["copy_removed"] = json!(true);
        }
    }
    let now = layer.now();
    let copy_view = copy.as_ref().map(|copy| {
        let kept_at = OffsetDateTime::from_unix_timestamp(copy.kept_at).unwrap_or(now);
        json!({
            "start": start_of(&copy.value),
            "bytes": browser_size(session_name, &copy.value),
            "kept_at": rfc3339(kept_at),
            "kept_in_words": crate::humanize::relative(kept_at, now),
            "kept_exact": crate::humanize::exact(kept_at),
            "seconds_ago": (now - kept_at).whole_seconds().max(0),
            "same_as_current": current == Some(copy.value.as_str()),
        })
    });
    page.render(
        "labs_replay",
        json!({
            "current": current.map(|v| json!({
                "start": start_of(v),
                "bytes": browser_size(session_name, v),
            })),
            "color_now": color_now,
            "copy": copy_view,
            "copy_name": jar.name(Kind::ReplayCopy(jar.mode())),
            "replay": result,
            "error": error,
        }),
    )
    .await
}

#[get("/labs/replay?<replay>")]
async fn replay_page(page: Page<'_>, db: &Db, replay: Option<&str>) -> Result<Html, AppError> {
    render(&page, db, replay.is_some(), None).await
}

type Answer<T> = Result<Result<T, (Status, Html)>, AppError>;

async fn refused<T>(page: &Page<'_>, db: &Db, status: Status, why: &str) -> Answer<T> {
    let body = render(page, db, false, Some(why.to_string())).await?;
    Ok(Err((status, body)))
}

/// Seals the browser's session cookie value into the lab cookie. Reads the value from the jar and
/// never opens the session, so keeping a copy cannot change it (not even a sliding refresh).
#[post("/labs/replay/keep", data = "<_form>")]
async fn keep_copy(page: Page<'_>, db: &Db, _form: CheckedForm<NoFields>) -> Answer<Redirect> {
    let jar = page.jar;
    let session_name = page.session.cookie_name();
    let Some(value) = jar.value(page.session.layer().cookie_kind()) else {
        let why = "Your browser has no session cookie to copy yet: set a color or log in first.";
        return refused(&page, db, Status::UnprocessableEntity, why).await;
    };
    let kept = Kept {
        value: value.to_string(),
        kept_at: page.session.layer().now().unix_timestamp(),
    };
    let plaintext = kept
        .encode()
        .ok_or_else(|| AppError::Internal("could not encode the copy".into()))?;
    let kind = Kind::ReplayCopy(jar.mode());
    let name = jar.name(kind);
    let sealed = jar.config().seal(kind, &plaintext);
    let bytes = browser_size(name, &sealed);
    let copied = browser_size(session_name, &kept.value);
    if bytes > COOKIE_LIMIT {
        let why = format!(
            "A sealed copy of your {copied}-byte session cookie would be {bytes} bytes, over the \
             {COOKIE_LIMIT} a browser keeps: clear some notes and try again. Nothing changed."
        );
        return refused(&page, db, Status::PayloadTooLarge, &why).await;
    }
    jar.put(kind, sealed, Lifetime::Browser);
    page.session
        .note(format!(
            "Kept a copy of your {copied}-byte session cookie in a cookie of its own, {name} \
             ({bytes} bytes, sealed so only this server can open it). Your session did not \
             change."
        ))
        .await;
    Ok(Ok(Redirect::to("/labs/replay")))
}

/// Shows the replay: a 303 to the page, which opens the copy. Nothing is sent to the browser.
#[post("/labs/replay/replay", data = "<_form>")]
async fn replay_copy(page: Page<'_>, db: &Db, _form: CheckedForm<NoFields>) -> Answer<Redirect> {
    if page.jar.get::<Kept>().is_none() {
        return no_copy(&page, db).await;
    }
    page.session
        .note(
            "Replayed the kept copy: the page below sends it through the same checks a request \
             would, without touching your browser's own session cookie.",
        )
        .await;
    Ok(Ok(Redirect::to("/labs/replay?replay=1")))
}

/// Sets the browser's session cookie to the kept value, byte for byte: the one lab action that
/// changes the session cookie, and on purpose.
#[post("/labs/replay/put-back", data = "<_form>")]
async fn put_back(page: Page<'_>, db: &Db, _form: CheckedForm<NoFields>) -> Answer<Redirect> {
    let Some(copy) = page.jar.get::<Kept>() else {
        return no_copy(&page, db).await;
    };
    page.session.adopt_cookie(copy.value).await;
    page.session
        .note(format!(
            "Put the kept copy back as your {} cookie, byte for byte, and deleted the copy: \
             its lesson is done.",
            page.session.cookie_name()
        ))
        .await;
    // The copy's lesson is over once it is the session cookie again: it goes too.
    page.jar.remove_value::<Kept>();
    Ok(Ok(Redirect::to("/labs/replay")))
}

#[post("/labs/replay/forget", data = "<_form>")]
async fn forget_copy(page: Page<'_>, _form: CheckedForm<NoFields>) -> Redirect {
    page.jar.remove_value::<Kept>();
    page.session
        .note(format!(
            "Deleted the kept copy ({}). Your session did not change.",
            page.jar.name(Kind::ReplayCopy(page.jar.mode()))
        ))
        .await;
    Redirect::to("/labs/replay")
}

async fn no_copy<T>(page: &Page<'_>, db: &Db) -> Answer<T> {
    let why = "There is no kept copy yet (or it no longer opens): keep one first.";
    refused(page, db, Status::UnprocessableEntity, why).await
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![replay_page, keep_copy, replay_copy, put_back, forget_copy]
}
