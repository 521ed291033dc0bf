//! `session_cache = "redis"`: server mode with Redis in front of the table (Django's `cached_db`).
//! Reads try Redis first, writes go to both, the table alone answers while Redis is down — each
//! against a real Redis (this test's own key prefix) and PostgreSQL.

use rocket::figment::Figment;
use session_lab::session::store::at_rest;

use crate::common::redis::{cmd, prefix_for};
use crate::common::*;

const PW: &str = "correct horse battery staple";

fn cached(f: Figment) -> Figment {
    f.merge(("session_cache", "redis"))
}

/// The cache entry of the session `b` holds.
async fn entry_of(app: &TestApp, b: &Browser<'_>) -> String {
    let json = b.get("/session.json").await.json();
    let id = json["row"]["id"].as_str().expect("the id").to_string();
    format!("{}cache:session:{}", prefix_for(&app.db_url), at_rest(&id))
}

#[rocket::async_test]
async fn a_hit_runs_no_sql_a_miss_reads_the_row_and_refills_the_cache() {
    let app = TestApp::spawn_with(ServerMode, cached).await;
    let b = app.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(
        res.trace(),
        "mode=server; load=none; save=write; queries=1; redis=1",
        "the INSERT, then the SET"
    );
    let res = b.get("/color").await;
    assert!(res.body.contains("<strong>red</strong>"));
    assert_eq!(
        res.trace(),
        "mode=server; load=hit; save=none; queries=0; redis=1; cache=hit"
    );
    let entry = entry_of(&app, &b).await;
    let _: i64 = cmd(::redis::cmd("DEL").arg(&entry)).await;
    let res = b.get("/color").await;
    assert!(
        res.body.contains("<strong>red</strong>"),
        "the row still has it"
    );
    assert_eq!(
        res.trace(),
        "mode=server; load=hit; save=none; queries=1; redis=2; cache=miss",
        "the GET that missed, the SELECT, the SET that refilled"
    );
    let exists: i64 = cmd(::redis::cmd("EXISTS").arg(&entry)).await;
    assert_eq!(exists, 1, "refilled");
    assert!(b.get("/color").await.trace().ends_with("cache=hit"));
}

#[rocket::async_test]
async fn a_write_goes_to_the_table_and_the_cache() {
    let app = TestApp::spawn_with(ServerMode, cached).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    b.post("/color", &[("color", "navy")]).await;
    let row: serde_json::Value = sqlx::query_scalar("SELECT data FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(row["color"], "navy");
    let entry = entry_of(&app, &b).await;
    let json: String = cmd(::redis::cmd("GET").arg(&entry)).await;
    let cached: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cached["data"]["color"], "navy");
    let ttl: i64 = cmd(::redis::cmd("TTL").arg(&entry)).await;
    assert!((1700..=1800).contains(&ttl), "TTL {ttl}: the idle deadline");
    // Logout deletes the row and the entry: a copy of the cookie opens neither.
    signup(&b, "alice", PW).await;
    let copy = b.session_cookie().unwrap();
    let entry = entry_of(&app, &b).await;
    b.post("/logout", &[]).await;
    let exists: i64 = cmd(::redis::cmd("EXISTS").arg(&entry)).await;
    assert_eq!(exists, 0);
    let thief = app.browser();
    thief.set_session_cookie(&copy);
    let res = thief.get("/account").await;
    assert_eq!(res.status, 303);
    assert!(res.trace().contains("refused=unknown"), "{}", res.trace());
}

#[rocket::async_test]
async fn sessions_ended_elsewhere_are_forgotten_in_the_cache_too() {
    let app = TestApp::spawn_with(ServerMode, cached).await;
    let (laptop, phone) = (app.browser(), app.browser());
    signup(&laptop, "alice", PW).await;
    login(&phone, "alice", PW).await;
    assert!(phone.get("/account").await.trace().contains("cache=hit"));
    let res = laptop.post("/account/sessions/end-others", &[]).await;
    assert_eq!(res.status, 303);
    let res = phone.get("/account").await;
    assert_eq!(res.status, 303, "not served from a stale cache entry");
    assert!(res.trace().contains("cache=miss"), "{}", res.trace());
    assert!(res.trace().contains("refused=unknown"), "{}", res.trace());
}

#[rocket::async_test]
async fn with_redis_out_of_reach_the_table_answers_alone() {
    let app = TestApp::spawn_with(ServerMode, |f| {
        cached(f).merge(("redis_url", "redis://127.0.0.1:1/0"))
    })
    .await;
    let b = app.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(
        res.status, 303,
        "the row is written; the cache is not needed"
    );
    assert!(res.trace().contains("cache=unavailable"), "{}", res.trace());
    let res = b.get("/color").await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("<strong>red</strong>"));
    assert_eq!(
        res.trace(),
        "mode=server; load=hit; save=none; queries=1; cache=unavailable"
    );
}
