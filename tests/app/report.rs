//! "What just happened" and the inspector's explanations: the report a POST hands to the page it
//! redirects to, the page's own report, refusals explained, and the cookie's anatomy — all
//! without a session write or a row for a page view.

use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    the_page_after_a_post_says_what_it_did_once,
    logout_says_whether_a_copy_still_works,
    a_refused_session_is_explained_on_the_inspector_and_the_login_page,
    the_anatomy_adds_up_to_the_cookie,
    viewing_pages_creates_no_row_and_no_cookie_but_csrf,
    a_session_past_its_cap_is_413_and_unchanged,
    login_and_sign_outs_say_what_they_did,
];

/// The "What just happened" section of a page, or "" when there is none.
fn happened(body: &str) -> &str {
    body.split("What just happened</strong>")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or("")
}

async fn the_page_after_a_post_says_what_it_did_once(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 303);
    let report_cookie = mode.report_cookie_name();
    assert!(
        res.set_cookie(report_cookie).is_some(),
        "the report travels in its own cookie"
    );
    let page = b.get("/color").await;
    let said = happened(&page.body);
    assert!(said.contains("(POST &#x2F;color)"), "{said}");
    assert!(said.contains("It created a session"), "{said}");
    assert!(said.contains("Changed: <code>color</code>"), "{said}");
    let bytes = mode.cookie_name().len() + b.session_cookie().unwrap().len();
    assert!(
        said.contains(&format!("{bytes} bytes (name + value)")),
        "{said}"
    );
    if stores_rows(mode) {
        assert!(
            said.contains("one <code>INSERT</code> of a new row"),
            "{said}"
        );
        assert!(said.contains("1 SQL statement ran."), "{said}");
    } else {
        assert!(said.contains("sealed into a new cookie"), "{said}");
        assert!(said.contains("No SQL statement ran."), "{said}");
    }
    // Read once: the landing page removes the report cookie, and the next page is quiet.
    assert!(page
        .set_cookie(report_cookie)
        .is_some_and(|c| c.contains("Max-Age=0")));
    let again = b.get("/color").await;
    assert_eq!(happened(&again.body), "");
    // Every page reports on itself too.
    assert!(again
        .body
        .contains("<strong>This page</strong> (GET &#x2F;color)"));
    assert!(again.body.contains("The server loaded your session"));
}

async fn logout_says_whether_a_copy_still_works(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    let res = b.post("/logout", &[]).await;
    assert_eq!(res.status, 303);
    let home = b.get("/").await;
    let said = happened(&home.body);
    assert!(said.contains("You are logged out."), "{said}");
    assert!(said.contains("It ended your session"), "{said}");
    if can_revoke_one_session(mode) {
        assert!(
            said.contains("a copy of your cookie is now worthless"),
            "{said}"
        );
    } else {
        assert!(
            said.contains("a copy of it would still work until"),
            "{said}"
        );
        assert!(
            said.contains("the server kept nothing it could delete"),
            "{said}"
        );
    }
}

async fn a_refused_session_is_explained_on_the_inspector_and_the_login_page(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let tampered = {
        let good = b.session_cookie().unwrap();
        let mut bytes = good.into_bytes();
        bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    b.set_session_cookie(&tampered);
    let page = b.get("/session").await;
    assert!(
        page.body
            .contains("the server\nrefused it because it does not decrypt"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<code>refused=undecryptable</code>"));
    assert!(
        !page.body.contains("What the server decodes it to"),
        "no contradictory empty map"
    );
    assert!(!page.body.contains("No session, so no deadlines"));

    // An account page reached with a refused cookie sends to the login page, which says why.
    let b = app.browser();
    signup(&b, "alice", PW).await;
    b.set_session_cookie(&tampered);
    let res = b.get("/account").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("Location"), Some("/login?next=%2Faccount"));
    let login = b.get("/login?next=%2Faccount").await;
    assert!(
        login
            .body
            .contains("Your session ended: it does not decrypt"),
        "{}",
        login.body
    );
}

async fn the_anatomy_adds_up_to_the_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "rebeccapurple")]).await;
    let value = b.session_cookie().unwrap();
    let a = b.get("/session.json").await.json()["anatomy"].clone();
    let n = |k: &str| a[k].as_u64().unwrap_or_else(|| panic!("{k} in {a}")) as usize;
    assert_eq!(n("nonce_bytes"), 12);
    assert_eq!(n("tag_bytes"), 16);
    assert_eq!(n("decoded_bytes"), 12 + n("ciphertext_bytes") + 16);
    assert_eq!(n("value_bytes"), value.len());
    assert_eq!(n("value_bytes"), n("decoded_bytes").div_ceil(3) * 4);
    assert_eq!(n("browser_bytes"), mode.cookie_name().len() + value.len());
    assert_eq!(n("plaintext_bytes"), n("ciphertext_bytes"));
    if stores_rows(mode) {
        assert_eq!(
            n("plaintext_bytes"),
            43,
            "the session id: 32 random bytes, base64url"
        );
    } else {
        assert!(n("plaintext_bytes") > "rebeccapurple".len());
    }
}

