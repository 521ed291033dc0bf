//! The claims behind the benchmark, as properties: query budgets counted on the wire, database
//! faults, concurrency on one session, and two instances sharing sessions.

use crate::common::proxy::Proxy;
use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    query_budgets_hold_on_the_wire,
    a_database_cut_gives_503s_and_everything_recovers,
    a_database_dropped_while_the_app_runs_is_503_on_every_page_never_500,
    fifty_parallel_writes_on_one_session_leave_one_row_with_a_sent_value,
    two_instances_serve_each_others_sessions,
];

/// Runs one request and returns its response and the statements the proxy saw for it.
async fn counted(proxy: &Proxy, request: impl std::future::Future<Output = Res>) -> (Res, u64) {
    let before = proxy.statements();
    let res = request.await;
    (res, proxy.statements() - before)
}

fn trace_queries(res: &Res) -> u64 {
    res.trace()
        .split("; ")
        .find_map(|part| part.strip_prefix("queries="))
        .and_then(|q| q.parse().ok())
        .expect("a Session-Trace header with queries=")
}

async fn query_budgets_hold_on_the_wire(mode: Mode) {
    let proxy = Proxy::start().await;
    let app = TestApp::spawn_behind(mode, &proxy, |f| f).await;
    let b = app.browser();
    let queried = sessions_cost_queries(mode);

    // No session cookie: nothing to load, nothing sent to the database.
    let (res, n) = counted(&proxy, b.get("/color")).await;
    assert_eq!((n, trace_queries(&res)), (0, 0), "cookie-less read");

    // A write: at most two (load + write); a new session is one INSERT.
    let (res, n) = counted(&proxy, b.post("/color", &[("color", "red")])).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (1, 1) } else { (0, 0) },
        "first write"
    );
    let (res, n) = counted(&proxy, b.post("/color", &[("color", "blue")])).await;
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (2, 2) } else { (0, 0) },
        "update"
    );

    // A read: one.
    let (res, n) = counted(&proxy, b.get("/color")).await;
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (1, 1) } else { (0, 0) },
        "read"
    );

    // A route that never touches the session, with a session cookie: none.
    let (res, n) = counted(&proxy, b.get("/bench/plain")).await;
    assert_eq!(res.status, 200);
    assert_eq!(n, 0, "untouched session");
    assert!(res.trace().contains("load=none"));

    // Login: the user lookup + the session's load, the account's live sessions (listed against
    // max_sessions_per_account: the oldest go past it) and the session's move, all counted in the
    // trace.
    let signup = app.browser();
    signup
        .post("/signup", &[("username", "alice"), ("password", PW)])
        .await;
    let (res, n) = counted(
        &proxy,
        b.post("/login", &[("username", "alice"), ("password", PW)]),
    )
    .await;
    assert_eq!(res.status, 303);
    // On the wire, one more than the trace: a browser with no learner cookie logging in looks
    // up the account's learner, so its exercise progress follows the account (issue 22); that
    // statement is progress's, counted in Progress-Trace, not the session's.
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (5, 4) } else { (2, 1) },
        "login: user lookup (+ load + the account's sessions + one statement moving the row), \
         and the account's learner"
    );
    assert_eq!(res.header("Progress-Trace"), Some("queries=1"));

    // The account page reads `users` (the epoch check) besides the session's own load.
    let (res, n) = counted(&proxy, b.get("/account")).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (2, 2) } else { (1, 1) },
        "account page: load + users read"
    );

    // Sign out all others: the rows it deletes (server) or the epoch it bumps (cookie) count.
    let (res, n) = counted(&proxy, b.post("/account/sessions/end-others", &[])).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (3, 3) } else { (2, 2) },
        "end others: load + users read + the DELETE (server) / the epoch UPDATE (cookie)"
    );

    // Logged in, cookie mode reads no database on ordinary pages.
    let (res, n) = counted(&proxy, b.get("/notes")).await;
    assert_eq!(
        (n, trace_queries(&res)),
        if queried { (1, 1) } else { (0, 0) },
        "logged-in read"
    );
}

