//! Redis mode against a real Redis: one key per session, its TTL the idle deadline and moved by
//! each refresh, a key gone before its time refused as `evicted`, and Redis out of reach a 503.
//! Each test reads its own keys (its own prefix) with a client of its own.

use rocket::figment::Figment;

use crate::common::redis::{cmd, keys, prefix_for};
use crate::common::*;

fn short(f: Figment) -> Figment {
    f.merge(("session_idle_timeout", 100))
        .merge(("session_absolute_timeout", 300))
}

/// The one session key of `app`.
async fn session_key(app: &TestApp) -> String {
    let all = keys(&prefix_for(&app.db_url)).await;
    let filed: Vec<String> = all
        .into_iter()
        .filter(|k| k.contains(":session:"))
        .collect();
    assert_eq!(filed.len(), 1, "one key per session: {filed:?}");
    filed[0].clone()
}

async fn ttl(key: &str) -> i64 {
    cmd(::redis::cmd("TTL").arg(key)).await
}

#[rocket::async_test]
async fn a_session_is_one_key_of_json_whose_ttl_is_the_idle_deadline() {
    let app = TestApp::spawn_with(RedisMode, short).await;
    let b = app.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.trace(),
        "mode=redis; load=none; save=write; queries=0; redis=1",
        "one SET, no SQL"
    );
    assert!(res.set_cookie("session_key").is_some());
    let key = session_key(&app).await;
    let hex = key.rsplit(':').next().unwrap();
    assert_eq!(hex.len(), 64, "filed under a SHA-256 in hex: {key}");
    let t = ttl(&key).await;
    assert!((95..=100).contains(&t), "TTL {t}: the 100 s idle deadline");
    let json: String = cmd(::redis::cmd("GET").arg(&key)).await;
    let stored: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(stored["data"]["color"], "red");
    let inspected = b.get("/session.json").await.json();
    assert_eq!(inspected["row"]["key"], key.as_str());
    assert_eq!(inspected["row"]["data"]["color"], "red");
    assert_eq!(app.session_rows().await, 0, "nothing in PostgreSQL");
}

#[rocket::async_test]
async fn a_refresh_moves_the_keys_ttl_and_a_plain_read_does_not() {
    let app = TestApp::spawn_with(RedisMode, short).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let key = session_key(&app).await;
    // The test shortens the TTL itself, so whatever moves it afterwards is the app.
    let _: i64 = cmd(::redis::cmd("EXPIRE").arg(&key).arg(30)).await;
    app.clock().advance(40);
    let res = b.get("/color").await;
    assert_eq!(
        res.trace(),
        "mode=redis; load=hit; save=none; queries=0; redis=1"
    );
    assert!(
        ttl(&key).await <= 30,
        "a read within half the window writes nothing"
    );
    app.clock().advance(20); // under half of the 100 s idle window is left
    let res = b.get("/color").await;
    assert_eq!(
        res.trace(),
        "mode=redis; load=hit; save=write; queries=0; redis=2",
        "the GET and one SET"
    );
    assert!(
        res.set_cookie("session_key").is_none(),
        "the cookie names the same key"
    );
    // The new deadline is 100 s after the app's (advanced) now: 160 s of real time from here.
    let t = ttl(&key).await;
    assert!((150..=160).contains(&t), "TTL {t}: refreshed");
}

#[rocket::async_test]
async fn a_key_gone_before_its_deadline_is_refused_as_evicted() {
    let app = TestApp::spawn_with(RedisMode, short).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let key = session_key(&app).await;
    // What maxmemory's eviction, a FLUSHDB or a restart without persistence would do.
    let _: i64 = cmd(::redis::cmd("DEL").arg(&key)).await;
    let res = b.get("/session.json").await;
    assert_eq!(res.status, 200);
    assert!(res.trace().contains("refused=evicted"), "{}", res.trace());
    let json = res.json();
    assert_eq!(json["refused"], "evicted");
    assert!(
        json["refused_why"]
            .as_str()
            .unwrap()
            .contains("not permanent storage"),
        "{json}"
    );
    let removed = res
        .set_cookie("session_key")
        .expect("the cookie is removed");
    assert!(removed.contains("Max-Age=0"), "{removed}");
    assert!(b
        .get("/color")
        .await
        .body
        .contains("You have not picked a color yet"));
}

#[rocket::async_test]
async fn a_logged_out_copy_is_refused_as_unknown_not_evicted() {
    let app = TestApp::spawn_with(RedisMode, short).await;
    let b = app.browser();
    signup(&b, "alice", "correct horse battery staple").await;
    let copy = b.session_cookie().unwrap();
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    let keys_now = keys(&prefix_for(&app.db_url)).await;
    assert!(
        !keys_now.iter().any(|k| k.contains(":session:")),
        "logout deletes the key: {keys_now:?}"
    );
    let thief = app.browser();
    thief.set_session_cookie(&copy);
    let res = thief.get("/account").await;
    assert_eq!(res.status, 303);
    assert!(res.trace().contains("refused=unknown"), "{}", res.trace());
}

#[rocket::async_test]
async fn redis_out_of_reach_is_503_store_unavailable_and_the_app_still_starts() {
    let app = TestApp::spawn(RedisMode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let cookie = b.session_cookie().unwrap();
    // The same key and database, but Redis on a port nothing listens on: it starts anyway.
    let down = TestApp::spawn_with(RedisMode, |f| {
        f.merge(("redis_url", "redis://127.0.0.1:1/0"))
    })
    .await;
    let home = down.browser().get("/").await;
    assert_eq!(home.status, 200, "a page that needs no session works");
    let c = down.browser();
    c.set_session_cookie(&cookie);
    let res = c.get("/color").await;
    assert_eq!(res.status, 503);
    assert!(res.trace().contains("store=unavailable"), "{}", res.trace());
    let res = down.browser().post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 503, "a new session cannot be kept either");
}

#[rocket::async_test]
async fn the_outage_lab_cuts_redis_off_for_this_browser_only() {
    let app = TestApp::spawn(RedisMode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    let res = b.get("/color").await;
    assert_eq!(res.status, 503);
    assert!(res.trace().contains("store=unavailable"), "{}", res.trace());
    let other = app.browser();
    assert_eq!(other.post("/color", &[("color", "blue")]).await.status, 303);
}