async fn viewing_pages_creates_no_row_and_no_cookie_but_csrf(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for path in [
        "/",
        "/color",
        "/notes",
        "/session",
        "/session.json",
        "/login",
        "/signup",
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        for line in res.set_cookies() {
            assert!(
                line.starts_with(&format!("{}=", mode.csrf_cookie_name())),
                "{path} set {line}"
            );
        }
        assert!(res.trace().contains("save=none"), "{path}: {}", res.trace());
    }
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
}

/// A session is finite in both modes: cookie mode by the browser's 4096 bytes, server mode by
/// `session_max_bytes` of data — past it a write is 413 and the stored session is unchanged.
async fn a_session_past_its_cap_is_413_and_unchanged(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("session_max_bytes", 3500))).await;
    let b = app.browser();
    let note = "n".repeat(400);
    let mut refused = None;
    for _ in 0..30 {
        let res = b.post("/notes", &[("note", &note)]).await;
        if res.status != 303 {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("a cap stops the list within 30 notes");
    assert_eq!(res.status, 413);
    let before = b.get("/session.json").await.json()["data"]["notes"].clone();
    if stores_rows(mode) {
        assert!(
            res.body.contains("over the 3500 bytes this server keeps"),
            "{}",
            res.body
        );
        let row: serde_json::Value = sqlx::query_scalar("SELECT data FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(row["notes"], before, "the row is unchanged");
    } else {
        // Sealed, 3500 bytes of data would pass the 4096 of a cookie: the browser's limit said no.
        assert!(res.body.contains("a browser keeps"), "{}", res.body);
    }
    let kept = if stores_rows(mode) { 8 } else { 7 };
    assert_eq!(before.as_array().map(Vec::len), Some(kept));
}

/// A login is one change: when the account's entries would push a full cookie past 4096 bytes,
/// the login is refused whole — the browser keeps the cookie it had, nothing half logged in.
#[rocket::async_test]
async fn a_login_that_would_pass_the_cookie_limit_is_refused_whole() {
    let app = TestApp::spawn(CookieMode).await;
    let owner = app.browser();
    signup(&owner, "alice", PW).await;
    let b = app.browser();
    // Fill the anonymous session to the brim with short notes.
    let note = "x".repeat(300);
    for _ in 0..40 {
        if b.post("/notes", &[("note", &note)]).await.status != 303 {
            break;
        }
    }
    for _ in 0..200 {
        if b.post("/notes", &[("note", "y")]).await.status != 303 {
            break;
        }
    }
    let before = b.session_cookie().expect("a full session");
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 413, "{}", res.body);
    assert!(
        res.set_cookie(CookieMode.cookie_name()).is_none(),
        "no new cookie"
    );
    assert_eq!(b.session_cookie().as_deref(), Some(before.as_str()));
    let json = b.get("/session.json").await.json();
    assert!(json["user_id"].is_null(), "not logged in: {json}");
    assert!(json["data"].get("username").is_none());
}

/// The page after a login and after each sign-out says what happened, in each mode's terms.
async fn login_and_sign_outs_say_what_they_did(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    b.post("/logout", &[]).await;
    // An anonymous session first, so the login has an identity to replace.
    b.post("/color", &[("color", "red")]).await;
    b.get("/").await;
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 303);
    let page = b.get("/account").await;
    let said = happened(&page.body);
    assert!(
        said.contains("It gave your session a new identity"),
        "{said}"
    );
    assert!(said.contains("<code>login</code>"), "{said}");
    let elsewhere = app.browser();
    login(&elsewhere, "alice", PW).await;
    b.post("/account/sessions/end-others", &[]).await;
    let page = b.get("/account/sessions").await;
    let said = happened(&page.body);
    if can_revoke_one_session(mode) {
        assert!(
            said.contains("Signed out all others: 1 row was deleted."),
            "{said}"
        );
    } else {
        assert!(
            said.contains("Signed out everywhere else: your account"),
            "{said}"
        );
    }
}
