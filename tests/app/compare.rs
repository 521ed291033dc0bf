//! `--mode both` and `/compare`: one process serving both modes, each app opening and changing
//! the other's session; and the outage lab's switch.

use rocket::figment::Figment;
use rocket::local::asynchronous::Client;
use serde_json::json;
use session_lab::settings::Mode;
use sqlx::postgres::PgPoolOptions;

use crate::common::*;

const PW: &str = "correct horse battery";

/// Both apps the way `session-lab --mode both` builds them (one figment, one pool), each behind
/// a local client, on one fresh database. Server mode first: it creates and migrates it.
pub(crate) async fn spawn_both(tweak: impl FnOnce(Figment) -> Figment) -> (TestApp, TestApp) {
    let db_name = fresh_db_name();
    let db_url = url_for(&db_name);
    let figment = tweak(test_figment(ServerMode, &db_url));
    let both = session_lab::build_both(figment).expect("both apps build");
    let server = Client::untracked(both.server)
        .await
        .expect("server mode launches");
    let cookie = Client::untracked(both.cookie)
        .await
        .expect("cookie mode launches");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&db_url)
        .await
        .expect("test pool");
    let app = |client: Client, mode: Mode| TestApp {
        client,
        mode,
        db_name: db_name.clone(),
        db_url: db_url.clone(),
        pool: pool.clone(),
    };
    (app(server, ServerMode), app(cookie, CookieMode))
}

/// The browser now talks to `app` (the other port), keeping its cookies, as a real one would.
fn visit<'a>(b: &mut Browser<'a>, app: &'a TestApp) {
    b.app = app;
    b.forget_csrf();
}

fn shows_color(body: &str, color: &str) -> bool {
    body.contains(&format!("&quot;color&quot;: &quot;{color}&quot;"))
}

#[rocket::async_test]
async fn mode_both_serves_both_modes_from_one_process_and_compare_shows_both_cookies() {
    let (server, cookie) = spawn_both(|f| f).await;
    let mut b = server.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 303);
    assert!(res.trace().starts_with("mode=server;"), "{}", res.trace());
    assert!(b.cookie("session_id").is_some());
    visit(&mut b, &cookie);
    let res = b.post("/color", &[("color", "blue")]).await;
    assert_eq!(res.status, 303);
    assert!(res.trace().starts_with("mode=cookie;"), "{}", res.trace());
    assert!(b.cookie("session_data").is_some());
    assert_eq!(server.session_rows().await, 1, "one pool, one database");

    for app in [&server, &cookie] {
        visit(&mut b, app);
        let page = b.get("/compare").await;
        assert_eq!(page.status, 200);
        for name in ["session_id", "session_data"] {
            assert!(
                page.body.contains(&format!("<code>{name}</code>")),
                "{name} on {}",
                app.mode
            );
        }
        // Each column decoded by its own mode's store: red in the row, blue in the cookie.
        assert!(shows_color(&page.body, "red") && shows_color(&page.body, "blue"));
        assert!(page.body.contains("(this app)"));
        assert!(!page.body.contains("--mode both</code> (server mode"));
        assert!(
            page.body.contains("created_at"),
            "server mode's row is shown"
        );
    }
}

