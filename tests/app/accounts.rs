//! Accounts in both modes: signup, login, logout, id rotation, replayed cookies, password rules.

use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

all_modes![
    signup_account_logout_then_account_redirects,
    wrong_password_and_unknown_user_get_the_same_answer,
    a_login_with_an_impossible_name_is_a_plain_401,
    the_id_changes_at_login_and_the_pre_login_cookie_is_worthless,
    a_post_login_cookie_replayed_after_logout,
    the_color_survives_login,
    a_second_users_login_inherits_nothing,
    password_length_rules_count_characters_and_never_trim,
    two_parallel_signups_of_one_name_give_one_row,
    login_and_signup_need_the_csrf_token_and_same_origin,
    next_is_followed_only_to_local_paths,
    remember_me_makes_the_cookie_persistent,
    bad_usernames_are_422_with_what_was_typed,
    get_logout_changes_nothing,
    login_renews_the_csrf_token,
    every_page_header_shows_the_login_state,
];

async fn signup_account_logout_then_account_redirects(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = signup(&b, "alice", PW).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/account"));
    let account = b.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("<td>alice</td>"));
    assert!(account.body.contains(&format!("<td>{mode}</td>")));
    let token_before_logout = b.csrf_token().await;
    let res = b.post("/logout", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/"));
    let removal = res
        .set_cookie(mode.cookie_name())
        .expect("logout removes the session cookie");
    assert!(
        removal.contains("Max-Age=0")
            && removal.contains("Path=/")
            && removal.contains("HttpOnly")
            && removal.contains("SameSite=Lax"),
        "{removal}"
    );
    assert!(res.trace().contains("save=delete"), "{}", res.trace());
    assert!(
        res.set_cookie(mode.csrf_cookie_name()).is_some(),
        "logout renews the CSRF token"
    );
    assert_eq!(app.session_rows().await, 0);
    let res = b.get("/account").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    let res = b
        .post_raw(
            "/color",
            &[("csrf_token", &token_before_logout), ("color", "red")],
            &[],
        )
        .await;
    assert_eq!(
        res.status, 403,
        "a form from before the logout no longer posts"
    );
}

async fn a_login_with_an_impossible_name_is_a_plain_401(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for name in ["nul\u{0}name", "ab", "x".repeat(100).as_str()] {
        let res = login(&b, name, PW).await;
        assert_eq!(res.status, 401, "{name:?}");
        assert!(res.body.contains("Wrong username or password."));
    }
}

async fn wrong_password_and_unknown_user_get_the_same_answer(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let unknown = login(&b, "alice", PW).await;
    signup(&app.browser(), "alice", PW).await;
    let wrong = login(&b, "alice", "not the password").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.body, wrong.body);
    assert!(wrong.body.contains("Wrong username or password."));
    assert!(
        !wrong.body.contains("not the password"),
        "the password is never shown back"
    );
    assert!(b.session_cookie().is_none());
}

async fn the_id_changes_at_login_and_the_pre_login_cookie_is_worthless(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let before = b.session_cookie().unwrap();
    let before_json = b.get("/session.json").await.json();
    // Issued-at is kept to the second in cookie mode: let one pass, as it would for a person.
    app.clock().advance(2);
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 303);
    let after = b.session_cookie().unwrap();
    assert_ne!(before, after);
    let after_json = b.get("/session.json").await.json();
    assert_ne!(
        before_json["issued_at"],
        after_json["issued_at"].clone(),
        "a new issued-at"
    );
    if stores_rows(mode) {
        assert_ne!(before_json["row"]["id"], after_json["row"]["id"]);
        let old_rows = app
            .count(&format!(
                "SELECT count(*) FROM sessions WHERE id = '{}'",
                before_json["row"]["key"].as_str().unwrap()
            ))
            .await;
        assert_eq!(old_rows, 0, "the pre-login row is deleted");
        // Two rows: the signup's own session, and this browser's new one.
        assert_eq!(app.session_rows().await, 2);
    }
    // The pre-login cookie, replayed (say an attacker planted it).
    let attacker = app.browser();
    attacker.set_session_cookie(&before);
    let res = attacker.get("/session.json").await;
    if can_revoke_one_session(mode) {
        // Revoked at login: anonymous now.
        assert_eq!(res.json()["data"], serde_json::json!({}));
        assert!(res.trace().contains("load=miss"));
    } else {
        // Nothing to revoke: it still opens, but holds no login, since it was never logged in.
        assert!(res.json()["data"]["user_id"].is_null());
    }
}

