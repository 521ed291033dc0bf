//! Issue 22, point 5: the exercises a phone can do (the plain cookie forged without devtools),
//! progress that follows the account after "clear site data", predictions before hints, wrong
//! predictions marked, the list in lesson order, a score out of what the mode can do — and each
//! sentence the issue found wrong, checked as it now reads.

use serde_json::Value;

use crate::common::*;
use crate::exercises::{predict, solved};
use session_lab::exercises::EXERCISES;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    forge_plain_can_be_done_with_the_pages_buttons_alone,
    progress_follows_the_account_into_a_browser_with_no_learner_cookie,
    a_wrong_prediction_is_marked_wrong_and_a_right_one_right,
    the_exercises_come_in_the_lessons_order,
    the_tamper_labs_copies_do_not_count_and_the_page_says_so,
    two_alike_browsers_are_told_apart_on_your_sessions,
    an_exercise_for_another_mode_names_a_command_that_runs_it,
];

async fn board(b: &Browser<'_>) -> Vec<Value> {
    let res = b.get("/exercises.json").await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json().as_array().cloned().unwrap_or_default()
}

/// A session cookie value with one character in the middle changed.
fn edited(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The student's two steps, each with a button on the exercises page: forge the plain cookie,
/// then flip a character of the sealed one. No cookie is set by the test's own hand.
async fn forge_plain_can_be_done_with_the_pages_buttons_alone(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    // Before the prediction gives a plain cookie there is nothing to forge.
    let res = b
        .post("/exercises/forge-plain/forge", &[("user", "1")])
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains("nothing to forge"), "{}", res.body);
    predict(&b, "forge-plain", 2).await;
    let page = b.get("/exercises").await;
    assert!(page
        .body
        .contains("action=\"/exercises/forge-plain/forge\""));
    assert!(page
        .body
        .contains("Flip one character of my session cookie"));
    for bad in ["", "admin", "0", "-3", "99999999999999999999"] {
        let res = b
            .post("/exercises/forge-plain/forge", &[("user", bad)])
            .await;
        assert_eq!(res.status, 422, "{bad:?}: {}", res.body);
        assert!(res.body.contains("is not a user id"), "{}", res.body);
    }
    let res = b
        .post("/exercises/forge-plain/forge", &[("user", "1")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let line = res.set_cookie("exercise_plain").expect("the forged cookie");
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax"),
        "{line}"
    );
    let back = res.location().expect("back to the exercise");
    assert_eq!(back, "/exercises?did=forge&id=forge-plain#forge-plain");
    let page = b.get("/exercises?did=forge&id=forge-plain").await;
    assert!(
        page.body.contains("take you for <strong>user 1</strong>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("rewrote your plain cookie as a forger would"));
    assert!(
        !solved(&b, "forge-plain").await,
        "the sealed half is still to do"
    );
    // The sealed half, with the button too.
    b.post("/color", &[("color", "red")]).await;
    let res = b.post("/session/cookie", &[("action", "flip")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = b.get("/color").await;
    assert!(
        res.header("Progress-Trace")
            .unwrap_or("")
            .contains("solved=forge-plain"),
        "{:?}",
        res.header("Progress-Trace")
    );
}

/// "Clear site data" takes the learner cookie with the session; logging in again brings the
/// account's progress back.
async fn progress_follows_the_account_into_a_browser_with_no_learner_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let first = app.browser();
    predict(&first, "first-value", 0).await;
    first.post("/color", &[("color", "red")]).await;
    assert!(solved(&first, "first-value").await);
    signup(&first, "alice", PW).await;
    // A browser with nothing: site data cleared, or another machine.
    let cleared = app.browser();
    assert!(!solved(&cleared, "first-value").await);
    let res = login(&cleared, "alice", PW).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(
        res.set_cookie("learner").is_some(),
        "the login hands back the account's learner"
    );
    assert!(solved(&cleared, "first-value").await);
    let home = cleared.get("/").await;
    let doable = if mode == Mode::Server { 10 } else { 9 };
    assert!(
        home.body.contains(&format!("1 of {doable} exercises")),
        "{}",
        home.body
    );
    // Still one learner for the account: nothing was copied.
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 1);
    // A login by an account that has no learner yet makes none.
    let bob = app.browser();
    signup(&bob, "bob", PW).await;
    bob.post("/logout", &[]).await;
    let res = login(&bob, "bob", PW).await;
    assert!(res.set_cookie("learner").is_none());
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 1);
}

async fn a_wrong_prediction_is_marked_wrong_and_a_right_one_right(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    // first-value: server mode runs one INSERT (choice 1), cookie mode none (choice 0).
    let wrong = if mode == Mode::Server { 0 } else { 1 };
    predict(&b, "first-value", wrong).await;
    predict(&b, "tamper", 1).await;
    let json = board(&b).await;
    let entry = |id: &str| json.iter().find(|e| e["id"] == id).cloned().unwrap();
    assert_eq!(
        entry("first-value")["prediction"]["right"],
        Value::Null,
        "not said before it is solved"
    );
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().expect("a session cookie");
    b.set_session_cookie(&edited(&value));
    b.get("/color").await;
    let page = b.get("/exercises").await;
    let section = |id: &str| -> String {
        page.body
            .split(&format!("id=\"{id}\""))
            .nth(1)
            .and_then(|s| s.split("</section>").next())
            .unwrap_or("")
            .to_string()
    };
    let first = section("first-value");
    assert!(first.contains("class=\"verdict wrong\""), "{first}");
    assert!(first.contains("Your prediction was wrong"), "{first}");
    let tamper = section("tamper");
    assert!(tamper.contains("class=\"verdict right\""), "{tamper}");
    assert!(tamper.contains("You predicted right"), "{tamper}");
    let json = board(&b).await;
    let entry = |id: &str| json.iter().find(|e| e["id"] == id).cloned().unwrap();
    assert_eq!(entry("first-value")["prediction"]["right"], false);
    assert_eq!(entry("tamper")["prediction"]["right"], true);
}

/// The home page's lessons and the exercises' order agree, on the page and in the JSON.
async fn the_exercises_come_in_the_lessons_order(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let home = b.get("/").await;
    let lesson_at = |lesson: &str| {
        let link = format!(">{lesson}</a>");
        home.body
            .split("<h2>Lessons</h2>")
            .nth(1)
            .and_then(|list| list.find(&link))
            .unwrap_or_else(|| panic!("{lesson} is not among the home page's lessons"))
    };
    let ids: Vec<String> = board(&b)
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap_or("").to_string())
        .collect();
    let places: Vec<usize> = ids
        .iter()
        .map(|id| {
            let e = EXERCISES.iter().find(|e| e.id.as_str() == id).unwrap();
            lesson_at(e.lesson)
        })
        .collect();
    assert!(places.windows(2).all(|w| w[0] <= w[1]), "{ids:?}");
    assert_eq!(ids.first().map(String::as_str), Some("first-value"));
    // The page lists them in the same order.
    let page = b.get("/exercises").await;
    let on_page: Vec<usize> = ids
        .iter()
        .map(|id| {
            page.body
                .find(&format!("id=\"{id}\" aria-labelledby"))
                .unwrap_or_else(|| panic!("{id} is not on the page"))
        })
        .collect();
    assert!(on_page.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

async fn the_tamper_labs_copies_do_not_count_and_the_page_says_so(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "tamper", 1).await;
    b.post("/color", &[("color", "red")]).await;
    let page = b.get("/labs/tamper").await;
    assert!(
        page.body.contains("your browser's own cookie"),
        "{}",
        page.body
    );
    assert!(page.body.contains("is not touched, so it does not count"));
    // It says the plain cookie it does issue.
    assert!(page.body.contains("The only plain cookie it issues is"));
    assert!(!page.body.contains("never issues or trusts such cookies"));
    assert!(!page.body.contains("Change one bit of it and send it"));
    let res = b.post("/labs/tamper/flip", &[("index", "20")]).await;
    assert!(res.status < 400, "{}", res.body);
    b.get("/color").await;
    assert!(
        !solved(&b, "tamper").await,
        "the lab's copies are not the cookie"
    );
    assert!(page.body.contains("id=\"flip-mine\""));
    let res = b.post("/session/cookie", &[("action", "flip")]).await;
    assert_eq!(res.status, 303);
    b.get("/color").await;
    assert!(solved(&b, "tamper").await);
}

async fn two_alike_browsers_are_told_apart_on_your_sessions(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let one = app.browser();
    let two = app.browser();
    signup(&one, "alice", PW).await;
    login(&two, "alice", PW).await;
    let label_of_this = |body: &str| -> Option<String> {
        let row = body
            .split("<tr>")
            .find(|row| row.contains("<strong>(this one)</strong>"))?;
        let code = row.split("<code>").nth(1)?;
        Some(code.split("</code>").next()?.to_string())
    };
    let page_one = one.get("/account/sessions").await;
    let page_two = two.get("/account/sessions").await;
    if !ends_sessions_through_an_index(mode) {
        assert!(label_of_this(&page_one.body).is_none());
        return;
    }
    let a = label_of_this(&page_one.body).expect("this browser's row, labelled");
    let b = label_of_this(&page_two.body).expect("this browser's row, labelled");
    assert_ne!(a, b, "two rows that look alike have different labels");
    assert!(a.starts_with('#') && a.len() == 7, "{a}");
    // Each page lists both labels, and marks its own.
    assert!(page_one.body.contains(&format!("<code>{b}</code>")));
    assert!(page_two.body.contains(&format!("<code>{a}</code>")));
}

/// Each mode's score counts what it can do, and says how many need another mode.
#[rocket::async_test]
async fn the_score_counts_what_the_mode_can_do() {
    // Twelve in all: server mode cannot overflow a cookie or see its Redis key evicted; cookie
    // mode cannot grow a row, evict a key or dump a store.
    for (mode, other, doable, elsewhere) in [
        (ServerMode, "overflow", 10, 2),
        (CookieMode, "row-grows", 9, 3),
    ] {
        let app = TestApp::spawn(mode).await;
        let b = app.browser();
        let page = b.get("/exercises").await;
        assert!(
            page.body.contains(&format!("0 of {doable}</strong>")),
            "{mode}: {}",
            page.body
        );
        assert!(
            page.body
                .contains(&format!("{elsewhere} more need another mode")),
            "{mode}"
        );
        let home = b.get("/").await;
        assert!(
            home.body.contains(&format!("0 of {doable} exercises")),
            "{mode}"
        );
        assert!(
            board(&b).await.iter().any(|e| e["id"] == other),
            "still listed"
        );
    }
}

/// The sentences the issue found wrong in the exercises, as they now read.
#[test]
fn the_exercises_words_are_true() {
    let find = |id: &str| EXERCISES.iter().find(|e| e.id.as_str() == id).unwrap();
    for e in EXERCISES {
        let all = format!("{} {} {} {}", e.task, e.hints[0], e.hints[1], e.answer);
        // The labs (fast-forward, outage) work in every build, per browser.
        assert!(!all.contains("debug build"), "{}: {all}", e.id);
    }
    // The sixth 500-character note is the one refused (`overflow_is_refused_at_the_sixth_note`).
    assert!(find("overflow").answer.contains("the sixth would pass"));
    assert!(find("outage").task.starts_with("Hold a session first"));
    assert!(find("outage").answer.starts_with("Pick a color;"));
    assert!(find("row-grows").task.contains("Clear notes"));
}

#[rocket::async_test]
async fn overflow_is_refused_at_the_sixth_note() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    let note = "n".repeat(500);
    for i in 1..=5 {
        let res = b.post("/notes", &[("note", &note)]).await;
        assert_eq!(res.status, 303, "note {i}");
    }
    let res = b.post("/notes", &[("note", &note)]).await;
    assert_eq!(res.status, 413, "the sixth");
}

/// A session that already holds notes: the recipe clears them, and the row then grows tenfold.
#[rocket::async_test]
async fn row_grows_works_from_a_session_that_already_holds_notes() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    let long = "n".repeat(500);
    for _ in 0..3 {
        b.post("/notes", &[("note", &long)]).await;
    }
    predict(&b, "row-grows", 1).await;
    // The first write after arming is where it is measured from: already large.
    b.post("/color", &[("color", "red")]).await;
    assert_eq!(b.post("/notes/clear", &[]).await.status, 303);
    let short = "n".repeat(100);
    for _ in 0..4 {
        b.post("/notes", &[("note", &short)]).await;
    }
    assert!(solved(&b, "row-grows").await);
}

