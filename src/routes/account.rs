//! `/account`: who you are, since when, in which mode. Needs a login.

use rocket::get;
use rocket::response::Redirect;
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::auth::{self, User};
use crate::db::Db;
use crate::error::AppError;
use crate::page::Page;
use crate::session::keys;

/// Where an anonymous visitor is sent: the login page, coming back here afterwards.
pub fn login_redirect(path: &str) -> Redirect {
    let next: String = path
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

/// The logged-in user, checked against the database: the row must still exist and, for cookie
/// mode's "sign out everywhere", the epoch sealed in the cookie must be the current one. A
/// session that fails either check is ended. This is the one place a cookie-mode request reads
/// the database for its session — the price of being able to revoke it.
///
/// # Errors
/// [`AppError::Unavailable`] when the database cannot be reached.
pub async fn require_user(
    page: &Page<'_>,
    db: &Db,
) -> Result<Option<(User, auth::UserRow)>, AppError> {
    let Some(user) = auth::session_user(&page.session).await? else {
        return Ok(None);
    };
    let pool = db.ready().await?;
    let row = auth::find_by_id(pool, user.id).await?;
    let epoch: Option<i32> = page.session.get(keys::SESSION_EPOCH).await?;
    match row {
        Some(row) if epoch.unwrap_or(0) == row.session_epoch => Ok(Some((user, row))),
        _ => {
            rocket::info!(
                "session: user {} was signed out everywhere or deleted; ending this session",
                user.id
            );
            page.session.flush().await?;
            Ok(None)
        }
    }
}

#[get("/account")]
async fn account_page(
    page: Page<'_>,
    db: &State<Db>,
) -> Result<Result<Template, Redirect>, AppError> {
    let Some((user, row)) = require_user(&page, db).await? else {
        return Ok(Err(login_redirect(&page.path)));
    };
    let record = page.session.record().await?;
    let fmt = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let body = page
        .render(
            "account",
            json!({
                "username": user.username,
                "user_id": user.id,
                "member_since": fmt(row.created_at),
                "session_since": record.as_ref().map(|r| fmt(r.created_at)),
                "remember": record.as_ref().map(|r| r.remember),
            }),
        )
        .await?;
    Ok(Ok(body))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![account_page]
}
