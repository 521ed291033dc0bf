//! The exercises (issue 17): each solved the way a student does it — real cookies stored,
//! edited, replayed and deleted — in each mode where it applies; progress that survives the
//! lessons and a restart; forged learner cookies that change nothing; and `Session-Trace` figures
//! that progress never touches.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::local::asynchronous::Client;
use serde_json::Value;

use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    first_value_is_solved_by_the_write_that_creates_the_session,
    delete_cookie_is_solved_by_a_request_without_the_cookie_held,
    a_logout_removing_the_cookie_does_not_count_as_deleting_it,
    tamper_is_solved_by_an_edited_session_cookie,
    replay_after_logout_is_solved_by_the_copy_put_back,
    end_elsewhere_is_solved_when_a_second_browser_ends_this_session,
    expire_is_solved_by_the_fast_forward_past_the_idle_deadline,
    outage_is_solved_with_the_switch_on_and_stored_at_once,
    forge_plain_is_solved_by_a_forged_plain_cookie_and_a_refused_sealed_one,
    progress_survives_a_deleted_session_cookie_logout_and_a_restart,
    a_forged_or_tampered_learner_cookie_is_ignored,
    session_trace_is_the_same_with_and_without_progress_work,
    predicting_creates_no_session_and_a_visitor_without_learner_cookie_pays_nothing,
    the_learner_cookie_is_sealed_httponly_lax_and_long_lived,
    wrong_predictions_are_refused_with_a_page_that_says_why,
    hints_come_one_at_a_time_and_the_answer_after_the_second,
    once_solved_the_page_shows_the_prediction_beside_what_happened,
];

/// Answers `id`'s prediction with choice `choice`.
pub(crate) async fn predict(b: &Browser<'_>, id: &str, choice: usize) -> Res {
    let res = b
        .post(
            &format!("/exercises/{id}/predict"),
            &[("choice", &choice.to_string())],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.location(),
        Some(format!("/exercises?did=predict&id={id}#{id}").as_str())
    );
    res
}

/// `/exercises.json`'s entry for `id`.
async fn entry(b: &Browser<'_>, id: &str) -> Value {
    let res = b.get("/exercises.json").await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id}"))
}

pub(crate) async fn solved(b: &Browser<'_>, id: &str) -> bool {
    entry(b, id).await["solved"] == true
}

/// What the database holds as the evidence of `id`'s solve in the app's mode.
async fn evidence(app: &TestApp, id: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT evidence FROM exercise_progress \
         WHERE exercise_id = $1 AND mode = $2 AND solved_at IS NOT NULL",
    )
    .bind(id)
    .bind(app.mode.as_str())
    .fetch_optional(&app.pool)
    .await
    .expect("progress query")
    .flatten()
}

/// A session cookie value with one character in the middle changed, as by hand in devtools.
fn edited(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// How many exercises a mode can do, as the score counts them (issue 22: server mode cannot
/// overflow a cookie; the third store's `evicted` needs redis mode, its `dump` a store).
fn doable(mode: Mode) -> usize {
    match mode {
        Mode::Server => 10,
        Mode::Cookie => 9,
        Mode::Redis => 2,
    }
}

fn progress_trace(res: &Res) -> &str {
    res.header("Progress-Trace").unwrap_or("")
}

async fn first_value_is_solved_by_the_write_that_creates_the_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "first-value", 1).await;
    assert!(
        !solved(&b, "first-value").await,
        "predicting solves nothing"
    );
    // Looking at pages creates no session, so it solves nothing either.
    let res = b.get("/color").await;
    assert_eq!(progress_trace(&res), "");
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        progress_trace(&res),
        "queries=1; solved=first-value",
        "{:?}",
        res.headers
    );
    assert!(solved(&b, "first-value").await);
    // Solved, so disarmed: a learner's ordinary page costs progress nothing.
    let res = b.get("/color").await;
    assert_eq!(progress_trace(&res), "");
    assert!(res.set_cookie("learner").is_none());
    let seen = evidence(&app, "first-value").await.expect("stored");
    assert!(seen.contains("POST /color created your session"), "{seen}");
    let queries = match mode {
        Mode::Server => "queries=1",
        Mode::Cookie => "queries=0",
        Mode::Redis => unreachable!("the exercises run in server and cookie mode"),
    };
    assert!(seen.contains(queries), "{seen}");
    let right = match mode {
        Mode::Server => "One: an INSERT",
        Mode::Cookie => "None: the cookie is the write",
        Mode::Redis => unreachable!("the exercises run in server and cookie mode"),
    };
    let page = b.get("/exercises").await;
    match mode {
        Mode::Server => assert!(page.body.contains("You predicted right:"), "{}", page.body),
        Mode::Cookie => {
            assert!(
                page.body.contains("Your prediction was wrong:"),
                "{}",
                page.body
            );
            assert!(
                page.body.contains(&format!("what happens is\n    {right}")),
                "{}",
                page.body
            );
        }
        Mode::Redis => unreachable!("the exercises run in server and cookie mode"),
    }
}