/// `DROP DATABASE … WITH (FORCE)` under a running app: the open connections are ended (57P01)
/// and new ones are refused (3D000, "database does not exist"). Both are the database being
/// unavailable, so every page answers 503 with the outage page — or serves, where the page needs
/// no database — and never 500.
async fn a_database_dropped_while_the_app_runs_is_503_on_every_page_never_500(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
    let other = app.browser();
    other.csrf_token().await;
    app.pool.close().await;

    drop_database(&app.db_name);

    // Twice each: the first request meets the connections the drop ended, the second a new
    // connection to a database that no longer exists.
    for round in ["ended connections", "a missing database"] {
        for path in ["/", "/color", "/session.json", "/account"] {
            let res = b.get(path).await;
            let served_without_database =
                !needs_the_database_for_sessions(mode) && path != "/account" && res.status == 200;
            assert!(
                res.status == 503 || served_without_database,
                "GET {path} ({round}): {} {}",
                res.status,
                res.body
            );
            if res.status == 503 && path != "/session.json" {
                assert!(
                    res.body.contains("Database unavailable"),
                    "GET {path}: {}",
                    res.body
                );
            }
        }
        let login = login(&other, "alice", PW).await;
        assert_eq!(login.status, 503, "POST /login ({round}): {}", login.body);
        assert!(login.body.contains("Database unavailable"));
        assert!(!login.body.contains("Wrong username"));
    }
}

async fn a_database_cut_gives_503s_and_everything_recovers(mode: Mode) {
    let proxy = Proxy::start().await;
    let app = TestApp::spawn_behind(mode, &proxy, |f| {
        f.merge(("databases.session_lab.connect_timeout", 1))
    })
    .await;
    let b = app.browser();
    b.post("/signup", &[("username", "alice"), ("password", PW)])
        .await;
    b.post("/color", &[("color", "red")]).await;
    let other = app.browser();
    other.csrf_token().await;

    proxy.cut();
    let health = b.get("/healthz").await;
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["database"], "unavailable");
    let login = other
        .post("/login", &[("username", "alice"), ("password", PW)])
        .await;
    assert_eq!(
        login.status, 503,
        "never 'wrong password' when the database is down"
    );
    assert!(!login.body.contains("Wrong username"));
    assert!(login.body.contains("Database unavailable"));
    let color = b.get("/color").await;
    if needs_the_database_for_sessions(mode) {
        assert_eq!(color.status, 503);
        assert!(color.body.contains("Nothing you stored was lost"));
        assert_eq!(b.post("/color", &[("color", "blue")]).await.status, 503);
    } else {
        assert_eq!(
            color.status, 200,
            "cookie mode needs no database to read its session"
        );
        assert!(color.body.contains("<strong>red</strong>"));
        assert_eq!(b.post("/color", &[("color", "blue")]).await.status, 303);
        assert_eq!(
            b.get("/account").await.status,
            503,
            "but the account pages need the users table"
        );
    }
    assert!(
        b.session_cookie().is_some(),
        "a 503 does not remove the session cookie"
    );

    proxy.restore();
    assert_eq!(b.get("/healthz").await.status, 200);
    let color = b.get("/color").await;
    assert_eq!(color.status, 200);
    // The write during the outage went through only where sessions did not need the database.
    let expected = if needs_the_database_for_sessions(mode) {
        "red"
    } else {
        "blue"
    };
    assert!(
        color.body.contains(&format!("<strong>{expected}</strong>")),
        "nothing stored was lost"
    );
    assert_eq!(b.get("/account").await.status, 200, "still logged in");
    assert_eq!(
        other
            .post("/login", &[("username", "alice"), ("password", PW)])
            .await
            .status,
        303
    );
}

