//! Issue 24, point 4: "Sessions are not permanent storage" — the eviction lab deletes this
//! browser's Redis key and nothing else, and the next request is refused as `evicted`; the
//! exercises `evicted` and `dump`, solved by the learner's own requests and not otherwise; and
//! `--mode all`, whose `/compare.json` has three columns. Against real Redis, each test under its
//! own key prefix.

use rocket::figment::Figment;
use rocket::local::asynchronous::Client;
use serde_json::Value;
use session_lab::settings::Mode;
use sqlx::postgres::PgPoolOptions;

use crate::common::redis::{keys, prefix_for};
use crate::common::*;
use crate::exercises::solved;

/// The session keys under the test's prefix.
async fn session_keys(app: &TestApp) -> Vec<String> {
    keys(&prefix_for(&app.db_url))
        .await
        .into_iter()
        .filter(|k| k.contains(":session:"))
        .collect()
}

async fn predict(b: &Browser<'_>, id: &str, choice: usize) -> Res {
    b.post(
        &format!("/exercises/{id}/predict"),
        &[("choice", &choice.to_string())],
    )
    .await
}

#[rocket::async_test]
async fn the_eviction_lab_deletes_only_this_browsers_key_and_the_next_request_is_refused() {
    let app = TestApp::spawn(RedisMode).await;
    let (mine, theirs) = (app.browser(), app.browser());
    assert_eq!(mine.post("/color", &[("color", "red")]).await.status, 303);
    assert_eq!(
        theirs.post("/color", &[("color", "blue")]).await.status,
        303
    );
    let before = session_keys(&app).await;
    assert_eq!(before.len(), 2, "{before:?}");
    let page = mine.get("/labs/evict").await;
    assert_eq!(page.status, 200);
    let my_key = before
        .iter()
        .find(|k| page.body.contains(k.as_str()))
        .expect("the lab names this browser's key")
        .clone();

    let res = mine.post("/labs/evict", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/labs/evict"));
    let after = session_keys(&app).await;
    assert!(!after.contains(&my_key), "my key is gone: {after:?}");
    assert_eq!(after.len(), 1, "the other browser's key stays: {after:?}");

    // The next request still carries the cookie, and is refused.
    let res = mine.get("/labs/evict").await;
    assert!(res.trace().contains("refused=evicted"), "{}", res.trace());
    assert!(
        res.body.contains("Your session was evicted"),
        "{}",
        res.body
    );
    assert!(!mine
        .get("/color")
        .await
        .body
        .contains("<strong>red</strong>"));
    // The other browser's session is untouched.
    let other = theirs.get("/color").await;
    assert!(other.trace().contains("load=hit"), "{}", other.trace());
    assert!(other.body.contains("<strong>blue</strong>"));
}

#[rocket::async_test]
async fn the_eviction_lab_without_a_session_or_redis_mode_says_what_to_do() {
    let app = TestApp::spawn(RedisMode).await;
    let b = app.browser();
    let page = b.get("/labs/evict").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Redis holds no session of yours yet"));
    let res = b.post("/labs/evict", &[]).await;
    assert_eq!(res.status, 409, "no cookie, nothing to evict");
    assert!(res.body.contains("no session cookie yet"), "{}", res.body);

    for mode in [ServerMode, CookieMode] {
        let app = TestApp::spawn(mode).await;
        let b = app.browser();
        b.post("/color", &[("color", "red")]).await;
        let page = b.get("/labs/evict").await;
        assert_eq!(page.status, 200, "{mode}");
        assert!(page.body.contains("--mode redis"), "{mode}: {}", page.body);
        assert!(page.body.contains("--mode all"), "{mode}");
        let res = b.post("/labs/evict", &[]).await;
        assert_eq!(res.status, 409, "{mode}");
        assert!(res.body.contains("--mode redis"), "{mode}: {}", res.body);
        assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
    }
}

#[rocket::async_test]
async fn evicted_is_solved_by_the_learners_own_evicted_request_and_not_otherwise() {
    let app = TestApp::spawn(RedisMode).await;
    let b = app.browser();
    assert_eq!(predict(&b, "evicted", 1).await.status, 303);
    b.post("/color", &[("color", "red")]).await;
    b.get("/color").await;
    // A cookie refused for another reason does not count.
    let value = b.session_cookie().expect("a session cookie");
    b.set_session_cookie("not-a-sealed-value");
    let res = b.get("/color").await;
    assert!(
        res.trace().contains("refused=undecryptable"),
        "{}",
        res.trace()
    );
    assert!(!solved(&b, "evicted").await);
    // Put back, the cookie opens again: still nothing solved.
    b.set_session_cookie(&value);
    assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
    assert!(!solved(&b, "evicted").await);

    assert_eq!(b.post("/labs/evict", &[]).await.status, 303);
    let res = b.get("/labs/evict").await;
    assert!(res.trace().contains("refused=evicted"), "{}", res.trace());
    let progress = res.header("Progress-Trace").unwrap_or_default();
    assert!(progress.contains("solved=evicted"), "{progress}");
    // Stored, not left waiting in the learner cookie: progress rows name redis mode too.
    assert!(!progress.contains("pending="), "{progress}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM exercise_progress \
             WHERE exercise_id = 'evicted' AND mode = 'redis' AND solved_at IS NOT NULL"
        )
        .await,
        1
    );
    assert!(solved(&b, "evicted").await);

    // Another browser's eviction solves nothing for this learner.
    let other_app = TestApp::spawn(RedisMode).await;
    let (learner, other) = (other_app.browser(), other_app.browser());
    predict(&learner, "evicted", 1).await;
    learner.post("/color", &[("color", "red")]).await;
    other.post("/color", &[("color", "blue")]).await;
    other.post("/labs/evict", &[]).await;
    other.get("/labs/evict").await;
    learner.get("/color").await;
    assert!(!solved(&learner, "evicted").await);
}

