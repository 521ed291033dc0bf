//! The core behaviour suite (color, notes, inspector, cookies, CSRF), run against both modes.

use crate::common::*;
use session_lab::settings::Mode;

all_modes![
    a_color_set_is_shown_back,
    an_invalid_color_is_422_and_changes_nothing,
    notes_are_kept_in_order_and_markup_is_escaped,
    clearing_notes_ends_an_otherwise_empty_session,
    the_session_cookie_has_every_attribute,
    a_cookieless_request_neither_queries_nor_creates_anything,
    a_read_writes_nothing,
    tampered_truncated_junk_renamed_and_wrong_key_cookies_start_a_fresh_session,
    a_post_without_the_csrf_token_is_403_and_changes_nothing,
    a_post_with_another_browsers_token_is_403,
    the_inspector_shows_the_cookie_exactly_as_sent,
    deleting_the_cookie_loses_the_session,
    healthz_reports_the_database,
    a_note_with_a_control_character_is_422_and_stores_nothing,
];

async fn a_color_set_is_shown_back(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b.post("/color", &[("color", "RebeccaPurple")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/color"));
    assert!(res.trace().contains("save=write"), "{}", res.trace());
    let page = b.get("/color").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<strong>rebeccapurple</strong>"),
        "{}",
        page.body
    );
    assert!(page.trace().contains("load=hit"));
    for path in ["/", "/color", "/notes", "/session", "/session.json"] {
        assert_eq!(
            b.get(path).await.header("Cache-Control"),
            Some("no-store"),
            "{path}"
        );
    }
    let json = b.get("/session.json").await.json();
    assert_eq!(json["data"]["color"], "rebeccapurple");
    assert_eq!(json["mode"], mode.as_str());
}

async fn an_invalid_color_is_422_and_changes_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "#00ff00")]).await;
    let before = b.session_cookie();
    for bad in ["bluish", "#fff", "red; background: url(x)", "", "<script>"] {
        let res = b.post("/color", &[("color", bad)]).await;
        assert_eq!(res.status, 422, "{bad:?}");
        assert!(res.body.contains("Use a CSS color name"), "{}", res.body);
        assert!(
            res.set_cookie(mode.cookie_name()).is_none(),
            "{bad:?} sent a new session cookie"
        );
        assert!(!res.trace().contains("save=write"), "{}", res.trace());
    }
    // What was typed is shown back, escaped.
    let res = b.post("/color", &[("color", "<b>x</b>")]).await;
    assert!(
        res.body.contains("&lt;b&gt;x&lt;&#x2F;b&gt;"),
        "{}",
        res.body
    );
    assert_eq!(b.session_cookie(), before);
    assert_eq!(
        b.get("/session.json").await.json()["data"]["color"],
        "#00ff00"
    );
}

