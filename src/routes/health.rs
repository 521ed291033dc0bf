//! `GET /healthz`: whether the app can reach PostgreSQL, for scripts and load balancers.

use rocket::get;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

use crate::db::Db;

#[get("/healthz")]
async fn healthz(db: &State<Db>) -> (Status, Json<Value>) {
    match sqlx::query("SELECT 1").execute(db.pool()).await {
        Ok(_) => (
            Status::Ok,
            Json(json!({ "status": "ok", "database": "ok" })),
        ),
        Err(e) => {
            rocket::warn!("health check: {e}");
            (
                Status::ServiceUnavailable,
                Json(json!({ "status": "degraded", "database": "unavailable" })),
            )
        }
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![healthz]
}