async fn delete_cookie_is_solved_by_a_request_without_the_cookie_held(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "delete-cookie", 1).await;
    b.post("/color", &[("color", "red")]).await;
    b.get("/color").await;
    assert!(!solved(&b, "delete-cookie").await);
    b.delete_cookie(app.cookie_names().0);
    let res = b.get("/color").await;
    assert!(res.trace().contains("load=none"), "{}", res.trace());
    assert!(progress_trace(&res).contains("solved=delete-cookie"));
    assert!(solved(&b, "delete-cookie").await);
}

async fn a_logout_removing_the_cookie_does_not_count_as_deleting_it(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "dora", PW).await;
    predict(&b, "delete-cookie", 1).await;
    b.get("/account").await;
    let res = b.post("/logout", &[]).await;
    assert_eq!(res.status, 303);
    b.get("/color").await;
    assert!(
        !solved(&b, "delete-cookie").await,
        "the server removed that cookie, not the student"
    );
}

async fn tamper_is_solved_by_an_edited_session_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "tamper", 1).await;
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().expect("a session cookie");
    b.set_session_cookie(&edited(&value));
    let res = b.get("/color").await;
    assert!(
        res.trace().contains("refused=undecryptable"),
        "{}",
        res.trace()
    );
    assert_eq!(progress_trace(&res), "queries=1; solved=tamper");
    let seen = evidence(&app, "tamper").await.expect("stored");
    assert!(seen.contains("refused=undecryptable"), "{seen}");
}

#[rocket::async_test]
async fn overflow_is_solved_by_the_413_in_cookie_mode() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    predict(&b, "overflow", 2).await;
    let note = "n".repeat(500);
    let mut last = 0;
    for _ in 0..12 {
        last = b.post("/notes", &[("note", &note)]).await.status;
        if last == 413 {
            break;
        }
    }
    assert_eq!(last, 413);
    assert!(solved(&b, "overflow").await);
    let seen = evidence(&app, "overflow").await.expect("stored");
    assert!(seen.contains("413"), "{seen}");
}

#[rocket::async_test]
async fn row_grows_is_solved_by_ten_times_the_data_under_one_cookie_in_server_mode() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    predict(&b, "row-grows", 1).await;
    b.post("/color", &[("color", "red")]).await;
    let cookie = b.session_cookie().expect("a session cookie");
    let note = "n".repeat(100);
    let mut solved_at = None;
    for i in 0..4 {
        let res = b.post("/notes", &[("note", &note)]).await;
        assert_eq!(res.status, 303);
        if progress_trace(&res).contains("solved=row-grows") {
            solved_at = Some(i);
            break;
        }
    }
    assert!(solved_at.is_some(), "solved within four notes");
    assert_eq!(b.session_cookie(), Some(cookie), "the cookie never changed");
    let seen = evidence(&app, "row-grows").await.expect("stored");
    assert!(seen.contains("while the cookie kept its"), "{seen}");
}