/// The outage exercise needs a session: the page says so before the student starts.
#[rocket::async_test]
async fn the_outage_task_says_to_hold_a_session_first() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    predict(&b, "outage", 0).await;
    let page = b.get("/exercises").await;
    assert!(page.body.contains("Hold a session first (pick a color"));
}

/// The guide's sentences the issue found wrong.
#[rocket::async_test]
async fn the_guides_words_about_the_id_and_the_tamper_lab_are_true() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    let page = b.get("/guide/code-and-django").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("never\nreaches the browser"));
    assert!(!page.body.contains("never reaches the browser"));
    assert!(
        page.body
            .contains("The cookie&#x27;s bytes never show the id")
            || page.body.contains("The cookie's bytes never show the id"),
        "{}",
        page.body
    );
    let page = b.get("/guide/devtools").await;
    assert!(!page.body.contains("does the same with one click per byte"));
    assert!(page.body.contains("shows the same on copies"));
}

/// `/compare`'s cookie column: the epoch can end such a session early.
#[rocket::async_test]
async fn compare_says_a_cookie_session_can_be_refused_early() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    let page = b.get("/compare").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("the server cannot end it earlier"));
    assert!(page
        .body
        .contains("the server has nothing to delete, but it can refuse"));
}

/// `/compare`'s "Delete both cookies (as devtools would)" is a deletion by the learner's own
/// hand, so it counts for `delete-cookie` in the mode of the page it was pressed on.
#[rocket::async_test]
async fn compares_delete_both_cookies_counts_for_delete_cookie() {
    let (server, _cookie) = crate::compare::spawn_both(|f| f).await;
    let b = server.browser();
    predict(&b, "delete-cookie", 1).await;
    assert_eq!(
        b.post("/compare/color", &[("color", "navy")]).await.status,
        303
    );
    assert_eq!(b.get("/color").await.status, 200);
    let res = b.post("/compare/forget", &[]).await;
    assert_eq!(res.status, 303);
    b.get("/color").await;
    assert!(solved(&b, "delete-cookie").await);
}

/// An exercise for another mode says how to start a server that has it: `--mode both` runs server
/// and cookie mode, and only `--mode all` runs redis mode too (the evicted exercise said `both`).
async fn an_exercise_for_another_mode_names_a_command_that_runs_it(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let page = app.browser().get("/exercises").await;
    let (mut all, mut both) = (0, 0);
    for section in page.body.split("<section class=\"exercise").skip(1) {
        let Some(at) = section.find("This one is done in ") else {
            continue;
        };
        let modes = section[at..].split(" mode;").next().unwrap_or_default();
        if modes.contains("redis") {
            assert!(
                section.contains("<code>--mode all</code> for all three"),
                "{section}"
            );
            all += 1;
        } else {
            assert!(
                section.contains("<code>--mode both</code> for both"),
                "{section}"
            );
            both += 1;
        }
    }
    assert!(all >= 1, "the evicted exercise is redis mode's alone");
    assert!(both >= 1, "{mode:?} mode has exercises of the other's");
}
