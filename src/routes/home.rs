//! `GET /`: what Session Lab is, what your session holds right now, and the lessons in order.

use crate::html::Html;
use rocket::get;
use serde_json::json;

use crate::error::AppError;
use crate::exercises::board::score_board;
use crate::learner::Learner;
use crate::page::Page;

#[get("/")]
async fn home(page: Page<'_>, learner: Learner<'_>) -> Result<Html, AppError> {
    // lesson: home
    let record = page.session.record().await?;
    let data = record.as_ref().map(|r| r.data.clone()).unwrap_or_default();
    // end lesson
    let data = serde_json::to_string_pretty(&data).unwrap_or_default();
    page.render(
        "home",
        json!({
            "has_session": record.is_some(),
            "data": data,
            "progress": score_board(&learner).await,
        }),
    )
    .await
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