#[rocket::async_test]
async fn mode_specific_exercises_are_refused_in_the_other_mode() {
    for (mode, id) in [(ServerMode, "overflow"), (CookieMode, "row-grows")] {
        let app = TestApp::spawn(mode).await;
        let b = app.browser();
        let res = b
            .post(&format!("/exercises/{id}/predict"), &[("choice", "1")])
            .await;
        assert_eq!(res.status, 422, "{id} in {mode}");
        assert!(res.body.contains("this server runs"), "{}", res.body);
    }
}

async fn replay_after_logout_is_solved_by_the_copy_put_back(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "rosa", PW).await;
    predict(&b, "replay-after-logout", 0).await;
    let copy = b.session_cookie().expect("logged in");
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    b.set_session_cookie(&copy);
    let res = b.get("/account").await;
    let seen = evidence(&app, "replay-after-logout").await.expect("stored");
    match mode {
        Mode::Server => {
            assert!(res.trace().contains("refused=unknown"), "{}", res.trace());
            assert!(seen.contains("refused: unknown"), "{seen}");
        }
        Mode::Cookie => {
            assert_eq!(res.status, 200, "the copy still opens /account");
            assert!(seen.contains("a logged-out cookie still worked"), "{seen}");
        }
        Mode::Redis => unreachable!("the exercises run in server and cookie mode"),
    }
}

async fn end_elsewhere_is_solved_when_a_second_browser_ends_this_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let first = app.browser();
    signup(&first, "elsa", PW).await;
    predict(&first, "end-elsewhere", 1).await;
    assert_eq!(first.get("/account").await.status, 200);
    let second = app.browser();
    match mode {
        Mode::Server => {
            let handle: i64 = sqlx::query_scalar("SELECT handle FROM sessions")
                .fetch_one(&app.pool)
                .await
                .expect("the first browser's row");
            login(&second, "elsa", PW).await;
            let res = second
                .post("/account/sessions/end", &[("handle", &handle.to_string())])
                .await;
            assert_eq!(res.status, 303);
        }
        Mode::Cookie => {
            login(&second, "elsa", PW).await;
            let res = second.post("/account/sessions/end-others", &[]).await;
            assert_eq!(res.status, 303);
        }
        Mode::Redis => unreachable!("the exercises run in server and cookie mode"),
    }
    let res = first.get("/account").await;
    assert_eq!(res.status, 303, "refused, sent to the login page");
    assert!(solved(&first, "end-elsewhere").await, "{}", res.trace());
    // The second browser logged in as the same account, with no learner cookie of its own:
    // the account's progress followed it there (issue 22), so it shows the solve too.
    assert!(solved(&second, "end-elsewhere").await);
}

async fn expire_is_solved_by_the_fast_forward_past_the_idle_deadline(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "expire", 1).await;
    b.post("/color", &[("color", "red")]).await;
    let res = b
        .post("/session/fast-forward", &[("seconds", "1801")])
        .await;
    assert_eq!(res.status, 303);
    let res = b.get("/color").await;
    assert!(
        res.trace().contains("refused=expired-idle"),
        "{}",
        res.trace()
    );
    assert!(solved(&b, "expire").await);
}

/// The outage lab's switch cuts this browser's session off from the database, not its progress
/// (the course's record): the solve is stored at once, while the page itself fails (server mode)
/// or keeps serving (cookie mode).
async fn outage_is_solved_with_the_switch_on_and_stored_at_once(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "outage", if mode == Mode::Server { 1 } else { 0 }).await;
    b.post("/color", &[("color", "red")]).await;
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    let res = b.get("/color").await;
    match mode {
        Mode::Server => assert_eq!(res.status, 503),
        Mode::Cookie => assert_eq!(res.status, 200),
        Mode::Redis => unreachable!("the exercises run in server and cookie mode"),
    }
    assert_eq!(
        progress_trace(&res),
        "queries=1; solved=outage",
        "{:?}",
        res.headers
    );
    let seen = evidence(&app, "outage").await.expect("stored at once");
    assert!(seen.contains("with the database cut off"), "{seen}");
    assert_eq!(
        b.post("/labs/outage", &[("cut", "false")]).await.status,
        303
    );
    assert!(!progress_trace(&b.get("/exercises").await).contains("pending"));
}