async fn a_post_login_cookie_replayed_after_logout(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let stolen = b.session_cookie().unwrap();
    b.post("/logout", &[]).await;
    let thief = app.browser();
    thief.set_session_cookie(&stolen);
    let res = thief.get("/account").await;
    if can_revoke_one_session(mode) {
        // Server mode: the row is gone, the copy is worthless.
        assert_eq!(res.status, 303);
        assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    } else {
        // Cookie mode: the server kept nothing to delete, so a copy taken before logout still
        // logs in until its deadlines pass (or "sign out everywhere" bumps the epoch).
        assert_eq!(
            res.status, 200,
            "the honest behaviour: the copy still works"
        );
        assert!(res.body.contains("<td>alice</td>"));
    }
}

async fn the_color_survives_login(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    b.post("/color", &[("color", "gold")]).await;
    login(&b, "alice", PW).await;
    let json = b.get("/session.json").await.json();
    assert_eq!(json["data"]["color"], "gold");
    assert_eq!(json["data"]["username"], "alice");
}

async fn a_second_users_login_inherits_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    signup(&app.browser(), "bob", PW).await;
    let b = app.browser();
    login(&b, "alice", PW).await;
    b.post("/color", &[("color", "red")]).await;
    b.post("/notes", &[("note", "alice's secret")]).await;
    let alices_row = b.get("/session.json").await.json()["row"]["key"].clone();
    let res = login(&b, "bob", PW).await;
    assert_eq!(res.status, 303);
    let json = b.get("/session.json").await.json();
    assert_eq!(json["data"]["username"], "bob");
    assert!(json["data"]["color"].is_null(), "{json}");
    assert!(json["data"]["notes"].is_null(), "{json}");
    if stores_rows(mode) {
        let gone = app
            .count(&format!(
                "SELECT count(*) FROM sessions WHERE id = '{}'",
                alices_row.as_str().unwrap()
            ))
            .await;
        assert_eq!(gone, 0, "alice's row on this browser is deleted");
        assert_ne!(json["row"]["key"], alices_row);
    }
}

async fn password_length_rules_count_characters_and_never_trim(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let too_long = "a".repeat(1025);
    let res = signup(&b, "alice", &too_long).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("at most 1024"));
    assert!(
        res.body.contains("value=\"alice\""),
        "what was typed is shown back"
    );
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    // 100 characters, many of them multi-byte: 1024 would be exceeded in bytes, not in characters.
    // Not one group repeated 25 times: the strength rule refuses repeats.
    let unicode: String = (0..25u32)
        .map(|i| format!("ñ{}🔑 ", char::from_u32(0x5bc6 + i).unwrap()))
        .collect();
    assert_eq!(unicode.chars().count(), 100);
    assert_eq!(signup(&b, "alice", &unicode).await.status, 303);
    b.post("/logout", &[]).await;
    let prefix: String = unicode.chars().take(99).collect();
    assert_eq!(
        login(&b, "alice", &prefix).await.status,
        401,
        "trailing space matters: never trimmed"
    );
    assert_eq!(login(&b, "alice", &unicode).await.status, 303);
    let short = signup(&app.browser(), "bob", "1234567").await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("at least 8"));
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(hashes.iter().all(|h| !h.contains("ñ")));
}

async fn two_parallel_signups_of_one_name_give_one_row(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let (a, b) = (app.browser(), app.browser());
    a.csrf_token().await;
    b.csrf_token().await;
    let (ra, rb) = rocket::tokio::join!(
        signup(&a, "alice", PW),
        signup(&b, "Alice", "another password")
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "{} / {}", ra.body, rb.body);
    let loser = if ra.status == 409 { &ra } else { &rb };
    assert!(loser.body.contains("is taken"));
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
}

async fn login_and_signup_need_the_csrf_token_and_same_origin(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let token = b.csrf_token().await;
    let res = b
        .post_raw("/login", &[("username", "alice"), ("password", PW)], &[])
        .await;
    assert_eq!(res.status, 403);
    let res = b
        .post_raw("/signup", &[("username", "eve"), ("password", PW)], &[])
        .await;
    assert_eq!(res.status, 403);
    let fields = [
        ("csrf_token", token.as_str()),
        ("username", "alice"),
        ("password", PW),
    ];
    let res = b
        .post_raw("/login", &fields, &[("Sec-Fetch-Site", "cross-site")])
        .await;
    assert_eq!(res.status, 403);
    let res = b
        .post_raw("/login", &fields, &[("Origin", "https://evil.example")])
        .await;
    assert_eq!(res.status, 403);
    assert!(b.session_cookie().is_none());
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
    assert_eq!(b.post_raw("/login", &fields, &[]).await.status, 303);
}

