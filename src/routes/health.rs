//! `GET /healthz`: whether the app can reach PostgreSQL, for scripts and load balancers; and the
//! benchmark's no-session floor.

use rocket::get;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use serde_json::{json, Value};

use crate::browser_lab::Lab;
use crate::db::Db;

/// A browser whose outage lab has cut the database off is answered as a monitor would be in a
/// real outage: the lab shows what `/healthz` reports then. Monitors carry no lab cookie, so they
/// always see the real database.
#[get("/healthz")]
async fn healthz(db: &Db, lab: &Lab) -> (Status, Json<Value>) {
    // `ready()` first: a cookie-mode app started without PostgreSQL creates and migrates its
    // database here too once the server is back, so "ok" means every page can be served. (Not
    // the `Connection` guard: its failure would be the 503 page, not this JSON.)
    let checked = match lab.ready(db).await {
        Ok(pool) => sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map_err(crate::db::DbError::from),
        Err(e) => Err(e),
    };
    match checked {
        Ok(_) => (
            Status::Ok,
            Json(json!({ "status": "ok", "database": "ok" })),
        ),
        Err(e) => {
            rocket::warn!("health check: {}", e.chain());
            (
                Status::ServiceUnavailable,
                Json(json!({ "status": "degraded", "database": "unavailable" })),
            )
        }
    }
}

/// The benchmark's floor: a constant page that touches neither the session nor the database, so
/// `bench/run` can say what the session layer costs on top of Rocket itself.
#[get("/bench/plain")]
fn plain() -> RawHtml<&'static str> {
    RawHtml("<!doctype html><title>plain</title><p>No session was touched for this page.</p>")
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![healthz, plain]
}