async fn forge_plain_is_solved_by_a_forged_plain_cookie_and_a_refused_sealed_one(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = predict(&b, "forge-plain", 2).await;
    let line = res.set_cookie("exercise_plain").expect("the plain cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/"));
    let plain = b.cookie("exercise_plain").expect("kept");
    let json: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&plain).expect("base64url")).unwrap();
    assert_eq!(json["user_id"], 42);
    // Decode, change the user, encode: what anyone can do to a plain cookie.
    let forged = URL_SAFE_NO_PAD.encode(r#"{"user_id":1,"username":"guest"}"#);
    b.set_cookie("exercise_plain", &forged);
    let page = b.get("/exercises").await;
    assert!(
        page.body.contains("take you for <strong>user 1</strong>"),
        "{}",
        page.body
    );
    assert!(
        !solved(&b, "forge-plain").await,
        "the sealed half is still to do"
    );
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().expect("a session cookie");
    b.set_session_cookie(&edited(&value));
    let res = b.get("/color").await;
    assert!(progress_trace(&res).contains("solved=forge-plain"));
    assert!(
        b.cookie("exercise_plain").is_none(),
        "the lab cookie is gone when done"
    );
    let seen = evidence(&app, "forge-plain").await.expect("stored");
    assert!(seen.contains("named user 1"), "{seen}");
}

async fn progress_survives_a_deleted_session_cookie_logout_and_a_restart(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    signup(&b, "pia", PW).await;
    predict(&b, "tamper", 1).await;
    let value = b.session_cookie().expect("logged in");
    b.set_session_cookie(&edited(&value));
    b.get("/color").await;
    assert!(solved(&b, "tamper").await);
    login(&b, "pia", PW).await;
    assert_eq!(
        app.count("SELECT count(*) FROM learners l JOIN users u ON u.id = l.user_id WHERE u.username = 'pia'")
            .await,
        1,
        "the learner notes the account last logged in from its browser"
    );
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    b.delete_cookie(app.cookie_names().0);
    assert!(
        solved(&b, "tamper").await,
        "after logout and a deleted cookie"
    );
    let learner = b.cookie("learner").expect("a learner cookie");
    // A restart: a new app on the same database, with the same key.
    let client = Client::untracked(session_lab::build(test_figment(mode, &app.db_url)))
        .await
        .expect("the app launches again");
    let res = client
        .get("/exercises.json")
        .cookie(rocket::http::Cookie::new("learner", learner))
        .dispatch()
        .await;
    let list: Value = serde_json::from_str(&res.into_string().await.unwrap()).unwrap();
    let tamper = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "tamper")
        .unwrap()
        .clone();
    assert_eq!(tamper["solved"], true);
    assert_eq!(tamper["prediction"]["answered"], true);
}

async fn a_forged_or_tampered_learner_cookie_is_ignored(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let victim = app.browser();
    predict(&victim, "tamper", 1).await;
    let real = victim.cookie("learner").expect("a learner cookie");
    let id: String = sqlx::query_scalar("SELECT id FROM learners")
        .fetch_one(&app.pool)
        .await
        .expect("one learner");
    let attacker = app.browser();
    let forged_plain = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"id":"{id}","armed":{{"tamper@{}":{{}}}}}}"#,
        mode.as_str()
    ));
    for forged in [edited(&real), forged_plain, "junk".to_string()] {
        attacker.set_cookie("learner", &forged);
        attacker.post("/color", &[("color", "red")]).await;
        let value = attacker.session_cookie().expect("a session cookie");
        attacker.set_session_cookie(&edited(&value));
        let res = attacker.get("/color").await;
        assert!(res.trace().contains("refused=undecryptable"));
        assert_eq!(progress_trace(&res), "", "nothing recorded for {forged}");
        assert!(res.set_cookie("learner").is_none());
        attacker.delete_cookie(app.cookie_names().0);
    }
    assert_eq!(
        evidence(&app, "tamper").await,
        None,
        "the victim's progress is untouched"
    );
    assert!(!solved(&attacker, "tamper").await);
}

