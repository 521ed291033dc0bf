//! `/account/sessions`: your sessions, and ending them — where the mode allows it.
//!
//! Server mode can list and delete rows. Cookie mode has nothing to list or delete, so it shows
//! why, and offers the usual remedy: a per-user epoch that older cookies must match.

use rocket::form::FromForm;
use rocket::response::Redirect;
use rocket::{get, post, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::auth::{self, User};
use crate::csrf::{CheckedForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::page::Page;
use crate::session::{keys, server};
use crate::settings::Mode;

#[get("/account/sessions")]
async fn sessions_page(
    page: Page<'_>,
    user: Result<User, AppError>,
    db: &State<Db>,
) -> Result<Template, AppError> {
    let user = user?;
    let sessions = match page.session.mode() {
        Mode::Server => {
            let current = page.session.id().await?.unwrap_or_default();
            let now = page.session.layer().now();
            server::list_for_user(db.pool(), user.id, &current, now).await?
        }
        Mode::Cookie => Vec::new(),
    };
    let epoch: Option<i32> = page.session.get(keys::SESSION_EPOCH).await?;
    page.render("sessions", json!({ "sessions": sessions, "epoch": epoch }))
        .await
}

#[derive(FromForm)]
struct Which {
    handle: i64,
}

/// Server mode: end one session, maybe this one.
#[post("/account/sessions/end", data = "<form>")]
async fn end_session(
    page: Page<'_>,
    user: Result<User, AppError>,
    db: &State<Db>,
    form: CheckedForm<Which>,
) -> Result<Redirect, AppError> {
    let user = user?;
    if page.session.mode() == Mode::Server {
        let current = page.session.id().await?;
        let ended = server::delete_by_handle(db.pool(), user.id, form.0.handle).await?;
        // This one? Then this browser is logged out too (its row is gone already).
        if ended.is_some() && ended == current {
            page.session.flush().await?;
            page.renew_csrf();
            return Ok(Redirect::to("/"));
        }
    }
    Ok(Redirect::to("/account/sessions"))
}

/// Server mode: delete every other row of this user. Cookie mode: bump the epoch, so every other
/// cookie of this user is refused, and re-stamp this session with the new epoch.
#[post("/account/sessions/end-others", data = "<_form>")]
async fn end_others(
    page: Page<'_>,
    user: Result<User, AppError>,
    db: &State<Db>,
    _form: CheckedForm<NoFields>,
) -> Result<Redirect, AppError> {
    let user = user?;
    match page.session.mode() {
        Mode::Server => {
            let current = page.session.id().await?.unwrap_or_default();
            server::delete_others(db.pool(), user.id, &current).await?;
        }
        Mode::Cookie => {
            let epoch = auth::bump_epoch(db.ready().await?, user.id).await?;
            page.session.insert(keys::SESSION_EPOCH, epoch).await?;
        }
    }
    Ok(Redirect::to("/account/sessions"))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![sessions_page, end_session, end_others]
}
