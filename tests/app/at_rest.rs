//! Sessions hashed at rest: the `sessions` table holds the SHA-256 of each id, never the id a
//! cookie carries, and the migration that re-keyed the rows kept the cookies already out there
//! working.

use std::borrow::Cow;

use rocket::figment::Figment;
use session_lab::session::store::at_rest;
use sqlx::postgres::PgPoolOptions;

use crate::common::*;

#[rocket::async_test]
async fn no_row_is_filed_under_the_id_its_cookie_carries() {
    let app = TestApp::spawn(ServerMode).await;
    let mut ids = Vec::new();
    for (name, color) in [("alice", "red"), ("bob", "blue")] {
        let b = app.browser();
        signup(&b, name, "correct horse battery staple").await;
        b.post("/color", &[("color", color)]).await;
        let json = b.get("/session.json").await.json();
        ids.push(
            json["row"]["id"]
                .as_str()
                .expect("the decrypted id")
                .to_string(),
        );
    }
    let keys: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    // Each signup leaves its own session: one row per browser, none under its cookie's id.
    assert_eq!(keys.len(), 2);
    for id in &ids {
        assert!(!keys.contains(id), "a row holds the credential {id}");
        assert!(keys.contains(&at_rest(id)), "filed under its SHA-256");
    }
    // A dump of the table opens nothing: its keys, sealed into a cookie, are no session.
    let figment = Figment::new().merge(("secret_key", SECRET.to_vec()));
    let seal = session_lab::crypto::Keys::from_figment(&figment, &[]).unwrap();
    let thief = app.browser();
    thief.set_session_cookie(&seal.seal("session_id", &keys[0]));
    let res = thief.get("/account").await;
    assert_eq!(res.status, 303, "a dumped key logs nobody in");
    // 64 hex digits are not even shaped like an id: refused without a query.
    assert!(res.trace().contains("refused=malformed"), "{}", res.trace());
}

#[rocket::async_test]
async fn the_migration_rekeys_old_rows_and_their_cookies_keep_working() {
    // A database migrated up to the day before, holding a session under its plain id.
    let db_name = fresh_db_name();
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{db_name}\""
    )))
    .execute(&admin)
    .await
    .unwrap();
    let db_url = url_for(&db_name);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&db_url)
        .await
        .unwrap();
    let mut before = sqlx::migrate!();
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < 20261206000002)
            .cloned()
            .collect(),
    );
    before.run(&pool).await.unwrap();
    let id = session_lab::crypto::random_token(32);
    sqlx::query(
        "INSERT INTO sessions (id, data, created_at, updated_at, expires_at, absolute_expires_at) \
         VALUES ($1, '{\"color\": \"olive\"}', now(), now(), now() + interval '20 minutes', \
         now() + interval '1 day')",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    let handle: i64 = sqlx::query_scalar("SELECT handle FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;

    // The app migrates the rest at start: the row is re-keyed, and its cookie still opens it.
    let app = TestApp::spawn_on(ServerMode, &db_name, &db_url, |f| f).await;
    let (key, still): (String, i64) = sqlx::query_as("SELECT id, handle FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(key, at_rest(&id), "re-keyed under the id's SHA-256");
    assert_eq!(
        still, handle,
        "the handle is the row's public name, unchanged"
    );
    let figment = Figment::new().merge(("secret_key", SECRET.to_vec()));
    let seal = session_lab::crypto::Keys::from_figment(&figment, &[]).unwrap();
    let b = app.browser();
    b.set_session_cookie(&seal.seal("session_id", &id));
    let res = b.get("/color").await;
    assert!(res.body.contains("<strong>olive</strong>"), "{}", res.body);
    assert!(res.trace().contains("load=hit"), "{}", res.trace());
}
