//! `/account`: who you are, since when, in which mode. Needs a login.

use crate::html::Html;
use rocket::get;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::User;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;

#[get("/account")]
async fn account_page(page: Page<'_>, user: Result<User, AppError>) -> Result<Html, AppError> {
    // lesson: account
    let user = user?;
    let record = page.session.record().await?;
    // end lesson
    let now = page.session.layer().now();
    // In words on the page, the exact time on hover, the machine-readable one for <time>.
    let when = |t: OffsetDateTime| {
        json!({
            "words": humanize::relative(t, now),
            "exact": humanize::exact(t),
            "iso": t.format(&Rfc3339).unwrap_or_default(),
        })
    };
    page.render(
        "account",
        json!({
            "username": user.username,
            "user_id": user.id,
            "member_since": when(user.created_at),
            "session_since": record.as_ref().map(|r| when(r.created_at)),
            "remember": record.as_ref().map(|r| r.remember),
        }),
    )
    .await
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![account_page]
}
