//! "What just happened" and the inspector's explanations: the report a POST hands to the page it
//! redirects to, the page's own report, refusals explained, and the cookie's anatomy — all
//! without a session write or a row for a page view.

use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

all_modes![
    the_page_after_a_post_says_what_it_did_once,
    logout_says_whether_a_copy_still_works,
    a_refused_session_is_explained_on_the_inspector_and_the_login_page,
    the_anatomy_adds_up_to_the_cookie,
    viewing_pages_creates_no_row_and_no_cookie_but_csrf,
    a_session_past_its_cap_is_413_and_unchanged,
    login_and_sign_outs_say_what_they_did,
    the_report_shows_what_crossed_the_wire,
    a_report_is_shown_once_and_then_said_to_be_gone,
    every_lab_post_lands_on_a_page_that_says_what_it_did,
    the_replay_copy_goes_when_its_lesson_is_done,
    the_outage_page_says_truly_which_pages_answer_503,
    the_tamper_labs_first_flip_changes_all_three_columns,
    a_flood_from_another_browser_leaves_the_victims_report_to_read,
];

/// The "What just happened" section of a page, or "" when there is none.
pub(crate) fn happened(body: &str) -> &str {
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
    } else if holds_data_on_the_server(mode) {
        assert!(
            said.contains("one <code>SET</code> of a new Redis key"),
            "{said}"
        );
        assert!(
            said.contains("No SQL statement ran. 1 Redis command ran."),
            "{said}"
        );
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
    // Said once, in one way (it used to say "You are no longer logged in. You are logged out.").
    assert_eq!(
        said.matches("You are no longer logged in.").count(),
        1,
        "{said}"
    );
    assert!(!said.contains("You are logged out."), "{said}");
    assert!(said.contains("It ended your session"), "{said}");
    if can_revoke_one_session(mode) {
        assert!(
            said.contains("a copy of the old cookie is now refused"),
            "{said}"
        );
    } else {
        // An unused copy dies at its idle deadline; used, it lives on up to the absolute one.
        assert!(
            said.contains("a copy of it would still work until its idle deadline, <time title="),
            "{said}"
        );
        // Human times, the exact one on hover: 30 minutes idle, 14 days absolute by default.
        assert!(
            said.contains(" UTC\">in 30 minutes</time>, if left unused"),
            "{said}"
        );
        assert!(
            said.contains("never past its absolute deadline, <time title="),
            "{said}"
        );
        assert!(said.contains(" UTC\">in 14 days</time>"), "{said}");
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
    // The live view (static/inspector.js) stops for a refused cookie instead of following it.
    assert!(page.body.contains("data-refused=\"undecryptable\""));
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
    if holds_data_on_the_server(mode) {
        assert!(
            res.body.contains("over the 3500 bytes this server keeps"),
            "{}",
            res.body
        );
    }
    if stores_rows(mode) {
        let row: serde_json::Value = sqlx::query_scalar("SELECT data FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(row["notes"], before, "the row is unchanged");
    } else if holds_data_on_the_server(mode) {
        let inspected = b.get("/session.json").await.json();
        let key = inspected["row"]["key"].as_str().expect("the Redis key");
        let json: String = crate::common::redis::cmd(::redis::cmd("GET").arg(key)).await;
        let stored: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(stored["data"]["notes"], before, "the key is unchanged");
    } else {
        // Sealed, 3500 bytes of data would pass the 4096 of a cookie: the browser's limit said no.
        assert!(res.body.contains("a browser keeps"), "{}", res.body);
    }
    let kept = if holds_data_on_the_server(mode) { 8 } else { 7 };
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
    // Logging in is said in words: `login` is not a key of the session.
    assert!(said.contains("You are now logged in as alice."), "{said}");
    assert!(!said.contains("<code>login</code>"), "{said}");
    // The keys a login writes are explained where they appear.
    assert!(
        said.contains("<code>auth_hash</code> is a keyed hash"),
        "{said}"
    );
    let elsewhere = app.browser();
    login(&elsewhere, "alice", PW).await;
    b.post("/account/sessions/end-others", &[]).await;
    let page = b.get("/account/sessions").await;
    let said = happened(&page.body);
    if ends_sessions_through_an_index(mode) {
        assert!(
            said.contains("Signed out all others: 1 row was deleted."),
            "{said}"
        );
    } else {
        assert!(
            said.contains("Signed out everywhere else: your account"),
            "{said}"
        );
        // The other browser's next POST is refused by the epoch; its report must not say a
        // copy of that cookie would still work (it is refused for the same reason).
        let res = elsewhere.post("/account/sessions/end-others", &[]).await;
        assert_eq!(res.status, 303);
        let page = elsewhere.get(res.location().unwrap_or("/login")).await;
        let said = happened(&page.body);
        assert!(said.contains("refused=old-epoch"), "{said}");
        if mode == Mode::Cookie {
            assert!(
                said.contains("a copy of the cookie is refused for the same reason"),
                "{said}"
            );
        }
        assert!(!said.contains("would still work"), "{said}");
    }
}

async fn the_report_shows_what_crossed_the_wire(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let csrf = b.csrf_token().await;
    let csrf_bytes =
        mode.csrf_cookie_name().len() + b.cookie(mode.csrf_cookie_name()).unwrap().len();
    assert!(!csrf.is_empty());
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 303);
    let session = b.session_cookie().unwrap();
    let page = b.get("/color").await;
    let said = happened(&page.body);
    // What the POST's request carried: the CSRF cookie, by name and size, no session cookie yet.
    assert!(
        said.contains(&format!(
            "carried no session cookie and besides it <code>{}</code> ({csrf_bytes} bytes)",
            mode.csrf_cookie_name()
        )),
        "{said}"
    );
    // Every Set-Cookie line of the 303, the session cookie first, its value cut.
    assert!(
        said.contains("the response, status 303 See Other, sent 2 <code>Set-Cookie</code> lines"),
        "{said}"
    );
    let name = mode.cookie_name();
    let bytes = name.len() + session.len();
    let first = said
        .split("<li data-set-cookie=")
        .nth(1)
        .and_then(|li| li.split_once('>'))
        .map_or("", |(_, rest)| rest);
    // As the page escapes it: askama leaves `/` and `+` as they are.
    let start = &session[..24];
    assert!(
        first.starts_with(&format!(
            "<code>Set-Cookie: {name}={start}…; HttpOnly; SameSite=Lax; Path=/"
        )),
        "{first}"
    );
    assert!(
        first.contains(&format!("(session cookie, {bytes} bytes)")),
        "{first}"
    );
    assert!(!said.contains(&session), "never a whole value");
    let report = mode.report_cookie_name();
    assert!(said.contains(&format!("Set-Cookie: {report}=")), "{said}");
    // The landing page's own exchange: it sent the report cookie and removes it.
    let this = page
        .body
        .split("<strong>This page</strong>")
        .nth(1)
        .unwrap_or("");
    assert!(
        this.contains(&format!(
            "the session cookie <code>{name}</code> ({bytes} bytes)"
        )),
        "{this}"
    );
    assert!(this.contains(&format!("<code>{report}</code> (")), "{this}");
    assert!(
        this.contains(&format!("Set-Cookie: {report}=; HttpOnly")) && this.contains("removes it"),
        "{this}"
    );
}

/// The report waits on the server under a token; its cookie carries only that, sealed, and is
/// no session write. Once read, or once kept too long, the page says the report is gone.
async fn a_report_is_shown_once_and_then_said_to_be_gone(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("report_keep_seconds", 1))).await;
    let b = app.browser();
    b.csrf_token().await;
    let res = b.post("/notes", &[("note", &"n".repeat(200))]).await;
    assert_eq!(res.status, 303);
    let report = mode.report_cookie_name();
    let line = res.set_cookie(report).expect("a report cookie");
    let value = line
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let session = mode.cookie_name().len() + b.session_cookie().unwrap().len();
    assert!(report.len() + value.len() <= 200, "{line}");
    assert!(
        report.len() + value.len() < session || stores_rows(mode),
        "{line}"
    );
    let rows = app.count("SELECT count(*) FROM sessions").await;
    assert_eq!(
        rows,
        if stores_rows(mode) { 1 } else { 0 },
        "the report adds no row"
    );
    assert!(happened(&b.get("/notes").await.body).contains("It created a session"));
    // The same cookie again (a copy, a replay): the report was shown once.
    b.set_cookie(report, &value);
    let said = b.get("/notes").await;
    let said = happened(&said.body);
    assert!(
        said.contains("this server no longer holds that report"),
        "{said}"
    );
    // Kept longer than report_keep_seconds: gone too.
    b.post("/color", &[("color", "red")]).await;
    app.clock().advance(1);
    let said = b.get("/color").await;
    assert!(happened(&said.body).contains("no longer holds that report"));
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, rows);
}

