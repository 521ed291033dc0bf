//! `GET /`: what Session Lab is, and what your session holds right now.

use rocket::get;
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::error::AppError;
use crate::page::Page;

#[get("/")]
async fn home(page: Page<'_>) -> Result<Template, AppError> {
    let record = page.session.record().await?;
    let data = record.as_ref().map(|r| r.data.clone()).unwrap_or_default();
    let data = serde_json::to_string_pretty(&data).unwrap_or_default();
    page.render(
        "home",
        json!({ "has_session": record.is_some(), "data": data }),
    )
    .await
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
