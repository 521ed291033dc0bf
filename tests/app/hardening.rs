//! Hardening against automation and account swaps, in both modes: login throttling (per name and
//! per address, a growing delay, then 429 with `Retry-After`), signup and new-session limits, a
//! bounded hash queue that sheds with 503, sessions bound to the account's password hash, and
//! password strength. Each test sets small limits of its own over the harness's generous ones.

use std::time::{Duration, Instant};

use crate::common::*;
use rocket::figment::Figment;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

all_modes![
    a_guessing_run_gets_429_before_any_hash_and_the_right_password_works_after_the_window,
    an_unknown_name_is_throttled_exactly_like_a_real_one,
    the_address_limit_stops_a_run_over_many_names_and_the_name_limit_one_over_many_addresses,
    the_delay_grows_before_the_limit,
    signups_are_limited_per_address_and_a_refused_form_does_not_count,
    cookieless_posts_that_would_create_a_session_are_limited_per_address,
    a_real_login_during_a_flood_is_answered_or_shed_never_queued_behind_it,
    a_restored_users_table_or_a_changed_password_ends_old_sessions,
    common_and_name_bearing_passwords_are_refused_with_a_reason,
];

fn retry_after(res: &Res) -> u64 {
    res.header("Retry-After")
        .unwrap_or_else(|| panic!("a {} without Retry-After", res.status))
        .parse()
        .expect("Retry-After in whole seconds")
}

fn limits(pairs: &'static [(&'static str, u64)]) -> impl FnOnce(Figment) -> Figment {
    move |mut f| {
        for (key, value) in pairs {
            f = f.merge((*key, *value));
        }
        f
    }
}

async fn a_guessing_run_gets_429_before_any_hash_and_the_right_password_works_after_the_window(
    mode: Mode,
) {
    // On a clock that moves only when this test moves it: however long the hashes take (four
    // debug-build hashes on a loaded machine took over two seconds), no token comes back early.
    let app = TestApp::spawn_with_manual_clock(
        mode,
        limits(&[("login_name_burst", 4), ("login_name_interval", 2)]),
    )
    .await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let mut statuses = Vec::new();
    for i in 0..20 {
        let res = login(&b, "alice", &format!("guess number {i}")).await;
        statuses.push(res.status);
        if res.status == 429 {
            assert_eq!(retry_after(&res), 2, "one interval until the next token");
            assert!(
                res.body.contains("Too many login attempts")
                    && res.body.contains("Try again in 2 seconds"),
                "{}",
                res.body
            );
            assert!(res.body.contains("value=\"alice\""), "the name is kept");
            assert!(
                !res.body.contains("guess number"),
                "the password is never shown"
            );
            // The lookup comes before the hash: no statement, so no hash either.
            assert!(res.trace().contains("queries=0"), "{}", res.trace());
        } else {
            assert!(res.trace().contains("queries=1"), "{}", res.trace());
        }
    }
    let mut expected = vec![401; 4];
    expected.resize(20, 429);
    assert_eq!(statuses, expected);
    // Throttled, the right password is not even looked at.
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 429);
    assert!(b.session_cookie().is_none());
    // Short of the window it is still refused, and told how much is left.
    app.clock().advance(1);
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 429);
    assert_eq!(retry_after(&res), 1);
    assert!(res.body.contains("Try again in 1 second ("), "{}", res.body);
    app.clock().advance(1);
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 303, "after the window: {}", res.body);
    assert_eq!(b.get("/account").await.status, 200);
}

async fn an_unknown_name_is_throttled_exactly_like_a_real_one(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(
        mode,
        limits(&[("login_name_burst", 3), ("login_name_interval", 60)]),
    )
    .await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let mut seen = Vec::new();
    for name in ["alice", "nobody"] {
        let mut run = Vec::new();
        for _ in 0..5 {
            let res = login(&b, name, "wrong password here").await;
            run.push((res.status, res.header("Retry-After").map(str::to_string)));
        }
        seen.push(run);
    }
    assert_eq!(seen[0], seen[1], "a 429 must not tell who has an account");
    assert_eq!(seen[0][3].0, 429);
    // Normalised as login normalises: another spelling of the name is the same bucket.
    assert_eq!(login(&b, "  ALICE ", PW).await.status, 429);
}