async fn session_trace_is_the_same_with_and_without_progress_work(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let learner = app.browser();
    let visitor = app.browser();
    signup(&learner, "lena", PW).await;
    signup(&visitor, "vito", PW).await;
    for id in [
        "first-value",
        "tamper",
        "delete-cookie",
        "replay-after-logout",
        "end-elsewhere",
    ] {
        predict(&learner, id, 1).await;
    }
    let with = steps(&learner).await;
    let without = steps(&visitor).await;
    for (w, wo) in with.iter().zip(&without) {
        assert_eq!(w.trace(), wo.trace());
        assert_eq!(progress_trace(wo), "");
    }
    // The learner's requests did progress work (tamper, then first-value), reported apart.
    assert!(progress_trace(&with[2]).contains("solved=tamper"));
    assert!(progress_trace(&with[3]).contains("solved=first-value"));
}

/// The same four requests for any browser: a write, an account page, an edited cookie, a write.
async fn steps(b: &Browser<'_>) -> Vec<Res> {
    let mut traces = vec![];
    traces.push(b.post("/color", &[("color", "red")]).await);
    traces.push(b.get("/account").await);
    let value = b.session_cookie().expect("a session cookie");
    b.set_session_cookie(&edited(&value));
    traces.push(b.get("/color").await);
    traces.push(b.post("/color", &[("color", "blue")]).await);
    traces
}

async fn predicting_creates_no_session_and_a_visitor_without_learner_cookie_pays_nothing(
    mode: Mode,
) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for path in ["/", "/color", "/session", "/exercises"] {
        let res = b.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(res.set_cookie("learner").is_none(), "{path}");
        assert_eq!(progress_trace(&res), "", "{path}");
    }
    let res = predict(&b, "tamper", 1).await;
    assert!(res.set_cookie(app.cookie_names().0).is_none());
    assert_eq!(app.session_rows().await, 0);
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM exercise_progress WHERE prediction = 1")
            .await,
        1
    );
}

async fn the_learner_cookie_is_sealed_httponly_lax_and_long_lived(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = predict(&b, "expire", 1).await;
    let line = res.set_cookie("learner").expect("a learner cookie");
    // 400 days, the most Chrome keeps any cookie.
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=34560000"] {
        assert!(line.contains(attr), "{attr} in {line}");
    }
    assert!(!line.contains("Expires="), "one lifetime, not two: {line}");
    let value = b.cookie("learner").unwrap();
    assert!(!value.contains("expire"), "sealed, not readable: {value}");
}

async fn wrong_predictions_are_refused_with_a_page_that_says_why(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b
        .post("/exercises/no-such/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 404);
    assert!(res.body.contains("no exercise called"), "{}", res.body);
    for choice in ["7", "x", ""] {
        let res = b
            .post("/exercises/tamper/predict", &[("choice", choice)])
            .await;
        assert_eq!(res.status, 422, "{choice:?}");
        assert!(res.body.contains("not one of the choices"), "{}", res.body);
    }
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 0);
}