async fn notes_are_kept_in_order_and_markup_is_escaped(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for note in ["first", "<script>alert(1)</script>", "third"] {
        assert_eq!(b.post("/notes", &[("note", note)]).await.status, 303);
    }
    let page = b.get("/notes").await;
    assert!(page.body.contains("<li>first</li>"));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
    let order = ["first", "&lt;script&gt;", "third"].map(|n| page.body.find(n).unwrap());
    assert!(order[0] < order[1] && order[1] < order[2]);
    let res = b.post("/notes", &[("note", "   ")]).await;
    assert_eq!(res.status, 422);
    assert_eq!(
        b.get("/session.json").await.json()["data"]["notes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

async fn clearing_notes_ends_an_otherwise_empty_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/notes", &[("note", "only")]).await;
    assert!(b.session_cookie().is_some());
    let res = b.post("/notes/clear", &[]).await;
    assert_eq!(res.status, 303);
    let removal = res
        .set_cookie(mode.cookie_name())
        .expect("the cookie is removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(removal.contains(attr), "{removal} lacks {attr}");
    }
    assert!(res.trace().contains("save=delete"), "{}", res.trace());
    assert!(b.session_cookie().is_none());
    assert_eq!(app.session_rows().await, 0);
}

async fn the_session_cookie_has_every_attribute(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    let line = res
        .set_cookie(mode.cookie_name())
        .expect("a session cookie");
    let attrs: Vec<&str> = line.split("; ").skip(1).collect();
    assert_eq!(attrs, ["HttpOnly", "SameSite=Lax", "Path=/"], "{line}");
    // A browser-session cookie: neither Expires nor Max-Age (debug profile: no Secure).
    let secure = TestApp::spawn_with(mode, |f| f.merge(("session_cookie_secure", true))).await;
    // With Secure cookies the names take the `__Host-` prefix (tests/app/headers.rs).
    let (session_name, csrf_name) = secure.cookie_names();
    let res = secure.browser().post("/color", &[("color", "red")]).await;
    let line = res.set_cookie(session_name).expect("a session cookie");
    assert!(
        line.ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"),
        "{line}"
    );
    let csrf = res.set_cookie(csrf_name).map(str::to_string);
    // The CSRF cookie was set on the page before the POST; it carries the same attributes.
    let page = secure.browser().get("/color").await;
    let csrf = csrf
        .or(page.set_cookie(csrf_name).map(str::to_string))
        .expect("a csrf cookie");
    assert!(
        csrf.ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"),
        "{csrf}"
    );
}

async fn a_cookieless_request_neither_queries_nor_creates_anything(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for path in ["/", "/color", "/notes", "/session", "/session.json"] {
        b.delete_cookie(mode.cookie_name());
        let res = b.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(
            res.trace(),
            format!("mode={mode}; load=none; save=none; queries=0"),
            "{path}"
        );
        assert!(res.set_cookie(mode.cookie_name()).is_none(), "{path}");
    }
    assert_eq!(app.session_rows().await, 0);
}

async fn a_read_writes_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let rows = app.session_rows().await;
    assert_eq!(rows, if stores_rows(mode) { 1 } else { 0 });
    let updated: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT max(updated_at) FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let cookie = b.session_cookie();
    for path in ["/color", "/notes", "/", "/session"] {
        let res = b.get(path).await;
        assert_eq!(
            res.trace(),
            format!("mode={mode}; load=hit; save=none; {}", trips(mode, 1)),
            "{path}"
        );
        assert!(
            res.set_cookie(mode.cookie_name()).is_none(),
            "{path} re-sent the session cookie"
        );
    }
    assert_eq!(b.session_cookie(), cookie);
    assert_eq!(app.session_rows().await, rows);
    let after: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT max(updated_at) FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(updated, after);
}

async fn tampered_truncated_junk_renamed_and_wrong_key_cookies_start_a_fresh_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let owner = app.browser();
    owner.post("/color", &[("color", "red")]).await;
    let good = owner.session_cookie().expect("a session cookie");
    let other_name = other_mode(mode).cookie_name();
    // A cookie sealed with another key: a second app with a different secret, same database.
    let other = TestApp::spawn_on(mode, &app.db_name, &app.db_url, |f| {
        f.merge(("secret_key", vec![9u8; 64]))
    })
    .await;
    let foreign = other.browser();
    foreign.post("/color", &[("color", "blue")]).await;
    let wrong_key = foreign.session_cookie().unwrap();
    // Work on the value as the server sees it (percent-decoding undone), so the cookie still
    // parses as a cookie and only the encryption can notice what changed.
    let raw = rocket::http::Cookie::parse_encoded(format!("x={good}"))
        .unwrap()
        .value()
        .to_string();
    let mut flipped = raw.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    // A value this app sealed, but for another cookie: names are bound into the encryption.
    let csrf_value = owner
        .cookie(mode.csrf_cookie_name())
        .expect("a csrf cookie");
    let cases = [
        ("sealed for another name", csrf_value),
        ("tampered", String::from_utf8(flipped).unwrap()),
        ("truncated", raw[..raw.len() - 5].to_string()),
        ("junk", "not-a-cookie-at-all".to_string()),
        ("empty", String::new()),
        ("wrong key", wrong_key),
    ];
    for (what, value) in cases {
        let b = app.browser();
        b.set_session_cookie(&value);
        let res = b.get("/color").await;
        assert_eq!(res.status, 200, "{what}");
        assert!(
            res.body.contains("You have not picked a color yet"),
            "{what}"
        );
        assert!(res.trace().contains("load=miss"), "{what}: {}", res.trace());
        let removal = res
            .set_cookie(mode.cookie_name())
            .unwrap_or_else(|| panic!("{what}: cookie not removed"));
        assert!(removal.contains("Max-Age=0"), "{what}");
        // And a write then starts a new session rather than adopting anything.
        let res = b.post("/color", &[("color", "green")]).await;
        assert_eq!(res.status, 303, "{what}");
        assert_eq!(
            b.get("/session.json").await.json()["data"]["color"],
            "green",
            "{what}"
        );
    }
    // A valid cookie of the other mode, under the other mode's name, is simply not ours.
    let b = app.browser();
    b.set_cookie(other_name, &good);
    let res = b.get("/color").await;
    assert_eq!(res.status, 200);
    assert!(res.trace().contains("load=none"));
    // The owner's session survived all of it.
    assert_eq!(
        owner.get("/session.json").await.json()["data"]["color"],
        "red"
    );
}