async fn the_address_limit_stops_a_run_over_many_names_and_the_name_limit_one_over_many_addresses(
    mode: Mode,
) {
    let app = TestApp::spawn_with_manual_clock(
        mode,
        limits(&[
            ("login_address_burst", 5),
            ("login_address_interval", 60),
            ("login_name_burst", 3),
            ("login_name_interval", 60),
        ]),
    )
    .await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for i in 0..8 {
            v.push(
                login_from(&b, &format!("user{i}"), PW, "198.51.100.7")
                    .await
                    .status,
            );
        }
        v
    };
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    // Another address is counted apart.
    assert_eq!(
        login_from(&b, "alice", PW, "198.51.100.8").await.status,
        303
    );
    // One name from ever new addresses: the name's own limit holds.
    let thief = app.browser();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let ip = format!("203.0.113.{}", 10 + i);
        statuses.push(
            login_from(&thief, "alice", "not it at all", &ip)
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 429, 429, 429],
        "one success used one of 3"
    );
}

async fn the_delay_grows_before_the_limit(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(
        mode,
        limits(&[
            ("login_name_burst", 6),
            ("login_name_interval", 60),
            ("login_delay_ms", 150),
        ]),
    )
    .await;
    let b = app.browser();
    b.csrf_token().await;
    let mut took = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let res = login(&b, "alice", "wrong password here").await;
        took.push((res.status, start.elapsed().as_millis()));
    }
    // The first half of the burst is free; then 150, 300, 600 ms; then 429.
    assert_eq!(took[3].0, 401);
    assert!(took[3].1 >= 150, "{took:?}");
    assert!(took[4].1 >= 300, "{took:?}");
    assert!(took[5].1 >= 600, "{took:?}");
    assert_eq!(took[6].0, 429, "{took:?}");
}

async fn signups_are_limited_per_address_and_a_refused_form_does_not_count(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(
        mode,
        limits(&[("signup_address_burst", 2), ("signup_address_interval", 60)]),
    )
    .await;
    let signup_from = |name: &'static str, pw: &'static str, ip: &'static str| {
        let b = app.browser();
        async move {
            let token = b.csrf_token().await;
            b.post_raw(
                "/signup",
                &[("csrf_token", &token), ("username", name), ("password", pw)],
                &[("X-Real-IP", ip)],
            )
            .await
        }
    };
    assert_eq!(
        signup_from("weak", "password1", "192.0.2.1").await.status,
        422
    );
    assert_eq!(signup_from("alice", PW, "192.0.2.1").await.status, 303);
    assert_eq!(signup_from("bob", PW, "192.0.2.1").await.status, 303);
    let res = signup_from("carol", PW, "192.0.2.1").await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert_eq!(retry_after(&res), 60);
    assert!(res
        .body
        .contains("Too many accounts created from your address"));
    assert!(res.body.contains("value=\"carol\""));
    assert_eq!(signup_from("dave", PW, "192.0.2.2").await.status, 303);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 3);
}

async fn cookieless_posts_that_would_create_a_session_are_limited_per_address(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(
        mode,
        limits(&[
            ("new_session_address_burst", 3),
            ("new_session_address_interval", 60),
        ]),
    )
    .await;
    let first = app.browser();
    for _ in 0..3 {
        let b = app.browser();
        assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
        if first.session_cookie().is_none() {
            first.set_session_cookie(&b.session_cookie().unwrap());
        }
    }
    let late = app.browser();
    for path in ["/color", "/notes"] {
        let field = if path == "/color" { "color" } else { "note" };
        let res = late.post(path, &[(field, "red")]).await;
        assert_eq!(res.status, 429, "{path}");
        assert_eq!(retry_after(&res), 60, "{path}");
        assert!(res.body.contains("Too many new sessions from your address"));
        assert!(
            res.set_cookie(mode.cookie_name()).is_none(),
            "no session made"
        );
    }
    // A cookie that does not open is no session: it does not get round the limit.
    let junk = app.browser();
    junk.set_session_cookie("bm90IGEgc2Vzc2lvbg");
    assert_eq!(junk.post("/color", &[("color", "red")]).await.status, 429);
    if stores_rows(mode) {
        assert_eq!(app.session_rows().await, 3);
    }
    // A browser that has a session is not counted: its writes go on.
    assert_eq!(
        first.post("/notes", &[("note", "still here")]).await.status,
        303
    );
    assert_eq!(first.post("/color", &[("color", "blue")]).await.status, 303);
    // Another address has its own allowance.
    let elsewhere = app.browser();
    let token = elsewhere.csrf_token().await;
    let res = elsewhere
        .post_raw(
            "/color",
            &[("csrf_token", &token), ("color", "red")],
            &[("X-Real-IP", "192.0.2.50")],
        )
        .await;
    assert_eq!(res.status, 303);
}