/// Each lab action's 303 lands on a page whose "What just happened" says what the action did.
async fn every_lab_post_lands_on_a_page_that_says_what_it_did(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| {
        f.merge(("databases.session_lab.connect_timeout", 1))
    })
    .await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    b.get("/color").await;
    type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let steps: [Step; 8] = [
        ("/labs/replay/keep", &[], "Kept a copy of your"),
        ("/labs/replay/replay", &[], "Replayed the kept copy"),
        ("/labs/replay/forget", &[], "Deleted the kept copy"),
        (
            "/labs/tamper/flip",
            &[("index", "3")],
            "Flipped byte 3 of copies of the value",
        ),
        (
            "/session/fast-forward",
            &[("seconds", "60")],
            "forward by 1 minute",
        ),
        (
            "/labs/outage",
            &[("cut", "true")],
            "Cut this browser off from PostgreSQL",
        ),
        (
            "/labs/outage",
            &[("cut", "false")],
            "Gave this browser its database back",
        ),
        (
            "/color",
            &[("color", "red")],
            "Your session did not change.",
        ),
    ];
    for (path, fields, words) in steps {
        let res = b.post(path, fields).await;
        assert_eq!(res.status, 303, "{path}: {}", res.body);
        let to = res.location().unwrap().to_string();
        let page = b.get(&to).await;
        assert_eq!(page.status, 200, "{to}");
        let said = happened(&page.body);
        assert!(said.contains(words), "{path} → {to}: {said}");
        assert!(said.contains("On the wire"), "{path}: {said}");
    }
}