#[rocket::async_test]
async fn evicted_needs_redis_mode_and_dump_a_store_that_keeps_sessions() {
    for (mode, id) in [
        (ServerMode, "evicted"),
        (CookieMode, "evicted"),
        (CookieMode, "dump"),
    ] {
        let app = TestApp::spawn(mode).await;
        let b = app.browser();
        let res = predict(&b, id, 1).await;
        assert_eq!(res.status, 422, "{id} in {mode}");
        assert!(res.body.contains("this server runs"), "{}", res.body);
        let listed = b.get("/exercises.json").await.json();
        let entry = listed
            .as_array()
            .and_then(|l| l.iter().find(|e| e["id"] == id))
            .cloned()
            .unwrap_or(Value::Null);
        assert!(!entry.is_null(), "{id} is listed in every mode");
    }
    let page = TestApp::spawn(CookieMode)
        .await
        .browser()
        .get("/labs/dump")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("no copy at rest"), "{}", page.body);
}

/// `dump` in a mode that keeps sessions at rest: the stored key, sent as the cookie, opens nothing.
async fn dump_is_solved_by_the_stored_key_sent_as_the_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(predict(&b, "dump", 2).await.status, 303);
    b.post("/color", &[("color", "red")]).await;
    let inspected = b.get("/session.json").await.json();
    let stored = inspected["row"]["key"]
        .as_str()
        .expect("a key at rest")
        .to_string();
    let hash = stored.rsplit(':').next().unwrap_or_default().to_string();
    assert_eq!(hash.len(), 64, "{stored}");
    let page = b.get("/labs/dump").await;
    assert!(page.body.contains(&hash), "the lab shows the stored key");
    // A refused cookie of another kind does not count.
    let value = b.session_cookie().expect("a session cookie");
    b.set_session_cookie("garbage");
    b.get("/color").await;
    assert!(!solved(&b, "dump").await);
    b.set_session_cookie(&value);

    let res = b.post("/labs/dump", &[("key", &hash)]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(
        !solved(&b, "dump").await,
        "sending it is not yet the refusal"
    );
    let res = b.get("/labs/dump").await;
    let expected = if mode == RedisMode {
        "refused=evicted"
    } else {
        "refused=unknown"
    };
    assert!(res.trace().contains(expected), "{}", res.trace());
    assert!(res.body.contains(&expected[8..]), "{}", res.body);
    assert!(solved(&b, "dump").await);
    // The session the key belongs to is still stored: the dump opened it, it did not end it.
    if mode == RedisMode {
        assert_eq!(session_keys(&app).await, vec![stored]);
    } else {
        assert_eq!(app.session_rows().await, 1);
    }
    // Bad input is a 422 that says what was wrong.
    let res = b.post("/labs/dump", &[("key", "")]).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("visible ASCII"), "{}", res.body);
}