async fn a_post_without_the_csrf_token_is_403_and_changes_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let rows = app.session_rows().await;
    for fields in [
        vec![("color", "blue")],
        vec![("color", "blue"), ("csrf_token", "forged")],
    ] {
        let res = b.post_raw("/color", &fields, &[]).await;
        assert_eq!(res.status, 403, "{fields:?}");
        assert!(res.body.contains("CSRF token"), "{}", res.body);
        assert!(res.set_cookie(mode.cookie_name()).is_none());
    }
    let res = b.post_raw("/notes/clear", &[], &[]).await;
    assert_eq!(res.status, 403);
    assert_eq!(app.session_rows().await, rows);
    assert_eq!(b.get("/session.json").await.json()["data"]["color"], "red");
}

async fn a_post_with_another_browsers_token_is_403(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let (alice, mallory) = (app.browser(), app.browser());
    alice.get("/color").await;
    let malloys_token = mallory.csrf_token().await;
    let res = alice
        .post_raw(
            "/color",
            &[("csrf_token", &malloys_token), ("color", "blue")],
            &[],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(alice.session_cookie().is_none());
}

async fn the_inspector_shows_the_cookie_exactly_as_sent(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "teal")]).await;
    let sent = b.session_cookie().unwrap();
    let json = b.get("/session.json").await.json();
    assert_eq!(json["cookie"]["name"], mode.cookie_name());
    assert_eq!(json["cookie"]["value"], sent.as_str());
    // Name + value, as Chrome's devtools count a cookie's size (no `=`).
    assert_eq!(
        json["cookie"]["bytes"],
        mode.cookie_name().len() + sent.len()
    );
    assert!(json["expires_at"].is_string());
    if stores_rows(mode) {
        assert_eq!(json["row"]["data"]["color"], "teal");
        // The row is filed under the SHA-256 of the id, which the inspector names beside it.
        let filed: String = sqlx::query_scalar("SELECT id FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(json["row"]["key"], filed.as_str());
        let id = json["row"]["id"].as_str().expect("the id from the cookie");
        assert_ne!(id, filed, "the table does not hold the id");
        assert_eq!(filed, session_lab::session::store::at_rest(id));
        assert!(json["row"]["key_why"].as_str().unwrap().contains("SHA-256"));
        assert!(!sent.contains(id), "the id must travel encrypted");
    } else if holds_data_on_the_server(mode) {
        // One Redis key, named exactly, holding the map: filed under the id's SHA-256.
        let keys = crate::common::redis::keys(&crate::common::redis::prefix_for(&app.db_url)).await;
        let filed: Vec<&String> = keys.iter().filter(|k| k.contains(":session:")).collect();
        assert_eq!(filed.len(), 1, "{keys:?}");
        assert_eq!(json["row"]["key"], filed[0].as_str());
        assert_eq!(json["row"]["data"]["color"], "teal");
        let id = json["row"]["id"].as_str().expect("the id from the cookie");
        assert!(!filed[0].contains(id), "the key is not the id");
        assert!(!sent.contains(id), "the id must travel encrypted");
    } else {
        assert!(json["row"].is_null(), "no row to show");
    }
    let page = b.get("/session").await;
    assert!(
        page.body.contains(&format!(
            "{} of 4096 bytes",
            mode.cookie_name().len() + sent.len()
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("What you are looking at"));
}

async fn deleting_the_cookie_loses_the_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    b.delete_cookie(mode.cookie_name());
    let res = b.get("/color").await;
    assert!(res.body.contains("You have not picked a color yet"));
    assert!(res.trace().contains("load=none"));
}

async fn healthz_reports_the_database(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let res = app.browser().get("/healthz").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        serde_json::json!({"status": "ok", "database": "ok"})
    );
}