/// The replay lab's copy cookie goes when its lesson is done: put back, refused, or forgotten.
async fn the_replay_copy_goes_when_its_lesson_is_done(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let copy = mode.replay_copy_cookie_name();
    let removed = |res: &Res| {
        res.set_cookie(copy)
            .is_some_and(|l| l.contains("Max-Age=0"))
    };
    b.post("/color", &[("color", "red")]).await;
    b.post("/labs/replay/keep", &[]).await;
    assert!(b.cookie(copy).is_some());
    let res = b.post("/labs/replay/put-back", &[]).await;
    assert!(removed(&res), "{:?}", res.set_cookies());
    assert!(b.cookie(copy).is_none());
    assert!(happened(&b.get("/labs/replay").await.body).contains("deleted the copy"));

    b.post("/labs/replay/keep", &[]).await;
    assert!(removed(&b.post("/labs/replay/forget", &[]).await));

    // Logged in, kept, logged out: a replay that ends the lesson deletes the copy.
    signup(&b, "alice", PW).await;
    b.post("/labs/replay/keep", &[]).await;
    b.post("/logout", &[]).await;
    b.get("/").await;
    let page = b.get("/labs/replay?replay=1").await;
    if can_revoke_one_session(mode) {
        assert!(removed(&page), "{:?}", page.set_cookies());
        assert!(page.body.contains("so this page also deleted the copy"));
        assert!(b.cookie(copy).is_none());
    } else {
        // Cookie mode without a deny-list: the copy still works, so the lesson goes on.
        assert!(page.set_cookie(copy).is_none());
        assert!(b.cookie(copy).is_some());
    }
}