async fn next_is_followed_only_to_local_paths(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let page = app.browser().get("/login?next=/notes").await;
    assert!(
        page.body.contains("name=\"next\" value=\"&#x2F;notes\""),
        "{}",
        page.body
    );
    for (next, expected) in [
        ("/notes", "/notes"),
        ("//evil.example/x", "/account"),
        ("https://evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("/a b", "/account"),
        ("/café", "/account"),
    ] {
        let b = app.browser();
        let res = b
            .post(
                "/login",
                &[("username", "alice"), ("password", PW), ("next", next)],
            )
            .await;
        assert_eq!(res.status, 303);
        assert_eq!(res.location(), Some(expected), "{next}");
    }
}

async fn remember_me_makes_the_cookie_persistent(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let res = login(&b, "alice", PW).await;
    let line = res.set_cookie(mode.cookie_name()).unwrap();
    assert!(
        !line.contains("Expires") && !line.contains("Max-Age"),
        "{line}"
    );
    let b = app.browser();
    let res = b
        .post(
            "/login",
            &[("username", "alice"), ("password", PW), ("remember", "on")],
        )
        .await;
    let line = res.set_cookie(mode.cookie_name()).unwrap();
    let expires = line
        .split("; ")
        .find_map(|a| a.strip_prefix("Expires="))
        .expect("an Expires attribute");
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc2822)
            .unwrap();
    let days = (expires - time::OffsetDateTime::now_utc()).whole_days();
    assert!((13..=14).contains(&days), "expires in {days} days: {line}");
    assert_eq!(b.get("/session.json").await.json()["remember"], true);
}

async fn bad_usernames_are_422_with_what_was_typed(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for bad in ["ab", "has space", "émile", &"x".repeat(33), "<b>x</b>"] {
        let res = signup(&b, bad, PW).await;
        assert_eq!(res.status, 422, "{bad}");
        assert!(!res.body.contains(PW));
    }
    let res = signup(&b, "<b>x</b>", PW).await;
    assert!(
        res.body.contains("value=\"&lt;b&gt;x&lt;&#x2F;b&gt;\""),
        "{}",
        res.body
    );
    assert_eq!(signup(&b, "  Alice.B-9_ ", PW).await.status, 303);
    let name: String = sqlx::query_scalar("SELECT username FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "alice.b-9_");
    b.post("/logout", &[]).await;
    assert_eq!(
        login(&b, "ALICE.B-9_", PW).await.status,
        303,
        "names match without regard to case"
    );
}

async fn get_logout_changes_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let res = b.get("/logout").await;
    assert!(res.status == 404 || res.status == 405, "{}", res.status);
    assert!(res.set_cookie(mode.cookie_name()).is_none());
    assert_eq!(b.get("/account").await.status, 200);
}

async fn login_renews_the_csrf_token(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let old = b.csrf_token().await;
    let res = login(&b, "alice", PW).await;
    assert!(res.set_cookie(mode.csrf_cookie_name()).is_some());
    let res = b
        .post_raw("/color", &[("csrf_token", &old), ("color", "red")], &[])
        .await;
    assert_eq!(res.status, 403, "a token from before login no longer posts");
    b.forget_csrf();
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
}

async fn every_page_header_shows_the_login_state(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert!(b.get("/").await.body.contains("Not logged in"));
    signup(&b, "alice", PW).await;
    for path in [
        "/", "/color", "/notes", "/session", "/account", "/login", "/signup",
    ] {
        let body = b.get(path).await.body;
        assert!(
            body.contains("Logged in as <strong>alice</strong>"),
            "{path}"
        );
        assert!(body.contains("action=\"/logout\""), "{path}");
    }
}

#[rocket::async_test]
async fn stored_hashes_are_argon2id_at_owasp_parameters_and_salted() {
    let app = TestApp::spawn(ServerMode).await;
    signup(&app.browser(), "alice", PW).await;
    signup(&app.browser(), "bob", PW).await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for h in &hashes {
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }
    assert_ne!(hashes[0], hashes[1], "equal passwords, different salts");
}

#[rocket::async_test]
async fn create_user_then_login_works() {
    let app = TestApp::spawn(ServerMode).await;
    let run = |name: &str, input: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_session-lab"))
            .args(["create-user", name])
            .env("DATABASE_URL", &app.db_url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = run("Carol", "a password with spaces \n");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("created user carol"));
    let (code, out) = run("carol", "whatever the weather 12\n");
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("taken"));
    let (code, _) = run("x", "whatever the weather 12\n");
    assert_eq!(code, Some(2));
    let (code, _) = run("dave", "short\n");
    assert_eq!(code, Some(2));
    let b = app.browser();
    assert_eq!(
        login(&b, "carol", "a password with spaces ").await.status,
        303
    );
    assert_eq!(
        login(&app.browser(), "carol", "a password with spaces")
            .await
            .status,
        401
    );
}
