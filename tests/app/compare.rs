//! `--mode both` and `/compare`: one process serving both modes, each app opening and changing
//! the other's session; and the outage lab's switch.

use rocket::figment::Figment;
use rocket::local::asynchronous::Client;
use session_lab::settings::Mode;
use sqlx::postgres::PgPoolOptions;

use crate::common::*;

const PW: &str = "correct horse battery";

/// Both apps the way `session-lab --mode both` builds them (one figment, one pool), each behind
/// a local client, on one fresh database. Server mode first: it creates and migrates it.
async fn spawn_both(tweak: impl FnOnce(Figment) -> Figment) -> (TestApp, TestApp) {
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
        Mode::Server => (&server, &cookie),
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
    assert!(compare.body.contains("PostgreSQL cannot be reached"));
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
    // As test_figment, without its fixed key: the debug profile would make one per app.
    let figment = session_lab::figment()
        .merge(("databases.session_lab.url", db_url.as_str()))
        .merge(("databases.session_lab.connect_timeout", 2))
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

both_modes!(
    a_compare_form_changes_both_sessions,
    a_compare_note_too_large_for_the_cookie_changes_neither,
    viewing_compare_and_the_outage_lab_creates_no_row_and_no_session_cookie,
    without_mode_both_compare_says_how_to_start_it_and_shows_this_mode,
    the_outage_switch_cuts_the_database_and_gives_it_back,
);