/// With `--mode both`, each /compare action's report says what happened in each mode.
#[rocket::async_test]
async fn compare_reports_each_action_in_both_modes_side_by_side() {
    let (server, _cookie) = crate::compare::spawn_both(|f| f).await;
    let b = server.browser();
    let sides = |body: &str| -> (String, String) {
        let said = happened(body);
        let server = said.split("server mode</span>").nth(1).unwrap_or("");
        let server = server.split("</div>").next().unwrap_or("").to_string();
        let cookie = said.split("cookie mode</span>").nth(1).unwrap_or("");
        let cookie = cookie.split("</div>").next().unwrap_or("").to_string();
        (server, cookie)
    };
    b.post("/compare/color", &[("color", "red")]).await;
    let page = b.get("/compare").await;
    let (s, c) = sides(&page.body);
    let id = 10 + b.cookie("session_id").unwrap().len();
    let data = 12 + b.cookie("session_data").unwrap().len();
    assert!(s.contains("one <code>INSERT</code>"), "{s}");
    assert!(
        s.contains(&format!("Set-Cookie: session_id=…</code>, {id} bytes")),
        "{s}"
    );
    assert!(c.contains("sealed into a new cookie"), "{c}");
    assert!(
        c.contains(&format!("Set-Cookie: session_data=…</code>, {data} bytes")),
        "{c}"
    );
    let wire = happened(&page.body);
    assert!(
        wire.contains("(session cookie, ") && wire.matches("(session cookie, ").count() == 2,
        "{wire}"
    );

    b.post("/compare/notes", &[("note", "hi")]).await;
    let (s, c) = sides(&b.get("/compare").await.body);
    assert!(s.contains("Changed: <code>notes</code>") && c.contains("Changed: <code>notes</code>"));

    signup(&b, "alice", PW).await;
    b.post("/compare/logout", &[]).await;
    b.get("/compare").await;
    b.post("/compare/login", &[("username", "alice"), ("password", PW)])
        .await;
    let (s, c) = sides(&b.get("/compare").await.body);
    assert!(s.contains("You are now logged in as alice."), "{s}");
    assert!(c.contains("You are now logged in as alice."), "{c}");

    b.post("/compare/logout", &[]).await;
    let (s, c) = sides(&b.get("/compare").await.body);
    assert!(s.contains("a copy of the old cookie is now refused"), "{s}");
    assert!(
        c.contains("a copy of it would still work until its idle deadline"),
        "{c}"
    );

    b.post("/compare/color", &[("color", "blue")]).await;
    b.get("/compare").await;
    b.post("/compare/forget", &[]).await;
    let (s, c) = sides(&b.get("/compare").await.body);
    assert!(s.contains("Told your browser to delete session_id"), "{s}");
    assert!(
        c.contains("Told your browser to delete session_data"),
        "{c}"
    );
}

/// The outage page says, for each page it names, what that page answers while the database is
/// cut — and each page does answer so.
async fn the_outage_page_says_truly_which_pages_answer_503(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| {
        f.merge(("databases.session_lab.connect_timeout", 1))
    })
    .await;
    let b = app.browser();
    signup(&b, "alice", PW).await;
    b.get("/account").await;
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    let page = b.get("/labs/outage").await;
    // Where the session lives in a store the switch cuts off (a row, a Redis key).
    let server = holds_data_on_the_server(mode);
    let li = |path: &str| -> String {
        let at = page
            .body
            .find(&format!("<li><a href=\"{path}\">"))
            .expect(path);
        page.body[at..].split("</li>").next().unwrap().to_string()
    };
    let words = |path: &str, served: &str| {
        let line = li(path);
        let says_503 = line.contains("— 503 while cut");
        assert_eq!(says_503, served == "503", "{path}: {line}");
    };
    for path in ["/color", "/session", "/signup", "/account"] {
        let res = b.get(path).await;
        let expected = if server || path == "/account" {
            503
        } else {
            200
        };
        assert_eq!(res.status, expected, "GET {path}");
        words(path, if expected == 503 { "503" } else { "served" });
        if expected == 503 && server {
            // The cookie came; the store that would check it could not be reached.
            assert!(res.trace().contains("load=miss"), "{path}: {}", res.trace());
            assert!(res.trace().contains("store=unavailable"), "{}", res.trace());
        }
    }
    assert_eq!(b.get("/notes").await.status, if server { 503 } else { 200 });
    assert_eq!(b.get("/login").await.status, if server { 503 } else { 200 });
    for path in ["/signup", "/login"] {
        let res = b.post(path, &[("username", "bob"), ("password", PW)]).await;
        assert_eq!(res.status, 503, "POST {path}");
    }
    if !server {
        assert!(li("/signup").contains("submitting them: 503 while cut"));
    }
    assert_eq!(b.get("/healthz").await.status, 503);
    assert!(li("/healthz").contains("503, says <code>unavailable</code>"));
    b.post("/labs/outage", &[("cut", "false")]).await;
}