async fn hints_come_one_at_a_time_and_the_answer_after_the_second(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let page = b.get("/exercises").await;
    assert!(!page.body.contains("Hint 1:"));
    // Predict first: before it, no hint form, and a posted one is refused with the reason.
    assert!(!page.body.contains("action=\"/exercises/tamper/hint\""));
    let refused = b.post("/exercises/tamper/hint", &[]).await;
    assert_eq!(refused.status, 409);
    assert!(refused
        .body
        .contains("open once your prediction is recorded"));
    // A handler's 409 says its own reason under a title that fits it.
    assert!(
        refused.body.contains("Not possible yet"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("Your session ended meanwhile"));
    predict(&b, "tamper", 1).await;
    let page = b.get("/exercises").await;
    assert!(page.body.contains("action=\"/exercises/tamper/hint\""));
    assert_eq!(b.post("/exercises/tamper/hint", &[]).await.status, 303);
    let page = b.get("/exercises").await;
    assert!(page.body.contains("Hint 1:"));
    assert!(!page.body.contains("The answer:"), "one hint is no answer");
    b.post("/exercises/tamper/hint", &[]).await;
    let page = b.get("/exercises").await;
    assert!(page.body.contains("Hint 2:") && page.body.contains("The answer:"));
}

async fn once_solved_the_page_shows_the_prediction_beside_what_happened(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    predict(&b, "tamper", 0).await;
    let page = b.get("/exercises?did=predict&id=expire").await;
    assert!(
        !page.body.contains("is recorded, and the exercise is armed"),
        "a link cannot claim a prediction that was not made"
    );
    let page = b.get("/exercises?did=predict&id=tamper").await;
    assert!(page.body.contains("aria-label=\"What just happened\""));
    assert!(page.body.contains("Now do it:"));
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().unwrap();
    b.set_session_cookie(&edited(&value));
    b.get("/color").await;
    let page = b.get("/exercises").await;
    assert!(page.body.contains("<p class=\"verdict wrong\">"));
    assert!(page.body.contains(
        "Your prediction was wrong:</strong> you said “The server reads a slightly different session"
    ));
    assert!(page
        .body
        .contains("what happens is\n    The server refuses the cookie"));
    assert!(page
        .body
        .contains("What happened:</strong> GET &#x2F;color carried your edited cookie"));
    assert!(
        page.body
            .contains("Compare the modes in your browser&#x27;s devtools")
            || page
                .body
                .contains("Compare the modes in your browser's devtools")
    );
    let home = b.get("/").await;
    assert!(home.body.contains("aria-label=\"Score board\""));
    assert!(
        home.body
            .contains(&format!("1 of {} exercises", doable(mode))),
        "{}",
        home.body
    );
    let json = entry(&b, "tamper").await;
    assert_eq!(json["prediction"]["answered"], true);
    assert_eq!(json["prediction"]["choice"], 0);
    assert_eq!(json["modes"], serde_json::json!(["server", "cookie"]));
}

#[rocket::async_test]
async fn under_mode_both_a_solve_on_either_port_counts_once() {
    let (server, cookie) = crate::compare::spawn_both(|f| f).await;
    let mut b = server.browser();
    predict(&b, "tamper", 1).await;
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().unwrap();
    b.set_session_cookie(&edited(&value));
    assert!(progress_trace(&b.get("/color").await).contains("solved=tamper"));
    // The same browser on the other port: one learner cookie, cookies ignore ports.
    b.app = &cookie;
    b.forget_csrf();
    let tamper = entry(&b, "tamper").await;
    assert_eq!(tamper["solved"], true);
    assert_eq!(tamper["solved_in"], serde_json::json!(["server"]));
    assert_eq!(tamper["prediction"]["answered"], false, "cookie mode's own");
    predict(&b, "tamper", 1).await;
    b.post("/color", &[("color", "blue")]).await;
    let value = b.session_cookie().unwrap();
    b.set_session_cookie(&edited(&value));
    assert!(progress_trace(&b.get("/color").await).contains("solved=tamper"));
    let tamper = entry(&b, "tamper").await;
    assert_eq!(tamper["solved_in"], serde_json::json!(["server", "cookie"]));
    for app in [&server, &cookie] {
        b.app = app;
        let home = b.get("/").await;
        assert!(
            home.body
                .contains(&format!("1 of {} exercises", doable(app.mode))),
            "{}",
            app.mode
        );
    }
    assert_eq!(server.count("SELECT count(*) FROM learners").await, 1);
    drop(cookie);
}

#[rocket::async_test]
async fn cookie_mode_without_the_database_keeps_progress_in_the_learner_cookie() {
    // A real outage (the outage lab's switch cuts only the session, not progress): the app
    // reaches PostgreSQL through a relay the test cuts and restores.
    let proxy = crate::common::proxy::Proxy::start().await;
    let app = TestApp::spawn_behind(CookieMode, &proxy, |f| {
        f.merge(("databases.session_lab.connect_timeout", 1))
    })
    .await;
    let b = app.browser();
    b.get("/color").await;
    // The database goes away before this browser is even a learner.
    proxy.cut();
    predict(&b, "tamper", 1).await;
    assert_eq!(b.post("/exercises/tamper/hint", &[]).await.status, 303);
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().unwrap();
    b.set_session_cookie(&edited(&value));
    let res = b.get("/color").await;
    assert_eq!(res.status, 200, "the lessons go on");
    // One statement was tried and failed (the relay is cut): the solve waits in the cookie.
    assert_eq!(progress_trace(&res), "queries=1; solved=tamper; pending=3");
    let page = b.get("/exercises").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The database cannot be reached"));
    assert!(page.body.contains("Hint 1:"), "shown from the cookie");
    assert!(solved(&b, "tamper").await);
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 0);
    proxy.restore();
    let page = b.get("/exercises").await;
    assert!(!page.body.contains("The database cannot be reached"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM exercise_progress \
             WHERE prediction = 1 AND hints = 1 AND solved_at IS NOT NULL"
        )
        .await,
        1,
        "all three stored in one row"
    );
}