#[rocket::async_test]
async fn cookie_mode_never_writes_a_sessions_row_and_server_mode_writes_one_per_session() {
    let cookie = TestApp::spawn(CookieMode).await;
    let server = TestApp::spawn(ServerMode).await;
    for app in [&cookie, &server] {
        for _ in 0..2 {
            let b = app.browser();
            for color in ["red", "blue", "green"] {
                b.post("/color", &[("color", color)]).await;
            }
            b.post("/notes", &[("note", "hi")]).await;
        }
    }
    assert_eq!(cookie.session_rows().await, 0);
    assert_eq!(server.session_rows().await, 2);
}

#[rocket::async_test]
async fn a_note_that_would_overflow_the_cookie_is_413_and_the_old_cookie_still_works() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    let note = "x".repeat(400);
    let mut last_good = None;
    let mut refused = None;
    for i in 0..20 {
        let res = b.post("/notes", &[("note", &note)]).await;
        if res.status == 413 {
            refused = Some((i, res));
            break;
        }
        assert_eq!(res.status, 303);
        let line = res.set_cookie("session_data").unwrap();
        let name_value = line.split(';').next().unwrap();
        assert!(name_value.len() <= 4096, "{} bytes sent", name_value.len());
        last_good = b.session_cookie();
    }
    let (count, res) = refused.expect("the cookie fills up");
    assert!(res.body.contains("4096"), "{}", res.body);
    assert!(res.body.contains("Nothing changed"));
    assert!(
        res.set_cookie("session_data").is_none(),
        "a refused write sends no cookie"
    );
    assert_eq!(b.session_cookie(), last_good);
    let json = b.get("/session.json").await.json();
    assert_eq!(json["data"]["notes"].as_array().unwrap().len(), count);
    assert!(json["cookie"]["bytes"].as_u64().unwrap() <= 4096);
    // Server mode keeps the same notes without a limit in the cookie.
    let server = TestApp::spawn(ServerMode).await;
    let s = server.browser();
    for _ in 0..=count {
        assert_eq!(s.post("/notes", &[("note", &note)]).await.status, 303);
    }
}

#[rocket::async_test]
async fn cookie_mode_serves_color_with_the_database_unreachable() {
    // Port 1 on loopback: nothing listens there, so every connection is refused at once.
    let figment = test_figment(CookieMode, "postgres://postgres@127.0.0.1:1/nowhere")
        .merge(("databases.session_lab.connect_timeout", 1));
    let client = rocket::local::asynchronous::Client::untracked(session_lab::build(figment))
        .await
        .expect("cookie mode starts without a database");
    let page = client.get("/color").dispatch().await;
    assert_eq!(page.status().code, 200);
    let health = client.get("/healthz").dispatch().await;
    assert_eq!(health.status().code, 503);
    assert!(health.into_string().await.unwrap().contains("unavailable"));
}

