//! Issue 24 follow-ups: what a browser is told about a request that reached Redis. Every Redis
//! round trip a request makes for the session counts in `Session-Trace` (the eviction lab's `DEL`
//! too); the "what just happened" drawing shows Redis as the store it asked, command by command;
//! and under `--mode all` the report tells and draws every mode's session a request touched, not
//! only the first sibling's. Against real Redis, each test under its own key prefix.

use crate::common::*;
use crate::drawings::{accessible_name, arrows, drawing};
use crate::report::happened;
use crate::store_lesson::spawn_all;

/// The `redis=N` figure of a `Session-Trace`, or "" without one.
fn redis_figure(trace: &str) -> &str {
    trace
        .split("; ")
        .find(|part| part.starts_with("redis="))
        .unwrap_or("")
}

/// The arrows to and from the stores, by their labels, top to bottom.
fn store_arrows(svg: &str) -> Vec<String> {
    arrows(svg)
        .into_iter()
        .filter(|(class, _, _)| class == "store")
        .map(|(_, label, _)| label)
        .collect()
}

/// A redis-mode browser with a session (a color set, then read once).
async fn with_a_session(app: &TestApp) -> Browser<'_> {
    let b = app.browser();
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
    assert!(b.get("/color").await.trace().contains("load=hit"));
    b
}