/// The tamper lab's default byte lies inside all three values, its sizes are all of the value
/// alone, and in server mode it does not call the sealed id a map.
async fn the_tamper_labs_first_flip_changes_all_three_columns(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let page = b.get("/labs/tamper").await;
    let default = page
        .body
        .split("name=\"index\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the default index")
        .to_string();
    let value = b.session_cookie().unwrap();
    assert!(
        page.body
            .contains(&format!("{} bytes of value (the", value.len())),
        "value only, like the other columns"
    );
    assert!(!page.body.contains("your session's\nmap"));
    if stores_rows(mode) {
        assert!(page
            .body
            .contains("in server mode it holds only the session's id"));
    }
    let res = b.post("/labs/tamper/flip", &[("index", &default)]).await;
    assert_eq!(res.status, 303);
    let page = b.get(res.location().unwrap()).await;
    for column in ["sealed-flipped", "signed-flipped", "plain-flipped"] {
        assert!(page.body.contains(&format!("id=\"{column}\"")), "{column}");
    }
    assert!(!page.body.contains("is past\n      its end"));
}

/// One client posting as fast as it can — from the victim's own address (one NAT) and from
/// another, with its CSRF cookie or with none — only ever pushes out its own reports: the
/// victim's page still says what the victim's POST did.
async fn a_flood_from_another_browser_leaves_the_victims_report_to_read(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| {
        f.merge(("report_max_per_browser", 2))
            .merge(("report_max_per_address", 4))
            .merge(("report_max_kept", 8))
    })
    .await;
    let (_, csrf) = app.cookie_names();
    let victim = app.browser();
    let token = victim.csrf_token().await;
    let res = victim
        .post_raw(
            "/color",
            &[("csrf_token", &token), ("color", "teal")],
            &[("X-Real-IP", "10.0.0.1")],
        )
        .await;
    assert_eq!(res.status, 303);

    let flooder = app.browser();
    let token = flooder.csrf_token().await;
    for i in 0..60 {
        let ip = if i % 2 == 0 { "10.0.0.1" } else { "10.0.0.2" };
        let color = format!("#0000{:02x}", i);
        let res = flooder
            .post_raw(
                "/color",
                &[("csrf_token", &token), ("color", &color)],
                &[("X-Real-IP", ip)],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
    }
    // Without a CSRF cookie (a refused session cookie on a page that redirects): the address
    // speaks for it, and it holds no more than one browser's share.
    let anonymous = app.browser();
    for _ in 0..20 {
        anonymous.delete_cookie(csrf);
        anonymous.set_session_cookie("not-a-session");
        let res = anonymous
            .get_with("/account", &[("X-Real-IP", "10.0.0.1")])
            .await;
        assert_eq!(res.status, 303);
        assert!(res.set_cookie(mode.report_cookie_name()).is_some());
    }

    let page = victim.get("/color").await;
    let said = happened(&page.body);
    assert!(said.contains("(POST &#x2F;color)"), "{said}");
    assert!(said.contains("Changed: <code>color</code>"), "{said}");
    // The flooder reads its own newest report, as any browser following its redirects would.
    let page = flooder.get("/color").await;
    assert!(
        happened(&page.body).contains("(POST &#x2F;color)"),
        "{}",
        happened(&page.body)
    );
}