async fn a_compare_form_changes_both_sessions(from: Mode) {
    let (server, cookie) = spawn_both(|f| f).await;
    let (here, there) = match from {
        Mode::Server | Mode::Redis => (&server, &cookie),
        Mode::Cookie => (&cookie, &server),
    };
    let mut b = here.browser();
    let res = b.post("/compare/color", &[("color", "teal")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/compare"));
    assert!(res.set_cookie("session_id").is_some() && res.set_cookie("session_data").is_some());
    let res = b.post("/compare/notes", &[("note", "hello")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(server.session_rows().await, 1);
    for app in [here, there] {
        visit(&mut b, app);
        assert!(b.get("/color").await.body.contains("<strong>teal</strong>"));
        assert!(b.get("/notes").await.body.contains("hello"));
    }

    let queue = session_lab::auth::queue::HashQueue::unbounded();
    session_lab::auth::users::create_user(&server.pool, &queue, "alice", PW.into())
        .await
        .expect("user");
    visit(&mut b, here);
    let wrong = b
        .post(
            "/compare/login",
            &[("username", "alice"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    let res = b
        .post("/compare/login", &[("username", "alice"), ("password", PW)])
        .await;
    assert_eq!(res.status, 303);
    for app in [here, there] {
        visit(&mut b, app);
        let account = b.get("/account").await;
        assert_eq!(account.status, 200, "logged in on {}", app.mode);
        assert!(b.get("/color").await.body.contains("<strong>teal</strong>"));
    }
    let with_user = server
        .count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
        .await;
    assert_eq!(with_user, 1, "the login moved the row to a new id");

    visit(&mut b, here);
    assert_eq!(b.post("/compare/logout", &[]).await.status, 303);
    assert_eq!(server.session_rows().await, 0, "logout deleted the row");
    assert!(b.cookie("session_id").is_none() && b.cookie("session_data").is_none());
    for app in [here, there] {
        visit(&mut b, app);
        assert_eq!(
            b.get("/account").await.status,
            303,
            "logged out on {}",
            app.mode
        );
    }

    // "Delete the cookies": both go, the server-mode row stays behind.
    visit(&mut b, here);
    b.post("/compare/color", &[("color", "navy")]).await;
    assert_eq!(server.session_rows().await, 1);
    let res = b.post("/compare/forget", &[]).await;
    assert_eq!(res.status, 303);
    assert!(b.cookie("session_id").is_none() && b.cookie("session_data").is_none());
    assert_eq!(
        server.session_rows().await,
        1,
        "the row is orphaned, not deleted"
    );
}

/// "Delete the cookies" is written by the session layer of each mode, as its other removals are:
/// one removal per session cookie with the session cookie's attributes, `save=delete` in the
/// trace, the report saying nothing stored changed, and the server-mode row left in place.
async fn forgetting_both_cookies_removes_each_as_the_session_layer_writes_it_and_keeps_the_row(
    from: Mode,
) {
    let (server, cookie) = spawn_both(|f| f).await;
    let here = if from == Mode::Server {
        &server
    } else {
        &cookie
    };
    let b = here.browser();
    assert_eq!(
        b.post("/compare/color", &[("color", "navy")]).await.status,
        303
    );
    let res = b.post("/compare/forget", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/compare"));
    for name in ["session_id", "session_data"] {
        let lines: Vec<&str> = res
            .set_cookies()
            .into_iter()
            .filter(|l| l.starts_with(&format!("{name}=")))
            .collect();
        assert_eq!(lines.len(), 1, "one Set-Cookie for {name}: {lines:?}");
        let line = lines[0];
        assert!(
            line.starts_with(&format!(
                "{name}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Expires="
            )),
            "{line}"
        );
        assert!(line.ends_with(" GMT"), "{line}");
    }
    assert!(res.trace().contains("save=delete"), "{}", res.trace());
    assert!(b.cookie("session_id").is_none() && b.cookie("session_data").is_none());
    assert_eq!(
        server.session_rows().await,
        1,
        "the row is orphaned, not deleted"
    );
    let page = b.get("/compare").await;
    let own = here.cookie_names().0;
    assert!(
        page.body
            .contains(&format!("Told your browser to delete {own}.")),
        "the report says what happened: {}",
        page.body
    );
}

/// A cookie-mode session too full for one more note refuses it in both modes: nothing changes.
async fn a_compare_note_too_large_for_the_cookie_changes_neither(from: Mode) {
    let (server, cookie) = spawn_both(|f| f).await;
    let here = if from == Mode::Server {
        &server
    } else {
        &cookie
    };
    let b = here.browser();
    let note = "x".repeat(400);
    let mut refused = None;
    for _ in 0..20 {
        let res = b.post("/compare/notes", &[("note", &note)]).await;
        if res.status != 303 {
            refused = Some(res);
            break;
        }
    }
    let refused = refused.expect("the cookie fills up within 20 notes");
    assert_eq!(refused.status, 413);
    let count = |data: &str| -> usize { data.matches(&note).count() };
    let notes_in_row: String = sqlx::query_scalar("SELECT data::text FROM sessions")
        .fetch_one(&server.pool)
        .await
        .expect("one row");
    let page = b.get("/compare").await;
    // The row holds exactly the notes the cookie holds: the refused one went into neither.
    assert_eq!(count(&notes_in_row) * 2, count(&page.body));
}

async fn viewing_compare_and_the_outage_lab_creates_no_row_and_no_session_cookie(mode: Mode) {
    let single = TestApp::spawn(mode).await;
    let (server, cookie) = spawn_both(|f| f).await;
    for app in [&single, &server, &cookie] {
        let b = app.browser();
        for path in ["/compare", "/labs/outage"] {
            let res = b.get(path).await;
            assert_eq!(res.status, 200, "{path} on {}", app.mode);
            for name in ["session_id", "session_data"] {
                assert!(res.set_cookie(name).is_none(), "{path} set {name}");
            }
        }
        assert_eq!(app.session_rows().await, 0);
    }
}

async fn without_mode_both_compare_says_how_to_start_it_and_shows_this_mode(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let page = b.get("/compare").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("cargo run -- --mode both"));
    assert_eq!(page.body.matches("<section class=\"column").count(), 1);
    assert!(page
        .body
        .contains(&format!("<section class=\"column {}\">", mode.as_str())));
    assert!(page.body.contains(&format!(
        "<tr><th>name</th><td><code>{}</code>",
        mode.cookie_name()
    )));
    assert!(shows_color(&page.body, "red"));
    // The forms act on this mode alone.
    assert_eq!(
        b.post("/compare/color", &[("color", "blue")]).await.status,
        303
    );
    assert!(b.get("/color").await.body.contains("<strong>blue</strong>"));
}

/// Cutting makes every statement fail until restored: server mode's pages answer 503, cookie mode
/// keeps its color page, and both answer 503 where they need `users`.
async fn the_outage_switch_cuts_the_database_and_gives_it_back(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| {
        f.merge(("databases.session_lab.connect_timeout", 1))
    })
    .await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    assert!(b
        .get("/labs/outage")
        .await
        .body
        .contains("Cut the database off"));
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    assert!(b
        .get("/labs/outage")
        .await
        .body
        .contains("Bring the database back"));

    let color = b.get("/color").await;
    if needs_the_database_for_sessions(mode) {
        assert_eq!(color.status, 503);
    } else {
        assert_eq!(color.status, 200);
        assert!(color.body.contains("<strong>red</strong>"));
    }
    let signup = b
        .post("/signup", &[("username", "bob"), ("password", PW)])
        .await;
    assert_eq!(signup.status, 503);
    assert_eq!(b.get("/healthz").await.status, 503);

    assert_eq!(
        b.post("/labs/outage", &[("cut", "false")]).await.status,
        303
    );
    assert_eq!(b.get("/healthz").await.status, 200);
    assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
}

#[rocket::async_test]
async fn with_mode_both_one_outage_switch_serves_both_apps() {
    let (server, cookie) =
        spawn_both(|f| f.merge(("databases.session_lab.connect_timeout", 1))).await;
    let mut b = server.browser();
    b.post("/compare/color", &[("color", "red")]).await;
    b.get("/labs/outage").await;
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    assert_eq!(b.get("/color").await.status, 503);
    visit(&mut b, &cookie);
    let page = b.get("/labs/outage").await;
    assert!(page.body.contains("Bring the database back"), "one switch");
    assert_eq!(b.get("/healthz").await.status, 503);
    assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
    // The compare page on the cookie app still shows its own column; the server column says why not.
    let compare = b.get("/compare").await;
    assert_eq!(compare.status, 200);
    assert!(compare
        .body
        .contains("the outage lab has cut this browser off from PostgreSQL"));
    assert_eq!(
        b.post("/labs/outage", &[("cut", "false")]).await.status,
        303
    );
    visit(&mut b, &server);
    assert_eq!(b.get("/color").await.status, 200);
}

#[rocket::async_test]
async fn mode_both_gives_both_apps_one_key_when_none_is_set() {
    let db_name = fresh_db_name();
    let db_url = url_for(&db_name);
    // As test_figment, without its fixed key: the debug profile would make one per app. Its key
    // file is this test's own.
    let keys = TempDir::fresh();
    let figment = session_lab::figment()
        .merge(("databases.session_lab.url", db_url.as_str()))
        .merge(("databases.session_lab.connect_timeout", 2))
        .merge(("debug_key_file", keys.key_file()))
        .merge(("log_level", "off"));
    let (server, cookie) = {
        let both = session_lab::build_both(figment).expect("both apps build");
        let server = Client::untracked(both.server).await.expect("server");
        let cookie = Client::untracked(both.cookie).await.expect("cookie");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&db_url)
            .await
            .expect("test pool");
        let app = |client, mode| TestApp {
            client,
            mode,
            db_name: db_name.clone(),
            db_url: db_url.clone(),
            pool: pool.clone(),
        };
        (app(server, ServerMode), app(cookie, CookieMode))
    };
    let mut b = server.browser();
    b.post("/compare/color", &[("color", "teal")]).await;
    visit(&mut b, &cookie);
    // Sealed by the server app (as its sibling), opened by the cookie app: the same key.
    assert!(b.get("/color").await.body.contains("<strong>teal</strong>"));
    let page = b.get("/compare").await;
    assert_eq!(page.body.matches("&quot;teal&quot;").count(), 2);
}

/// `user` of each column of `/compare.json`, and whether its store could be read.
fn side<'j>(json: &'j serde_json::Value, mode: &str) -> (&'j serde_json::Value, bool) {
    (&json[mode]["user"], json[mode]["available"] == true)
}

#[rocket::async_test]
async fn compare_json_and_the_page_tell_each_mode_s_own_login_state_when_only_one_is_logged_in() {
    let (server, cookie) = spawn_both(|f| f).await;
    let queue = session_lab::auth::queue::HashQueue::unbounded();
    session_lab::auth::users::create_user(&server.pool, &queue, "alice", PW.into())
        .await
        .expect("user");
    let mut b = server.browser();
    // The ordinary login page of server mode: only server mode's session knows alice.
    assert_eq!(login(&b, "alice", PW).await.status, 303);
    b.post("/compare/color", &[("color", "teal")]).await;
    for app in [&server, &cookie] {
        visit(&mut b, app);
        let res = b.get("/compare.json").await;
        assert_eq!(res.status, 200);
        let json = res.json();
        assert_eq!(
            side(&json, "server"),
            (&json!("alice"), true),
            "on {}",
            app.mode
        );
        assert_eq!(side(&json, "cookie"), (&serde_json::Value::Null, true));
        // Each column is the inspector's JSON of its mode.
        assert_eq!(json["server"]["mode"], "server");
        assert_eq!(json["cookie"]["mode"], "cookie");
        assert_eq!(json["server"]["data"]["color"], "teal");
        assert_eq!(json["cookie"]["data"]["color"], "teal");
        assert_eq!(json["server"]["cookie"]["name"], "session_id");
        assert_eq!(
            json["cookie"]["cookie"]["value"].as_str(),
            b.cookie("session_data").as_deref()
        );
        assert_eq!(json["server"]["limit_bytes"], 65536);
        assert_eq!(json["cookie"]["limit_bytes"], 4096);
        assert!(json["cookie"]["row"].is_null());
        let data = serde_json::to_vec(&json["server"]["data"]).expect("json");
        assert_eq!(json["server"]["row"]["bytes"], data.len());

        // The page: each column its own state, and the forms what each column needs.
        let page = b.get("/compare").await;
        assert_eq!(page.status, 200);
        let column_says = "who-column\"><span>Logged in as <strong>alice</strong>";
        assert_eq!(page.body.matches(column_says).count(), 1);
        assert_eq!(page.body.matches("Not logged in</p>").count(), 1);
        assert!(page.body.contains("Log in (cookie mode is logged out)"));
        assert!(page.body.contains("value=\"cookie\" checked"));
        assert!(page.body.contains("Log out of server mode only"));
        assert!(!page.body.contains("Log out of cookie mode only"));
        assert!(!page.body.contains("Log out of both"));
    }
}

#[rocket::async_test]
async fn compare_logs_in_and_out_of_one_mode_only_when_asked() {
    let (server, cookie) = spawn_both(|f| f).await;
    let queue = session_lab::auth::queue::HashQueue::unbounded();
    session_lab::auth::users::create_user(&server.pool, &queue, "alice", PW.into())
        .await
        .expect("user");
    let b = cookie.browser();
    let res = b
        .post(
            "/compare/login",
            &[("username", "alice"), ("password", PW), ("side", "cookie")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(res.set_cookie("session_data").is_some());
    assert!(
        res.set_cookie("session_id").is_none(),
        "server mode untouched"
    );
    let json = b.get("/compare.json").await.json();
    assert_eq!(json["cookie"]["user"], "alice");
    assert!(json["server"]["user"].is_null());

    let res = b
        .post(
            "/compare/login",
            &[("username", "alice"), ("password", PW), ("side", "both")],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = b.get("/compare").await;
    assert!(page.body.contains("Log out of both"));
    assert!(
        !page.body.contains("action=\"/compare/login\""),
        "nobody to log in"
    );

    assert_eq!(
        b.post("/compare/logout", &[("side", "server")])
            .await
            .status,
        303
    );
    let json = b.get("/compare.json").await.json();
    assert!(json["server"]["user"].is_null());
    assert_eq!(json["cookie"]["user"], "alice");
    assert_eq!(server.session_rows().await, 0, "server mode's row deleted");

    let bad = b.post("/compare/logout", &[("side", "sideways")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        b.get("/compare.json").await.json()["cookie"]["user"],
        "alice"
    );
}

#[rocket::async_test]
async fn in_an_outage_compare_renders_on_both_ports_and_marks_the_server_column_unavailable() {
    let (server, cookie) =
        spawn_both(|f| f.merge(("databases.session_lab.connect_timeout", 1))).await;
    let mut b = server.browser();
    signup(&b, "alice", PW).await;
    b.post("/compare/color", &[("color", "red")]).await;
    b.get("/labs/outage").await;
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    for app in [&server, &cookie] {
        visit(&mut b, app);
        let res = b.get("/compare.json").await;
        assert_eq!(res.status, 200, "on {}", app.mode);
        let json = res.json();
        assert_eq!(json["server"]["available"], false);
        assert_eq!(json["server"]["reason"], "database-unreachable");
        assert!(json["server"]["user"].is_null());
        assert_eq!(
            json["server"]["cookie"]["name"], "session_id",
            "the cookie still came"
        );
        assert_eq!(json["cookie"]["available"], true);
        assert_eq!(json["cookie"]["data"]["color"], "red");

        let page = b.get("/compare").await;
        assert_eq!(page.status, 200, "on {}", app.mode);
        assert!(page
            .body
            .contains("This mode cannot open its session: the outage lab has cut this browser off from PostgreSQL"));
        assert!(page.body.contains("Login state unknown"));
        // Only the cookie column can be logged in now: the login form is for it.
        assert!(page.body.contains("value=\"cookie\" checked"));
        assert!(
            page.body.contains("&quot;color&quot;: &quot;red&quot;"),
            "cookie column"
        );
    }
    // The header of the server-mode port cannot know who is logged in, and says so.
    visit(&mut b, &server);
    let page = b.get("/compare").await;
    // Its own report tells the truth: the cookie came and could not be checked, not "refused".
    assert!(
        page.body.contains("but the server could not check it"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("refused=</code>)"), "no empty refusal");
    assert!(page
        .body
        .contains("Login state unknown: server mode cannot load its session"));
    assert_eq!(
        b.post("/labs/outage", &[("cut", "false")]).await.status,
        303
    );
    let json = b.get("/compare.json").await.json();
    assert_eq!(json["server"]["available"], true);
    assert_eq!(json["server"]["user"], "alice");
}

async fn without_mode_both_compare_json_gives_the_other_mode_as_null(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let json = b.get("/compare.json").await.json();
    let (here, other) = match mode {
        Mode::Server | Mode::Redis => ("server", "cookie"),
        Mode::Cookie => ("cookie", "server"),
    };
    assert!(json[other].is_null(), "{json}");
    assert_eq!(json[here]["available"], true);
    assert_eq!(json[here]["data"]["color"], "red");
    assert!(json[here]["user"].is_null());
    let inspector = b.get("/session.json").await.json();
    for key in ["mode", "cookie", "data", "row", "limit_bytes", "refused"] {
        assert_eq!(json[here][key], inspector[key], "{key}");
    }
}

both_modes!(
    without_mode_both_compare_json_gives_the_other_mode_as_null,
    a_compare_form_changes_both_sessions,
    forgetting_both_cookies_removes_each_as_the_session_layer_writes_it_and_keeps_the_row,
    a_compare_note_too_large_for_the_cookie_changes_neither,
    viewing_compare_and_the_outage_lab_creates_no_row_and_no_session_cookie,
    without_mode_both_compare_says_how_to_start_it_and_shows_this_mode,
    the_outage_switch_cuts_the_database_and_gives_it_back,
);
