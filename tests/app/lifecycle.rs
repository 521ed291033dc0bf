//! Session lifecycle in both modes, on the injected clock: idle and absolute expiry, sliding
//! refresh without a write per read, cleanup, revoking, key rotation.

use crate::common::*;
use rocket::figment::Figment;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

all_modes![
    an_idle_session_expires,
    the_absolute_deadline_holds_despite_steady_activity,
    a_captured_cookie_replayed_after_expiry_is_refused,
    a_read_writes_only_once_half_the_idle_window_is_gone,
    bumping_the_epoch_refuses_older_cookies,
    a_fallback_key_keeps_users_logged_in_and_the_next_write_reseals,
    one_visit_under_the_new_key_keeps_the_login_once_the_fallback_is_gone,
    a_session_not_visited_under_the_new_key_is_refused_once_the_fallback_is_gone,
    without_a_matching_key_everyone_is_anonymous,
    every_refusal_is_named_in_the_trace_and_the_inspector_json,
];

fn short(f: Figment) -> Figment {
    f.merge(("session_idle_timeout", 100))
        .merge(("session_absolute_timeout", 300))
}

async fn an_idle_session_expires(mode: Mode) {
    let app = TestApp::spawn_with(mode, short).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    app.clock().advance(99);
    assert!(
        b.get("/color").await.body.contains("<strong>red</strong>"),
        "still alive one second before"
    );
    app.clock().advance(100);
    let res = b.get("/color").await;
    assert!(res.body.contains("You have not picked a color yet"));
    assert!(res.trace().contains("load=miss"), "{}", res.trace());
    assert!(
        res.set_cookie(mode.cookie_name())
            .unwrap()
            .contains("Max-Age=0"),
        "the expired cookie is removed"
    );
    assert!(b.session_cookie().is_none());
}

async fn the_absolute_deadline_holds_despite_steady_activity(mode: Mode) {
    let app = TestApp::spawn_with(mode, short).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    // A request every 40 s keeps the idle deadline (100 s) from ever passing...
    for _ in 0..7 {
        app.clock().advance(40);
        assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
    }
    // ...but 320 s after creation the absolute deadline (300 s) has.
    app.clock().advance(40);
    let res = b.get("/color").await;
    assert!(
        res.body.contains("You have not picked a color yet"),
        "{}",
        res.trace()
    );
    assert!(res.trace().contains("load=miss"));
}

async fn a_captured_cookie_replayed_after_expiry_is_refused(mode: Mode) {
    let app = TestApp::spawn_with(mode, short).await;
    let b = app.browser();
    sign_up_ok(&b, "alice").await;
    let captured = b.session_cookie().unwrap();
    app.clock().advance(150);
    // The browser would have dropped nothing (it is a session cookie); the thief re-sends it.
    let thief = app.browser();
    thief.set_session_cookie(&captured);
    let res = thief.get("/account").await;
    assert_eq!(res.status, 303, "an expired cookie does not log in");
    assert!(res.trace().contains("load=miss"), "{}", res.trace());
    let res = thief.get("/session.json").await;
    assert_eq!(res.json()["data"], serde_json::json!({}));
}

async fn a_read_writes_only_once_half_the_idle_window_is_gone(mode: Mode) {
    let app = TestApp::spawn_with(mode, short).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    app.clock().advance(40);
    let res = b.get("/color").await;
    assert_eq!(
        res.trace(),
        format!("mode={mode}; load=hit; save=none; {}", trips(mode, 1))
    );
    assert!(res.set_cookie(mode.cookie_name()).is_none());
    let before = b.get("/session.json").await.json();
    app.clock().advance(20); // 60 s since the last refresh: under half of the window is left.
    let res = b.get("/color").await;
    // The refresh is a write: the load's query and the row's UPDATE (or the key's SET).
    assert_eq!(
        res.trace(),
        format!("mode={mode}; load=hit; save=write; {}", trips(mode, 2))
    );
    if the_cookie_is_the_session(mode) {
        assert!(
            res.set_cookie(mode.cookie_name()).is_some(),
            "the cookie is re-issued"
        );
    } else {
        assert!(
            res.set_cookie(mode.cookie_name()).is_none(),
            "the id cookie need not change"
        );
    }
    let after = b.get("/session.json").await.json();
    assert_ne!(before["idle_expires_at"], after["idle_expires_at"]);
    assert_eq!(
        before["absolute_expires_at"], after["absolute_expires_at"],
        "never extended"
    );
    if stores_rows(mode) {
        assert_eq!(before["row"]["updated_at"], before["issued_at"]);
        assert_ne!(after["row"]["updated_at"], before["row"]["updated_at"]);
    }
    // And the next read writes nothing again.
    let res = b.get("/color").await;
    assert!(res.trace().contains("save=none"), "{}", res.trace());
    // The refresh really moved the deadline: 60 s later the session is still alive.
    app.clock().advance(60);
    assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
}