#[rocket::async_test]
async fn cookie_mode_with_no_database_at_all_still_serves_the_exercises() {
    let figment = test_figment(CookieMode, "postgres://postgres@127.0.0.1:1/nowhere")
        .merge(("databases.session_lab.connect_timeout", 1));
    let client = Client::tracked(session_lab::build(figment))
        .await
        .expect("cookie mode starts without a database");
    let page = client.get("/exercises").dispatch().await;
    assert_eq!(page.status().code, 200);
    let token = extract_csrf(&page.into_string().await.unwrap()).expect("a form");
    let res = client
        .post("/exercises/expire/predict")
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={}&choice=1", urlencode(&token)))
        .dispatch()
        .await;
    assert_eq!(res.status().code, 303);
    let page = client.get("/exercises").dispatch().await;
    assert_eq!(page.status().code, 200);
    let body = page.into_string().await.unwrap();
    assert!(body.contains("The database cannot be reached"), "{body}");
    assert!(body.contains("Now do it:"), "armed from the cookie");
}

#[rocket::async_test]
async fn the_prediction_and_the_solve_on_record_are_the_first_ones() {
    let app = TestApp::spawn(ServerMode).await;
    let b = app.browser();
    predict(&b, "tamper", 2).await;
    predict(&b, "tamper", 0).await;
    b.post("/color", &[("color", "red")]).await;
    let value = b.session_cookie().unwrap();
    b.set_session_cookie(&edited(&value));
    b.get("/color").await;
    let first = evidence(&app, "tamper").await.expect("solved");
    // Asked again after solving, and solved again on another page: the record stays.
    predict(&b, "tamper", 1).await;
    b.post("/color", &[("color", "blue")]).await;
    let value = b.session_cookie().unwrap();
    b.set_session_cookie(&edited(&value));
    b.get("/session").await;
    assert_eq!(evidence(&app, "tamper").await, Some(first));
    assert_eq!(entry(&b, "tamper").await["prediction"]["choice"], 0);
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 1);
}