#[rocket::async_test]
async fn server_mode_refuses_to_start_without_the_database() {
    let figment = session_lab::figment()
        .merge((
            "databases.session_lab.url",
            "postgres://postgres@127.0.0.1:1/nowhere",
        ))
        .merge(("secret_key", SECRET.to_vec()))
        .merge(("session_mode", "server"))
        .merge(("log_level", "off"));
    let Err(err) =
        rocket::local::asynchronous::Client::untracked(session_lab::build(figment)).await
    else {
        panic!("server mode started without its database");
    };
    assert!(matches!(
        err.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
}

#[rocket::async_test]
async fn a_cross_site_post_is_403() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    let token = b.csrf_token().await;
    for headers in [
        [("Sec-Fetch-Site", "cross-site")],
        [("Origin", "https://evil.example")],
        [("Origin", "null")],
    ] {
        let res = b
            .post_raw(
                "/color",
                &[("csrf_token", &token), ("color", "red")],
                &headers,
            )
            .await;
        assert_eq!(res.status, 403, "{headers:?}");
    }
    let ok = b
        .post_raw(
            "/color",
            &[("csrf_token", &token), ("color", "red")],
            &[
                // The site's own origin (the test figment serves http://127.0.0.1:8000); the
                // Host header plays no part (tests/app/headers.rs).
                ("Origin", "http://127.0.0.1:8000"),
                ("Sec-Fetch-Site", "same-origin"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
}

#[test]
fn server_mode_without_the_database_exits_1_with_a_message_and_no_panic() {
    let keys = TempDir::fresh();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_session-lab"))
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere")
        .env("ROCKET_PORT", "0")
        .env("ROCKET_DEBUG_KEY_FILE", keys.key_file())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/nowhere"),
        "{stderr}"
    );
    assert!(stderr.contains("pg_ctlcluster"), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[rocket::async_test]
async fn a_color_that_no_longer_fits_re_shows_the_form_with_413() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    // About eight 480-byte notes fill the 4096 bytes: twenty is a generous bound.
    let note = "y".repeat(480);
    let mut status = 303;
    for _ in 0..20 {
        status = b.post("/notes", &[("note", &note)]).await.status;
        if status != 303 {
            break;
        }
    }
    assert_eq!(status, 413, "twenty 480-byte notes never filled the cookie");
    // Fill to the brim with short notes, then a long color name cannot fit. The sealed size varies
    // from one write to the next: it is counted percent-encoded, and each random nonce gives the
    // base64 a different number of `+` and `/` (three bytes each once encoded). So one refused note
    // may only be an unlucky seal, after which the color would still fit in about one run in six
    // (simulated); only twenty refusals in a row say the cookie is full. Fewer than 500 one-letter
    // notes fit in what a 480-byte note left.
    const FULL_AFTER_REFUSALS: u32 = 20;
    let mut refused_in_a_row = 0;
    for _ in 0..500 {
        match b.post("/notes", &[("note", "z")]).await.status {
            303 => refused_in_a_row = 0,
            413 => refused_in_a_row += 1,
            other => panic!("a one-letter note got {other}"),
        }
        if refused_in_a_row == FULL_AFTER_REFUSALS {
            break;
        }
    }
    assert_eq!(
        refused_in_a_row, FULL_AFTER_REFUSALS,
        "500 one-letter notes never filled the cookie"
    );
    let full = b.session_cookie().expect("a full session cookie");
    let res = b.post("/color", &[("color", "lightgoldenrodyellow")]).await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("Clear some notes first"), "{}", res.body);
    assert!(
        res.body.contains("value=\"lightgoldenrodyellow\""),
        "the form is re-shown"
    );
    assert!(
        res.set_cookie("session_data").is_none(),
        "a refused write sends no cookie"
    );
    assert_eq!(
        b.session_cookie(),
        Some(full),
        "the browser keeps the full session"
    );
    assert!(b.get("/session.json").await.json()["data"]["color"].is_null());
}

async fn a_note_with_a_control_character_is_422_and_stores_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for bad in ["nul\u{0}byte", "two\nlines", "bell\u{7}"] {
        let res = b.post("/notes", &[("note", bad)]).await;
        assert_eq!(res.status, 422, "{bad:?}");
        assert!(res.body.contains("without control characters"));
    }
    assert!(b.session_cookie().is_none());
    assert_eq!(app.session_rows().await, 0);
}