async fn fifty_parallel_writes_on_one_session_leave_one_row_with_a_sent_value(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "#000000")]).await;
    let colors: Vec<String> = (1..=50).map(|i| format!("#0000{i:02x}")).collect();
    let writes = colors
        .iter()
        .map(|c| async { b.post("/color", &[("color", c.as_str())]).await });
    let answers = futures::future::join_all(writes).await;
    assert!(
        answers.iter().all(|r| r.status == 303),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let final_color = b.get("/session.json").await.json()["data"]["color"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(colors.contains(&final_color), "{final_color}");
    if stores_rows(mode) {
        assert_eq!(app.session_rows().await, 1);
        let stored: String = sqlx::query_scalar("SELECT data->>'color' FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(stored, final_color);
    } else {
        assert_eq!(app.session_rows().await, 0);
    }
}

async fn two_instances_serve_each_others_sessions(mode: Mode) {
    let first = TestApp::spawn(mode).await;
    let second = TestApp::spawn_on(mode, &first.db_name, &first.db_url, |f| f).await;
    let on_first = first.browser();
    on_first
        .post("/signup", &[("username", "alice"), ("password", PW)])
        .await;
    on_first.post("/color", &[("color", "red")]).await;
    // The same browser (same cookies), now routed to the other instance.
    let on_second = second.browser();
    for (name, value) in on_first.cookies() {
        on_second.set_cookie(&name, &value);
    }
    let res = on_second.get("/color").await;
    assert!(res.body.contains("<strong>red</strong>"));
    assert!(res.body.contains("Logged in as <strong>alice</strong>"));
    // A form shown by one instance posts to the other: the CSRF cookie is sealed with the shared key.
    assert_eq!(
        on_second.post("/color", &[("color", "blue")]).await.status,
        303
    );
    for (name, value) in on_second.cookies() {
        on_first.set_cookie(&name, &value);
    }
    assert!(on_first
        .get("/color")
        .await
        .body
        .contains("<strong>blue</strong>"));
    assert_eq!(on_first.post("/logout", &[]).await.status, 303);
    if can_revoke_one_session(mode) {
        // Logged out on one instance means logged out on both: the row both read is gone.
        assert_eq!(on_second.get("/account").await.status, 303);
    }
}

/// A write whose row is deleted while it runs (a logout in another tab) is not reported as
/// saved. Made deterministic with a row lock: the test holds the row, lets the app's UPDATE queue
/// behind it, deletes the row and lets go — the UPDATE then finds nothing.
#[rocket::async_test]
async fn a_write_whose_session_ended_meanwhile_is_409_and_keeps_nothing() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
    b.csrf_token().await;
    let id: String = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(&id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let end_meanwhile = async {
        // Wait (bounded) until the app's UPDATE is queued behind our lock, then delete the row.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query LIKE 'UPDATE sessions%'",
            )
            .fetch_one(&app.pool)
            .await
            .unwrap();
            if waiting > 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the app's UPDATE never queued behind the row lock"
            );
            rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(&id)
            .execute(&mut *holder)
            .await
            .unwrap();
        holder.commit().await.unwrap();
    };
    let (res, ()) = rocket::tokio::join!(b.post("/color", &[("color", "blue")]), end_meanwhile);
    assert_eq!(res.status, 409);
    assert!(res.body.contains("was not kept"), "{}", res.body);
    assert!(res.header("Location").is_none());
    let removal = res
        .set_cookie("session_id")
        .expect("the dead session's cookie is removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert!(res.trace().contains("save=none"), "{}", res.trace());
    assert_eq!(app.session_rows().await, 0, "nothing was brought back");
    assert!(b.session_cookie().is_none());
}

#[rocket::async_test]
async fn a_logout_racing_a_write_never_brings_the_session_back() {
    let app = TestApp::spawn(ServerMode).await;
    app.browser()
        .post("/signup", &[("username", "alice"), ("password", PW)])
        .await;
    sqlx::query("DELETE FROM sessions")
        .execute(&app.pool)
        .await
        .unwrap();
    for round in 0..10 {
        let b = app.browser();
        b.post("/login", &[("username", "alice"), ("password", PW)])
            .await;
        b.csrf_token().await;
        let id: String = sqlx::query_scalar("SELECT id FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let (write, logout) = rocket::tokio::join!(
            b.post("/color", &[("color", "blue")]),
            b.post("/logout", &[])
        );
        assert_eq!(logout.status, 303, "round {round}");
        // The write either ran first (303) or found its row deleted by the logout: then it says
        // so (409) instead of pretending the change was kept.
        match write.status {
            303 => {}
            409 => assert!(write.body.contains("was not kept"), "round {round}"),
            other => panic!("round {round}: the write answered {other}"),
        }
        let old = app
            .count(&format!("SELECT count(*) FROM sessions WHERE id = '{id}'"))
            .await;
        assert_eq!(
            old, 0,
            "round {round}: the write brought the logged-out row back"
        );
        let logged_in = app
            .count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
            .await;
        assert_eq!(
            logged_in, 0,
            "round {round}: a logged-in session survived the logout"
        );
        // A write that lost the race to the logout found no session and started a new, anonymous
        // one — as any request after a logout would. Clear it for the next round.
        sqlx::query("DELETE FROM sessions")
            .execute(&app.pool)
            .await
            .unwrap();
    }
}

#[rocket::async_test]
async fn two_parallel_logins_from_one_anonymous_session_get_two_ids() {
    let app = TestApp::spawn(ServerMode).await;
    app.browser()
        .post("/signup", &[("username", "alice"), ("password", PW)])
        .await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let before: String = sqlx::query_scalar("SELECT id FROM sessions WHERE user_id IS NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let login = || b.post("/login", &[("username", "alice"), ("password", PW)]);
    let (one, two) = rocket::tokio::join!(login(), login());
    assert_eq!((one.status, two.status), (303, 303));
    assert_ne!(one.set_cookie("session_id"), two.set_cookie("session_id"));
    let sent: Vec<String> = [&one, &two]
        .iter()
        .map(|r| r.set_cookie("session_id").unwrap().to_string())
        .collect();
    assert_ne!(sent[0], sent[1], "two distinct cookies");
    // Three rows of alice: the signup's, and one per login — never one shared by both logins.
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE data->>'username' = 'alice'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&before), "the anonymous row is gone");
    // Whichever login loaded the anonymous session first carried its color over; the other found
    // it already moved (a fresh session), which is the point of a one-time move.
    let with_color = app
        .count("SELECT count(*) FROM sessions WHERE data ? 'color'")
        .await;
    assert!((1..=2).contains(&with_color));
}