#[rocket::async_test]
async fn dump_in_server_mode() {
    dump_is_solved_by_the_stored_key_sent_as_the_cookie(ServerMode).await;
}

#[rocket::async_test]
async fn dump_in_redis_mode() {
    dump_is_solved_by_the_stored_key_sent_as_the_cookie(RedisMode).await;
}

/// The three apps of `--mode all` on one fresh database, each behind a local client.
pub(crate) async fn spawn_all(tweak: impl FnOnce(Figment) -> Figment) -> Vec<TestApp> {
    let db_name = fresh_db_name();
    let db_url = url_for(&db_name);
    let figment = tweak(test_figment(ServerMode, &db_url));
    let all = session_lab::build_all(figment).expect("all three apps build");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy(&db_url)
        .expect("test pool");
    let mut apps = Vec::new();
    for (mode, rocket) in all.apps() {
        let client = Client::untracked(rocket).await.expect("each app launches");
        apps.push(TestApp {
            client,
            mode,
            db_name: db_name.clone(),
            db_url: db_url.clone(),
            pool: pool.clone(),
        });
    }
    apps
}

#[rocket::async_test]
async fn mode_all_compare_shows_three_columns_and_a_form_changes_all_three() {
    let apps = spawn_all(|f| f).await;
    assert_eq!(
        apps.iter().map(|a| a.mode).collect::<Vec<_>>(),
        [ServerMode, CookieMode, RedisMode]
    );
    let mut b = apps[0].browser();
    let res = b.post("/compare/color", &[("color", "teal")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    for name in ["session_id", "session_data", "session_key"] {
        assert!(res.set_cookie(name).is_some(), "{name}");
    }
    assert_eq!(session_keys(&apps[2]).await.len(), 1, "one key in Redis");
    for app in &apps {
        b.app = app;
        b.forget_csrf();
        let json = b.get("/compare.json").await.json();
        for mode in ["server", "cookie", "redis"] {
            assert_eq!(json[mode]["mode"], mode, "{} port: {json}", app.mode);
            assert_eq!(json[mode]["data"]["color"], "teal", "{} port", app.mode);
            assert_eq!(json[mode]["available"], true);
        }
        let page = b.get("/compare").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("All three modes"));
        for mode in ["server", "cookie", "redis"] {
            assert!(
                page.body.contains(&format!("class=\"column {mode}\"")),
                "{mode}"
            );
        }
        assert!(page.body.contains("The key in Redis"));
        assert!(page.body.contains("/labs/evict\">/labs/evict</a> on the"));
        assert!(b.get("/color").await.body.contains("<strong>teal</strong>"));
    }
    // The eviction lab, on the redis-mode port of the three.
    b.app = &apps[2];
    b.forget_csrf();
    assert_eq!(b.post("/labs/evict", &[]).await.status, 303);
    let json = b.get("/compare.json").await.json();
    assert_eq!(json["redis"]["refused"], "evicted", "{json}");
    assert_eq!(json["server"]["data"]["color"], "teal");
    assert_eq!(json["cookie"]["data"]["color"], "teal");
    // On the other ports the lab points at the redis-mode one.
    b.app = &apps[0];
    let page = b.get("/labs/evict").await;
    assert!(
        page.body.contains("this lab on the redis-mode port"),
        "{}",
        page.body
    );
}

#[rocket::async_test]
async fn without_mode_all_compare_json_has_redis_null_and_the_page_says_how() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    let json = b.get("/compare.json").await.json();
    assert!(
        json["redis"].is_null() && json["cookie"].is_null(),
        "{json}"
    );
    assert_eq!(json["server"]["mode"], "server");
    assert!(b.get("/compare").await.body.contains("--mode all"));
    let app = TestApp::spawn(RedisMode).await;
    let json = app.browser().get("/compare.json").await.json();
    assert_eq!(json["redis"]["mode"], "redis", "{json}");
    assert!(json["server"].is_null());
}