async fn a_real_login_during_a_flood_is_answered_or_shed_never_queued_behind_it(mode: Mode) {
    // Two logins may wait for a core; the throttles stay out of the way (the harness's). How long
    // anything takes is not asserted (a loaded machine says nothing about the app): what is, is
    // that the flood is shed, not queued, and the real login is answered. A longer pool timeout
    // than the harness's, so a loaded machine's slow connection is not mistaken for an outage.
    let app = TestApp::spawn_with(mode, |f| {
        limits(&[("hash_queue", 2)])(f).merge(("databases.session_lab.connect_timeout", 30))
    })
    .await;
    signup(&app.browser(), "alice", PW).await;
    let flood: Vec<Browser<'_>> = (0..60).map(|_| app.browser()).collect();
    for b in &flood {
        b.csrf_token().await;
    }
    let real = app.browser();
    real.csrf_token().await;
    let big = "x".repeat(20_000);
    let bad = flood.iter().map(|b| login(b, "alice", &big));
    let real_login = async {
        // Let the flood fill the queue first.
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        login(&real, "alice", PW).await
    };
    let (answers, res) = rocket::tokio::join!(futures::future::join_all(bad), real_login);
    assert!([303, 503].contains(&res.status), "{}", res.status);
    let shed: Vec<&Res> = answers.iter().filter(|r| r.status == 503).collect();
    assert!(!shed.is_empty(), "a queue of two must shed some of 60");
    for r in &shed {
        assert_eq!(retry_after(r), 1);
        assert!(
            r.body.contains("busy checking other passwords"),
            "{}",
            r.body
        );
    }
    assert!(answers.iter().all(|r| [401, 503].contains(&r.status)));
    // Once the flood is over, the queue is empty again.
    let res = login(&app.browser(), "alice", PW).await;
    assert_eq!(res.status, 303);
}

async fn a_restored_users_table_or_a_changed_password_ends_old_sessions(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    assert_eq!(b.get("/account").await.status, 200);
    // "Restore" another users table: the same id, another account with another password hash.
    // As a data-only restore does (pg_restore --disable-triggers), foreign keys are not enforced
    // meanwhile, so server mode's rows keep pointing at the id rather than cascading away.
    let other_hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                      AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("DELETE FROM users WHERE username = 'alice' RETURNING id")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (id, username, password_hash) OVERRIDING SYSTEM VALUE \
         VALUES ($1, 'mallory', $2)",
    )
    .bind(id)
    .bind(other_hash)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let res = b.get("/account").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    assert!(
        res.trace().contains("refused=account-changed"),
        "{}",
        res.trace()
    );
    assert!(
        res.set_cookie(mode.cookie_name())
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the cookie goes"
    );
    assert!(b.get("/").await.body.contains("Not logged in"));
    // A password changed elsewhere ends the sessions made with the old one, too.
    let c = app.browser();
    signup(&c, "carol", PW).await;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = 'carol'")
        .bind(other_hash)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = c.get("/account").await;
    assert_eq!(res.status, 303);
    assert!(
        res.trace().contains("refused=account-changed"),
        "{}",
        res.trace()
    );
}

async fn common_and_name_bearing_passwords_are_refused_with_a_reason(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for (name, pw, why) in [
        ("alice", "qwertyuiop", "too easy to guess"),
        ("alice", "12345678", "too easy to guess"),
        ("alice", "        ", "too easy to guess"),
        ("alice", "password123", "too easy to guess"),
        ("bobby1234", "bobby1234", "must not contain the username"),
        (
            "alice",
            "my name is Alice and I rock",
            "must not contain the username",
        ),
    ] {
        let res = signup(&b, name, pw).await;
        assert_eq!(res.status, 422, "{pw:?}");
        assert!(res.body.contains(why), "{pw:?}: {}", res.body);
        assert!(
            res.body.contains(&format!("value=\"{name}\"")),
            "the name is kept"
        );
        let echo_possible = pw.trim().is_empty() || pw == name;
        assert!(
            echo_possible || !res.body.contains(pw),
            "never echoed: {pw:?}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    assert!(b.session_cookie().is_none());
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
}

#[rocket::async_test]
async fn create_user_applies_the_same_password_rule() {
    let app = TestApp::spawn(ServerMode).await;
    for (name, pw, why) in [
        ("carol", "password123", "too easy to guess"),
        (
            "carol",
            "carol-is-great-99",
            "must not contain the username",
        ),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_session-lab"))
            .args(["create-user", name])
            .env("DATABASE_URL", &app.db_url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{pw}").unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{pw}: {text}");
        assert!(text.contains(why), "{text}");
        assert!(!text.contains(pw), "never echoed: {text}");
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
}