#[rocket::async_test]
async fn cookie_mode_started_without_a_database_recovers_when_it_comes_back() {
    let proxy = Proxy::start().await;
    proxy.cut();
    let db = format!(
        "session_lab_test_late_{}",
        session_lab::crypto::random_token(6)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let figment = test_figment(CookieMode, &proxy.url(&db))
        .merge(("databases.session_lab.connect_timeout", 1));
    {
        let client = rocket::local::asynchronous::Client::untracked(session_lab::build(figment))
            .await
            .expect("cookie mode starts");
        let signup = |token: String, cookie: Option<String>| {
            let mut req = client
                .post("/signup")
                .header(rocket::http::ContentType::Form)
                .body(format!(
                    "csrf_token={token}&username=alice&password=correct+horse"
                ));
            if let Some(c) = cookie {
                req = req.cookie(rocket::http::Cookie::new("csrf_cookie", c));
            }
            req
        };
        let page = client.get("/signup").dispatch().await;
        assert_eq!(page.status().code, 200, "the form itself needs no database");
        let cookie = page
            .cookies()
            .get("csrf_cookie")
            .map(|c| c.value().to_string());
        let token = extract_csrf(&page.into_string().await.unwrap()).unwrap();
        let res = signup(token.clone(), cookie.clone()).dispatch().await;
        assert_eq!(res.status().code, 503, "the users table is out of reach");
        proxy.restore();
        let res = signup(token, cookie).dispatch().await;
        assert_eq!(
            res.status().code,
            303,
            "created and migrated on first use, without a restart"
        );
    }
    let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
}
