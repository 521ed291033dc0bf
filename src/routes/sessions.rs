//! `/account/sessions`: your sessions, and ending them — where the mode allows it.
//!
//! A store that keeps sessions (server mode) can list and end them. One that keeps nothing
//! (cookie mode) has nothing to list or delete, so the page shows why, and offers the usual
//! remedy: a per-user epoch that older cookies must match.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::response::Redirect;
use rocket::{get, post};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::auth::{self, keys, User};
use crate::csrf::{CheckedForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;
use crate::session::{Ended, SessionSummary};

#[get("/account/sessions")]
async fn sessions_page(
    page: Page<'_>,
    user: Result<User, AppError>,
    settings: &rocket::State<crate::settings::Settings>,
) -> Result<Html, AppError> {
    let user = user?;
    let sessions = page.session.list_user_sessions(user.id).await?;
    let can_end_remotely = sessions.is_some();
    let epoch: Option<i32> = page.session.get(keys::SESSION_EPOCH).await?;
    let now = page.session.layer().now();
    let sessions: Vec<Value> = sessions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|s| readable(s, now))
        .collect();
    page.render(
        "sessions",
        json!({
            "can_end_remotely": can_end_remotely,
            "sessions": sessions,
            "epoch": epoch,
            "max_sessions": settings.max_sessions_per_account,
        }),
    )
    .await
}

/// One session as the table shows it: the stored fields, plus the browser in a few words and
/// times relative to now, each with its exact time for hovering.
fn readable(s: &SessionSummary, now: OffsetDateTime) -> Value {
    let mut view = serde_json::to_value(s).unwrap_or_else(|_| json!({}));
    if let Some(v) = view.as_object_mut() {
        v.insert(
            "browser".into(),
            json!(humanize::browser(s.user_agent.as_deref())),
        );
        v.insert(
            "created_ago".into(),
            json!(humanize::relative(s.created_at, now)),
        );
        v.insert("created_exact".into(), json!(humanize::exact(s.created_at)));
        v.insert(
            "seen_ago".into(),
            json!(humanize::relative(s.updated_at, now)),
        );
        v.insert("seen_exact".into(), json!(humanize::exact(s.updated_at)));
        v.insert("label".into(), json!(label(s.handle)));
    }
    view
}

/// A short name for a session, from its handle (random, and not the credential), so two
/// browsers with the same User-Agent, logged in the same minute, can still be told apart: each
/// sees its own marked "(this one)" under the same label.
fn label(handle: i64) -> String {
    format!("#{:06x}", handle.unsigned_abs() & 0xff_ffff)
}

#[derive(FromForm)]
struct Which {
    handle: i64,
}

/// End one session, maybe this one (where the store keeps sessions).
#[post("/account/sessions/end", data = "<form>")]
async fn end_session(
    page: Page<'_>,
    user: Result<User, AppError>,
    form: CheckedForm<Which>,
) -> Result<Redirect, AppError> {
    let user = user?;
    // lesson: sessions-end-one
    let note = match page
        .session
        .end_user_session(user.id, form.0.handle)
        .await?
    // end lesson
    {
        Some(Ended::ThisOne) => {
            // This browser is logged out too: its row is gone and its cookie goes.
            page.session
                .note(
                    "You signed out this session: its row was deleted, so this browser is \
                       logged out and any copy of its cookie is worthless.",
                )
                .await;
            page.renew_csrf();
            return Ok(Redirect::to("/"));
        }
        Some(Ended::Another) => {
            "That session's row was deleted: the browser holding its cookie is logged out at its \
             next request, and any copy of that cookie is worthless."
        }
        Some(Ended::None) => "No session of yours had that handle; nothing was ended.",
        None => "This mode keeps no sessions on the server, so there is none to end.",
    };
    page.session.note(note).await;
    Ok(Redirect::to("/account/sessions"))
}

/// Where the store keeps sessions: delete every other one of this user. Where it does not: bump
/// the epoch, so every other cookie of this user is refused where the account is loaded, and
/// re-stamp this session with the new epoch.
#[post("/account/sessions/end-others", data = "<_form>")]
async fn end_others(
    page: Page<'_>,
    user: Result<User, AppError>,
    db: &Db,
    _form: CheckedForm<NoFields>,
) -> Result<Redirect, AppError> {
    let user = user?;
    // lesson: sessions-end-others
    if let Some(n) = page.session.end_other_sessions(user.id).await? {
        // end lesson
        let rows = if n == 1 { "row was" } else { "rows were" };
        page.session
            .note(format!(
                "Signed out all others: {n} {rows} deleted. The browsers holding those cookies \
                 are logged out at their next request; copies of the cookies are worthless."
            ))
            .await;
    } else {
        // A connection only on this path: the other one runs its statement through the store.
        // lesson: sessions-epoch
        let mut conn = page.lab.connection(db).await?;
        let epoch = auth::users::bump_epoch(&mut conn, user.id).await?;
        page.session.counted(1, None).await;
        page.session.insert(keys::SESSION_EPOCH, epoch).await?;
        // end lesson
        page.session
            .note(format!(
                "Signed out everywhere else: your account's session epoch is now {epoch}, and this \
                 browser got a cookie carrying it. Every older cookie of yours is refused where \
                 the account is loaded (the account pages) — but nothing was deleted, because \
                 the server never had those sessions: pages that do not load the account still \
                 trust them until they expire."
            ))
            .await;
    }
    Ok(Redirect::to("/account/sessions"))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![sessions_page, end_session, end_others]
}
