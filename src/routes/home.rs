//! `GET /`: what Session Lab is, what your session holds right now, and the lessons in order.

use crate::html::Html;
use rocket::{get, State};
use serde_json::json;

use crate::error::AppError;
use crate::learner::Learner;
use crate::page::Page;
use crate::routes::exercises::{score_board, ReqInfo};
use crate::settings::Settings;

#[get("/")]
async fn home(
    page: Page<'_>,
    settings: &State<Settings>,
    learner: Learner<'_>,
    req: ReqInfo<'_>,
) -> Result<Html, AppError> {
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
            "fast_forward": settings.fast_forward,
            "progress": score_board(req.0, &learner).await,
        }),
    )
    .await
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