async fn sign_up_ok(b: &Browser<'_>, name: &str) {
    let res = b
        .post("/signup", &[("username", name), ("password", PW)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn log_in_ok(b: &Browser<'_>, name: &str) {
    let res = b
        .post("/login", &[("username", name), ("password", PW)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn bumping_the_epoch_refuses_older_cookies(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let (laptop, phone) = (app.browser(), app.browser());
    sign_up_ok(&laptop, "alice").await;
    log_in_ok(&phone, "alice").await;
    let stolen = phone.session_cookie().unwrap();
    assert_eq!(phone.get("/account").await.status, 200);
    let res = laptop.post("/account/sessions/end-others", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/account/sessions"));
    assert_eq!(
        laptop.get("/account").await.status,
        200,
        "the browser that asked stays in"
    );
    let res = phone.get("/account").await;
    assert_eq!(res.status, 303, "the other browser is out");
    let thief = app.browser();
    thief.set_session_cookie(&stolen);
    assert_eq!(
        thief.get("/account").await.status,
        303,
        "and so is any copy of its cookie"
    );
    let epoch: i32 = sqlx::query_scalar("SELECT session_epoch FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    if ends_sessions_through_an_index(mode) {
        assert_eq!(epoch, 0, "server mode deletes rows instead");
    } else {
        assert_eq!(epoch, 1, "without an index, refuse every older cookie");
    }
}

async fn a_fallback_key_keeps_users_logged_in_and_the_next_write_reseals(mode: Mode) {
    let old = TestApp::spawn(mode).await;
    let b = old.browser();
    sign_up_ok(&b, "alice").await;
    b.post("/color", &[("color", "red")]).await;
    let old_cookie = b.session_cookie().unwrap();
    let old_key = base64_of(&SECRET);
    let rotated = TestApp::spawn_on(mode, &old.db_name, &old.db_url, |f| {
        f.merge(("secret_key", vec![42u8; 64]))
            .merge(("secret_key_fallbacks", vec![old_key.clone()]))
    })
    .await;
    let b2 = rotated.browser();
    b2.set_session_cookie(&old_cookie);
    let res = b2.get("/account").await;
    assert_eq!(res.status, 200, "still logged in under the new key");
    assert!(res.body.contains("<td>alice</td>"));
    // Loading the account re-binds it under the new key: a write, which re-seals the cookie.
    let resealed = res
        .set_cookie(mode.cookie_name())
        .expect("the write re-seals the cookie");
    let res = b2.post("/color", &[("color", "blue")]).await;
    assert_eq!(res.status, 303);
    assert!(!resealed.contains("Max-Age=0"));
    let new_cookie = b2.session_cookie().unwrap();
    assert_ne!(new_cookie, old_cookie);
    // Sealed with the new key: an app with only the new key reads it.
    let only_new = TestApp::spawn_on(mode, &old.db_name, &old.db_url, |f| {
        f.merge(("secret_key", vec![42u8; 64]))
    })
    .await;
    let b3 = only_new.browser();
    b3.set_session_cookie(&new_cookie);
    assert_eq!(
        b3.get("/session.json").await.json()["data"]["color"],
        "blue"
    );
}

/// K1 is the test key; K2 replaces it.
const K2: [u8; 64] = [42u8; 64];

/// `app` restarted on its database under K2, with K1 as the fallback when `k1_fallback`.
async fn restarted_with_k2(app: &TestApp, k1_fallback: bool) -> TestApp {
    TestApp::spawn_on(app.mode, &app.db_name, &app.db_url, |f| {
        let f = f.merge(("secret_key", K2.to_vec()));
        if k1_fallback {
            f.merge(("secret_key_fallbacks", vec![base64_of(&SECRET)]))
        } else {
            f
        }
    })
    .await
}

async fn one_visit_under_the_new_key_keeps_the_login_once_the_fallback_is_gone(mode: Mode) {
    let k1 = TestApp::spawn(mode).await;
    let b = k1.browser();
    sign_up_ok(&b, "alice").await;
    let under_k1 = b.session_cookie().unwrap();
    let rotating = restarted_with_k2(&k1, true).await;
    let b2 = rotating.browser();
    b2.set_session_cookie(&under_k1);
    let res = b2.get("/account").await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("<td>alice</td>"));
    // The binding verified under K1 only: it is made again under K2, which is a session write.
    assert!(res.trace().contains("save=write"), "{}", res.trace());
    if stores_rows(mode) {
        // The row, the user, the rewritten row.
        assert!(res.trace().contains("queries=3"), "{}", res.trace());
    }
    let under_k2 = b2.session_cookie().unwrap();
    assert_ne!(under_k2, under_k1, "re-sealed under the new key");
    let res = b2.get("/account").await;
    assert!(
        res.trace().contains("save=none"),
        "bound under K2 now: nothing more to write ({})",
        res.trace()
    );
    let only_k2 = restarted_with_k2(&k1, false).await;
    let b3 = only_k2.browser();
    b3.set_session_cookie(&under_k2);
    let res = b3.get("/account").await;
    assert_eq!(res.status, 200, "still logged in: {}", res.trace());
    assert!(res.body.contains("<td>alice</td>"));
    assert!(res.trace().contains("load=hit"), "{}", res.trace());
}

async fn a_session_not_visited_under_the_new_key_is_refused_once_the_fallback_is_gone(mode: Mode) {
    let k1 = TestApp::spawn(mode).await;
    let b = k1.browser();
    sign_up_ok(&b, "alice").await;
    let under_k1 = b.session_cookie().unwrap();
    // Re-sealed under K2 by a write that loads no account: the binding is still K1's.
    let rotating = restarted_with_k2(&k1, true).await;
    let b2 = rotating.browser();
    b2.set_session_cookie(&under_k1);
    assert_eq!(b2.post("/color", &[("color", "red")]).await.status, 303);
    let resealed = b2.session_cookie().unwrap();
    let only_k2 = restarted_with_k2(&k1, false).await;
    let b3 = only_k2.browser();
    b3.set_session_cookie(&resealed);
    let res = b3.get("/account").await;
    assert_eq!(res.status, 303, "{}", res.trace());
    assert!(
        res.trace().contains("refused=account-changed"),
        "{}",
        res.trace()
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn without_a_matching_key_everyone_is_anonymous(mode: Mode) {
    let old = TestApp::spawn(mode).await;
    let b = old.browser();
    sign_up_ok(&b, "alice").await;
    let cookie = b.session_cookie().unwrap();
    let other = TestApp::spawn_on(mode, &old.db_name, &old.db_url, |f| {
        f.merge(("secret_key", vec![42u8; 64]))
    })
    .await;
    let b2 = other.browser();
    b2.set_session_cookie(&cookie);
    let res = b2.get("/").await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("Not logged in"));
    assert!(res.trace().contains("load=miss"));
    assert_eq!(b2.get("/account").await.status, 303);
}

#[rocket::async_test]
async fn sign_out_all_others_ends_only_the_others() {
    let app = TestApp::spawn(ServerMode).await;
    let browsers: Vec<Browser<'_>> = (0..3).map(|_| app.browser()).collect();
    sign_up_ok(&browsers[0], "alice").await;
    log_in_ok(&browsers[1], "alice").await;
    log_in_ok(&browsers[2], "alice").await;
    let bob = app.browser();
    sign_up_ok(&bob, "bob").await;
    let page = browsers[0].get("/account/sessions").await;
    assert_eq!(
        page.body
            .matches("action=\"/account/sessions/end\"")
            .count(),
        3
    );
    assert_eq!(page.body.matches("(this one)").count(), 1);
    assert!(
        page.body.contains("TestBrowser&#x2F;1.0"),
        "the user agent is listed, escaped"
    );
    let res = browsers[0].post("/account/sessions/end-others", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(browsers[0].get("/account").await.status, 200);
    assert_eq!(browsers[1].get("/account").await.status, 303);
    assert_eq!(browsers[2].get("/account").await.status, 303);
    assert_eq!(bob.get("/account").await.status, 200);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 2);
}

#[rocket::async_test]
async fn sign_out_this_one_or_another_by_its_handle() {
    let app = TestApp::spawn(ServerMode).await;
    let (a, b) = (app.browser(), app.browser());
    sign_up_ok(&a, "alice").await;
    log_in_ok(&b, "alice").await;
    let bob = app.browser();
    sign_up_ok(&bob, "bob").await;
    let handles: Vec<(i64, String)> =
        sqlx::query_as("SELECT handle, data->>'username' FROM sessions ORDER BY handle")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let bobs = handles
        .iter()
        .find(|(_, u)| u == "bob")
        .unwrap()
        .0
        .to_string();
    // Someone else's handle does nothing.
    assert_eq!(
        a.post("/account/sessions/end", &[("handle", &bobs)])
            .await
            .status,
        303
    );
    assert_eq!(bob.get("/account").await.status, 200);
    // b's own handle, from b: b is logged out.
    let page = b.get("/account/sessions").await;
    let handle = extract_handle(&page.body, true).expect("a form for this session");
    let res = b
        .post("/account/sessions/end", &[("handle", &handle)])
        .await;
    assert_eq!(res.location(), Some("/"));
    assert_eq!(b.get("/account").await.status, 303);
    assert_eq!(a.get("/account").await.status, 200);
}

/// The handle in the "sign out" form of the current session (or of another one).
fn extract_handle(html: &str, current: bool) -> Option<String> {
    for row in html.split("<tr>").skip(2) {
        if row.contains("(this one)") == current {
            let marker = "name=\"handle\" value=\"";
            let start = row.find(marker)? + marker.len();
            return Some(row[start..].split('"').next()?.to_string());
        }
    }
    None
}

#[rocket::async_test]
async fn the_cleanup_task_and_clear_sessions_delete_only_expired_rows() {
    let app = TestApp::spawn_with(ServerMode, |f| {
        short(f).merge(("session_cleanup_interval", 1))
    })
    .await;
    let (early, late) = (app.browser(), app.browser());
    early.post("/color", &[("color", "red")]).await;
    app.clock().advance(60);
    late.post("/color", &[("color", "blue")]).await;
    app.clock().advance(60); // early: 120 s idle (expired); late: 60 s (alive)
    assert_eq!(app.session_rows().await, 2);
    // The task runs every second on the real clock; wait for its next pass (bounded).
    let mut rows = 2;
    for _ in 0..50 {
        rows = app.session_rows().await;
        if rows == 1 {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows, 1, "the background task removed the expired row");
    assert!(late
        .get("/color")
        .await
        .body
        .contains("<strong>blue</strong>"));

    // clear-sessions, on the wall clock: expire one of two rows by hand.
    let other = app.browser();
    other.post("/color", &[("color", "green")]).await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE data->>'color' = 'green'").execute(&app.pool).await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_session-lab"))
        .arg("clear-sessions")
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "removed 1 expired session"
    );
    let left: Vec<String> = sqlx::query_scalar("SELECT data->>'color' FROM sessions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, ["blue"]);
}

#[rocket::async_test]
async fn clear_sessions_deletes_in_batches_past_one_thousand() {
    let app = TestApp::spawn(ServerMode).await;
    let keep = app.browser();
    keep.post("/color", &[("color", "red")]).await;
    sqlx::query(
        "INSERT INTO sessions (id, data, created_at, updated_at, expires_at, absolute_expires_at) \
         SELECT 'expired-' || g, '{}', now() - interval '2 days', now() - interval '2 days', \
                now() - interval '1 day', now() - interval '1 day' FROM generate_series(1, 2500) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_session-lab"))
        .arg("clear-sessions")
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "removed 2500 expired sessions"
    );
    assert_eq!(app.session_rows().await, 1);
    assert!(keep
        .get("/color")
        .await
        .body
        .contains("<strong>red</strong>"));
}

#[rocket::async_test]
async fn a_write_moves_the_idle_deadline_only_by_the_half_window_rule() {
    let app = TestApp::spawn_with(ServerMode, short).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let expires = || async {
        sqlx::query_scalar::<_, time::OffsetDateTime>("SELECT expires_at FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let first = expires().await;
    app.clock().advance(10);
    b.post("/color", &[("color", "blue")]).await;
    // The data changed, the indexed deadline did not: PostgreSQL can update the row in place.
    assert_eq!(expires().await, first);
    app.clock().advance(50);
    b.post("/color", &[("color", "green")]).await;
    assert!(
        expires().await > first,
        "past half the window, the write refreshes it"
    );
}

/// Asks for `/session.json` with `cookie` as the session cookie, and returns the reason the trace
/// and the JSON give (they must agree), after checking the cookie was refused and removed.
async fn refusal_for(app: &TestApp, cookie: &str) -> String {
    let b = app.browser();
    b.set_session_cookie(cookie);
    let res = b.get("/session.json").await;
    assert_eq!(res.status, 200);
    let trace = res.trace().to_string();
    assert!(trace.contains("load=miss"), "{trace}");
    assert!(
        res.set_cookie(app.mode.cookie_name())
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the refused cookie is removed"
    );
    let from_trace = trace
        .split("; ")
        .find_map(|part| part.strip_prefix("refused="))
        .expect("a refused= part")
        .to_string();
    assert_eq!(res.json()["refused"], from_trace.as_str(), "{trace}");
    from_trace
}

async fn every_refusal_is_named_in_the_trace_and_the_inspector_json(mode: Mode) {
    let app = TestApp::spawn_with(mode, short).await;
    // A value sealed with the app's own key, for its own cookie name, that is no session.
    let figment = Figment::new().merge(("secret_key", SECRET.to_vec()));
    let keys = session_lab::crypto::Keys::from_figment(&figment, &[]).unwrap();
    let no_session = keys.seal(mode.cookie_name(), "{not a session}");
    assert_eq!(refusal_for(&app, &no_session).await, "malformed");
    assert_eq!(refusal_for(&app, "garbage").await, "undecryptable");

    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let copy = b.session_cookie().unwrap();
    app.clock().advance(101);
    assert_eq!(refusal_for(&app, &copy).await, "expired-idle");

    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    for _ in 0..6 {
        app.clock().advance(45);
        b.get("/color").await;
    }
    let copy = b.session_cookie().unwrap();
    app.clock().advance(45);
    assert_eq!(refusal_for(&app, &copy).await, "expired-absolute");

    // A logged-out copy: unknown to a store that deleted its row; still a session otherwise.
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let copy = b.session_cookie().unwrap();
    b.post("/logout", &[]).await;
    if can_revoke_one_session(mode) {
        assert_eq!(refusal_for(&app, &copy).await, "unknown");
    }

    // Signed out from another browser: refused where the account is loaded.
    let b = app.browser();
    login(&b, "alice", PW).await;
    let copy = b.session_cookie().unwrap();
    let elsewhere = app.browser();
    login(&elsewhere, "alice", PW).await;
    elsewhere.post("/account/sessions/end-others", &[]).await;
    let replay = app.browser();
    replay.set_session_cookie(&copy);
    let res = replay.get("/account").await;
    assert_eq!(res.status, 303);
    let expected = if ends_sessions_through_an_index(mode) {
        "unknown"
    } else {
        "old-epoch"
    };
    assert!(
        res.trace().contains(&format!("refused={expected}")),
        "{}",
        res.trace()
    );
}

/// `cookie_revocation = "denylist"`: logout records the session's random id, and every read checks
/// the list — so a copy is dead after logout, at one indexed read per request.
#[rocket::async_test]
async fn the_denylist_kills_a_copied_cookie_at_logout_for_one_read_per_request() {
    let app = TestApp::spawn_with(CookieMode, |f| f.merge(("cookie_revocation", "denylist"))).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let copy = b.session_cookie().unwrap();
    let read = b.get("/color").await;
    assert!(read.trace().contains("queries=1"), "{}", read.trace());
    assert!(
        read.trace().contains("checked=denylist"),
        "{}",
        read.trace()
    );
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    assert_eq!(app.count("SELECT count(*) FROM revoked_sessions").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM sessions").await,
        0,
        "still no session rows"
    );

    let thief = app.browser();
    thief.set_session_cookie(&copy);
    let res = thief.get("/color").await;
    assert!(res.trace().contains("refused=revoked"), "{}", res.trace());
    assert_eq!(thief.get("/account").await.status, 303);
}

/// `cookie_revocation = "none"`: nothing is checked, so even "sign out everywhere else" leaves
/// an old copy working on the account pages — the mode's bare nature.
#[rocket::async_test]
async fn without_revocation_an_old_epoch_still_opens_the_account() {
    let app = TestApp::spawn_with(CookieMode, |f| f.merge(("cookie_revocation", "none"))).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let copy = b.session_cookie().unwrap();
    let elsewhere = app.browser();
    login(&elsewhere, "alice", PW).await;
    elsewhere.post("/account/sessions/end-others", &[]).await;
    let thief = app.browser();
    thief.set_session_cookie(&copy);
    let res = thief.get("/account").await;
    assert_eq!(res.status, 200);
    assert!(!res.trace().contains("checked="), "{}", res.trace());
}

/// The default, `epoch`: the account pages say the check ran and passed.
#[rocket::async_test]
async fn the_epoch_check_shows_in_the_trace() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let res = b.get("/account").await;
    assert_eq!(res.status, 200);
    assert!(res.trace().contains("checked=epoch"), "{}", res.trace());
    assert!(res.trace().contains("queries=1"), "{}", res.trace());
}