#[rocket::async_test]
async fn evict_counts_its_del_in_session_trace_redis() {
    let app = TestApp::spawn(RedisMode).await;
    let b = with_a_session(&app).await;
    let res = b.post("/labs/evict", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    // One MGET to find where this browser's session is filed, one DEL to remove that key.
    assert_eq!(redis_figure(res.trace()), "redis=2", "{}", res.trace());
    let page = b.get("/labs/evict").await;
    let told = happened(&page.body);
    assert!(told.contains("(POST &#x2F;labs&#x2F;evict)"), "{told}");
    assert!(told.contains(" 2 Redis commands ran."), "{told}");
}

#[rocket::async_test]
async fn evict_report_draws_the_redis_store_it_touched() {
    let app = TestApp::spawn(RedisMode).await;
    let b = with_a_session(&app).await;
    assert_eq!(b.post("/labs/evict", &[]).await.status, 303);
    let page = b.get("/labs/evict").await;
    let svg = drawing(happened(&page.body));
    assert!(!svg.is_empty(), "no drawing: {}", page.body);
    assert!(svg.contains(">Redis</text>"), "{svg}");
    assert!(!svg.contains(">no store</text>"), "{svg}");
    assert!(!svg.contains("the cookie holds it"), "{svg}");
    // The lab's own two commands, which are not the session's load or write: counted, not named.
    assert_eq!(store_arrows(svg), ["2 other commands"], "{svg}");
    let name = accessible_name(svg);
    assert!(
        name.contains(" The app asked Redis: 2 other commands. "),
        "{name}"
    );
}

#[rocket::async_test]
async fn redis_mode_reports_draw_each_command_asked_of_redis() {
    let app = TestApp::spawn(RedisMode).await;
    let b = app.browser();
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
    let svg_page = b.get("/color").await;
    let svg = drawing(happened(&svg_page.body));
    assert!(svg.contains(">Redis</text>"), "{svg}");
    assert!(!svg.contains(">no store</text>"), "{svg}");
    assert_eq!(store_arrows(svg), ["SET NX", "done"], "{svg}");
    let name = accessible_name(svg);
    assert!(
        name.contains(" The app asked Redis: SET NX (done). "),
        "{name}"
    );

    // The second color: its key read, then written over (only while it is still there).
    assert_eq!(b.post("/color", &[("color", "navy")]).await.status, 303);
    let svg_page = b.get("/color").await;
    let svg = drawing(happened(&svg_page.body));
    assert_eq!(
        store_arrows(svg),
        ["MGET", "its key", "SET XX", "done"],
        "{svg}"
    );

    // A logout ends it: the key deleted and its marker set, two commands in one round trip.
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    let svg_page = b.get("/color").await;
    let svg = drawing(happened(&svg_page.body));
    assert_eq!(
        store_arrows(svg),
        ["MGET", "its key", "DEL + SET", "done"],
        "{svg}"
    );
}

#[rocket::async_test]
async fn mode_all_report_draws_every_mode_a_request_touched_redis_included() {
    let apps = spawn_all(|f| f).await;
    let b = apps[0].browser();
    let res = b.post("/compare/color", &[("color", "teal")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = b.get("/compare").await;
    let told = happened(&page.body);
    // The words: each mode's story side by side, in /compare's order.
    let columns: Vec<usize> = ["server", "cookie", "redis"]
        .iter()
        .map(|mode| {
            told.find(&format!("<div class=\"column {mode}\">"))
                .unwrap_or_else(|| panic!("no {mode} column in the report: {told}"))
        })
        .collect();
    assert!(columns.windows(2).all(|w| w[0] < w[1]), "{columns:?}");
    // The drawing: both stores that were asked, each with what it was asked.
    let svg = drawing(told);
    assert!(svg.contains(">PostgreSQL</text>"), "{svg}");
    assert!(svg.contains(">Redis</text>"), "{svg}");
    assert_eq!(
        store_arrows(svg),
        ["INSERT", "done", "SET NX", "done"],
        "{svg}"
    );
    let name = accessible_name(svg);
    assert!(
        name.contains(
            " The app asked PostgreSQL: INSERT (done). The app asked Redis: SET NX (done). "
        ),
        "{name}"
    );
}

/// Server mode with the cache in front (`session_cache = "redis"`): a load the cache answered ran
/// no SQL (`cache=hit; queries=1`, the write's), so the drawing shows the cache's `GET` in Redis's
/// lane and no `SELECT` in PostgreSQL's.
#[rocket::async_test]
async fn a_read_from_the_cache_is_drawn_in_redis_not_as_a_select() {
    let app = TestApp::spawn_with(ServerMode, |f| f.merge(("session_cache", "redis"))).await;
    let b = app.browser();
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
    b.get("/color").await;
    let res = b.post("/color", &[("color", "navy")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.trace().contains("queries=1"), "{}", res.trace());
    assert!(res.trace().contains("cache=hit"), "{}", res.trace());
    let page = b.get("/color").await;
    let svg = drawing(happened(&page.body));
    assert!(svg.contains(">PostgreSQL</text>"), "{svg}");
    assert!(svg.contains(">Redis</text>"), "{svg}");
    let arrows = store_arrows(svg);
    assert!(!arrows.iter().any(|a| a == "SELECT"), "{arrows:?}");
    for label in ["UPDATE", "GET", "its copy"] {
        assert!(arrows.iter().any(|a| a == label), "{label} in {arrows:?}");
    }
    let name = accessible_name(svg);
    assert!(name.contains("GET (its copy)"), "{name}");
}

/// The login and signup pages tell each mode what a login does to its cookie. Redis mode renews the
/// id and deletes the old key, as server mode deletes the old row. It used to be told cookie
/// mode's story ("a freshly sealed cookie … an old copy keeps working"), which is false here.
#[rocket::async_test]
async fn login_and_signup_pages_say_what_a_login_does_in_each_mode() {
    for (mode, login_says, signup_says) in [
        (
            ServerMode,
            "a new id, the old row deleted",
            "to a new id (the old row is deleted)",
        ),
        (
            CookieMode,
            "a freshly sealed cookie",
            "completely (a new cookie",
        ),
        (
            RedisMode,
            "a new id, the old Redis key\ndeleted",
            "to a new id (the old Redis key is deleted)",
        ),
    ] {
        let app = TestApp::spawn(mode).await;
        let b = app.browser();
        let login = b.get("/login").await;
        assert!(login.body.contains(login_says), "{mode:?}: {}", login.body);
        let keeps_working = login.body.contains("keeps working until it expires");
        assert_eq!(
            keeps_working,
            mode == CookieMode,
            "{mode:?}: {}",
            login.body
        );
        let signup = b.get("/signup").await;
        assert!(
            signup.body.contains(signup_says),
            "{mode:?}: {}",
            signup.body
        );
    }
}
