//! The teacher's view: who may open `/teacher`, what it shows of the class (every session row by
//! its handle, never its id; orphans), and the class-wide actions and `session-lab reset`.

use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    anonymous_visitors_go_to_the_login_page_and_students_get_a_403_that_says_why,
    ending_every_session_logs_the_students_out_and_keeps_the_teacher,
    resetting_from_the_page_leaves_teachers_and_nothing_else,
    a_class_wide_clock_shift_ends_idle_sessions_and_stops,
    the_page_shows_each_learners_progress_and_the_account_last_logged_in_from_it,
];

/// Solves `first-value` the way a student does: predict, then store a first value.
pub(crate) async fn solve_first_value(b: &Browser<'_>) {
    let res = b
        .post("/exercises/first-value/predict", &[("choice", "1")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
}

async fn the_page_shows_each_learners_progress_and_the_account_last_logged_in_from_it(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let student = app.browser();
    solve_first_value(&student).await;
    assert_eq!(signup(&student, "ann", PW).await.status, 303);
    let idle = app.browser();
    let res = idle
        .post("/exercises/tamper/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let total = session_lab::exercises::EXERCISES.len();
    let title = session_lab::exercises::EXERCISES
        .iter()
        .find(|e| e.id.as_str() == "first-value")
        .map(|e| e.title)
        .unwrap();
    assert!(
        page.body.contains("<td>ann</td>\n    <td><time"),
        "the progress line names the account: {}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("<td>1/{total}</td>\n    <td>{title}</td>")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("<td>0/{total}</td>")),
        "the learner who only predicted: {}",
        page.body
    );
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 2);
}

/// A teacher account made as `create-user --teacher` makes it, logged in on `b` (shared with the
/// board's and the roles' tests).
pub(crate) async fn teacher(app: &TestApp, b: &Browser<'_>, name: &str) {
    assert_eq!(signup(b, name, PW).await.status, 303);
    sqlx::query("UPDATE users SET is_teacher = true WHERE username = $1")
        .bind(name)
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn anonymous_visitors_go_to_the_login_page_and_students_get_a_403_that_says_why(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let res = app.browser().get("/teacher").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/login?next=%2Fteacher"));
    let student = app.browser();
    assert_eq!(signup(&student, "student", PW).await.status, 303);
    let res = student.get("/teacher").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        res.body.contains("This page is for teachers"),
        "{}",
        res.body
    );
    assert!(res.body.contains("create-user --teacher"), "{}", res.body);
    // A student cannot act on the class either: the reset is refused and nothing is removed.
    let res = student.post("/teacher/reset", &[]).await;
    assert_eq!(res.status, 403);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
}

#[rocket::async_test]
async fn the_page_names_every_row_by_its_handle_and_never_shows_an_id() {
    let app = TestApp::spawn(ServerMode).await;
    let student = app.browser();
    assert_eq!(signup(&student, "student", PW).await.status, 303);
    let anon = app.browser();
    assert_eq!(anon.post("/color", &[("color", "teal")]).await.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.get("/teacher").await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("Cache-Control"), Some("no-store"));
    // The session row, the user and the teacher flag (the login state this page reads), and the
    // class's sessions listed through the session store's index.
    assert_eq!(
        res.trace(),
        "mode=server; load=hit; save=none; queries=4; checked=epoch"
    );
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT id, handle FROM sessions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    for (id, handle) in &rows {
        assert!(res.body.contains(&format!("<td>{handle}</td>")), "{handle}");
        assert!(
            !res.body.contains(id.as_str()),
            "the id {id} is on the page"
        );
    }
    assert!(res.body.contains("<td>student</td>"));
    assert!(res.body.contains("<em>anonymous</em>"));
    assert!(res.body.contains("<strong>yours</strong>"));
    assert!(!res.body.contains("<strong>orphaned</strong>: no request"));
}

#[rocket::async_test]
async fn a_dropped_cookie_leaves_a_row_marked_orphaned_once_it_is_quiet() {
    let app = TestApp::spawn(ServerMode).await;
    let student = app.browser();
    assert_eq!(
        student.post("/color", &[("color", "teal")]).await.status,
        303
    );
    student.delete_cookie(app.cookie_names().0);
    // Half the idle window (when a used row would have been refreshed) plus a quarter of it.
    app.clock().advance(1800 * 3 / 4 + 60);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.get("/teacher").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body
            .matches("<strong>orphaned</strong>: no request for at least 9 minutes")
            .count(),
        1,
        "{}",
        res.body
    );
    assert!(res.body.contains("Orphans</strong> (1 now)"));
    assert!(res.body.contains("a quarter of the idle window"));
}

async fn ending_every_session_logs_the_students_out_and_keeps_the_teacher(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let student = app.browser();
    assert_eq!(signup(&student, "student", PW).await.status, 303);
    let anon = app.browser();
    assert_eq!(anon.post("/color", &[("color", "teal")]).await.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.post("/teacher/end-sessions", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/teacher"));
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("aria-label=\"What just happened\""));
    assert!(page.body.contains("Ended every session but yours"));
    assert!(page
        .body
        .contains("Anonymous cookie-mode sessions cannot be ended"));
    let res = student.get("/account").await;
    assert_eq!(res.status, 303, "the student is logged out");
    assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    if stores_rows(mode) {
        assert!(page
            .body
            .contains("2 server-mode session rows were deleted"));
        assert_eq!(app.session_rows().await, 1, "only the teacher's row stays");
    } else {
        assert!(page
            .body
            .contains("0 server-mode session rows were deleted"));
        assert!(page.body.contains("1 account got a new session epoch"));
    }
}

async fn resetting_from_the_page_leaves_teachers_and_nothing_else(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    for name in ["ann", "ben"] {
        let b = app.browser();
        solve_first_value(&b).await;
        assert_eq!(signup(&b, name, PW).await.status, 303);
    }
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 2);
    sqlx::query("INSERT INTO revoked_sessions (id, expires_at) VALUES ('x', now() + '1 day')")
        .execute(&app.pool)
        .await
        .unwrap();
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.post("/teacher/reset", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("users: 2 non-teacher accounts deleted"),
        "{}",
        page.body
    );
    // The deny-list stays: it may still refuse copies of the teacher's own logged-out sessions,
    // whose epoch the page's reset leaves alone (the command empties it).
    assert!(page
        .body
        .contains("revoked_sessions: 0 deny-list entries deleted"));
    let users: Vec<String> = sqlx::query_scalar("SELECT username FROM users")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, ["teach"]);
    assert_eq!(app.count("SELECT count(*) FROM revoked_sessions").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 0);
    assert!(page.body.contains("exercise_progress: 2 rows deleted"));
    assert!(page
        .body
        .contains("No learner has started the exercises yet."));
    let rows = if stores_rows(mode) { 1 } else { 0 };
    assert_eq!(app.session_rows().await, rows, "the teacher's own row only");
}

#[rocket::async_test]
async fn a_class_action_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn(ServerMode).await;
    assert_eq!(signup(&app.browser(), "ann", PW).await.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.post_raw("/teacher/reset", &[], &[]).await;
    assert_eq!(res.status, 403);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
    assert_eq!(app.session_rows().await, 2);
}

async fn a_class_wide_clock_shift_ends_idle_sessions_and_stops(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let anon = app.browser();
    assert_eq!(anon.post("/color", &[("color", "teal")]).await.status, 303);
    let away = app.browser();
    assert_eq!(away.post("/color", &[("color", "red")]).await.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let stored = "SELECT count(*) FROM sessions WHERE expires_at < now() + interval '31 minutes'";
    let before = app.count(stored).await;
    let res = t.post("/teacher/clock", &[("seconds", "1860")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(
        !res.set_cookies().iter().any(|c| c.contains("lab=")),
        "the class's shift is never sealed into the teacher's lab cookie"
    );
    let page = t.get("/teacher").await;
    assert_eq!(
        page.status, 200,
        "the teacher's own session outlives the shift: /teacher reads real time"
    );
    assert!(page
        .body
        .contains("Every browser's clock runs 31 minutes ahead"));
    let seen = anon.get("/session.json").await.json();
    assert_eq!(seen["refused"], "expired-idle", "{seen}");
    // Only deadline checks moved: no stored deadline was pushed by the shift.
    assert_eq!(app.count(stored).await, before);
    // Only the offered shifts: anything else is 422 and changes nothing.
    let res = t.post("/teacher/clock", &[("seconds", "5")]).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("Nothing changed"));
    let res = t.post("/teacher/clock", &[]).await;
    assert_eq!(res.status, 303);
    let page = t.get("/teacher").await;
    assert!(page.body.contains("The class-wide clock shift is over"));
    assert!(!page.body.contains("Every browser's clock runs"));
    // A browser that stayed away during the shift finds its session as it left it.
    let seen = away.get("/session.json").await.json();
    assert_eq!(seen["refused"], serde_json::Value::Null, "{seen}");
    assert!(seen.to_string().contains("red"), "{seen}");
}

#[rocket::async_test]
async fn a_class_wide_outage_cuts_every_browser_but_the_teachers_page_off_until_it_ends() {
    let app = TestApp::spawn(ServerMode).await;
    let student = app.browser();
    assert_eq!(signup(&student, "ann", PW).await.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.post("/teacher/outage", &[("seconds", "7")]).await;
    assert_eq!(res.status, 422, "only the offered lengths");
    let res = t.post("/teacher/outage", &[("seconds", "60")]).await;
    assert_eq!(res.status, 303);
    let cut = student.get("/account").await;
    assert_eq!(cut.status, 503);
    assert!(
        cut.body
            .contains("Your teacher has cut the database off for the whole class"),
        "{}",
        cut.body
    );
    assert_eq!(app.browser().get("/healthz").await.status, 503);
    assert_eq!(
        t.get("/account").await.status,
        503,
        "the teacher's other pages too"
    );
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200, "but not /teacher itself");
    assert!(page.body.contains("End the outage now"));
    // "End the outage now" works, since /teacher can reach the database.
    assert_eq!(t.post("/teacher/outage", &[]).await.status, 303);
    assert_eq!(student.get("/account").await.status, 200);
    // Started again, it ends by itself once its minute has passed.
    assert_eq!(
        t.post("/teacher/outage", &[("seconds", "60")]).await.status,
        303
    );
    assert_eq!(student.get("/account").await.status, 503);
    app.clock().advance(61);
    assert_eq!(student.get("/account").await.status, 200);
}

/// `session-lab` run as a process against the test's database.
fn run(app: &TestApp, args: &[&str], input: Option<&str>) -> (Option<i32>, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_session-lab"))
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[rocket::async_test]
async fn the_reset_command_asks_for_yes_and_leaves_a_clean_class_with_its_teachers() {
    let app = TestApp::spawn(ServerMode).await;
    let (code, out) = run(
        &app,
        &["create-user", "--teacher", "Teach"],
        Some(&format!("{PW}\n")),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("created teacher teach"), "{out}");
    for name in ["ann", "ben", "cat"] {
        assert_eq!(signup(&app.browser(), name, PW).await.status, 303);
    }
    let anon = app.browser();
    solve_first_value(&anon).await;

    let (code, out) = run(&app, &["reset"], None);
    assert_eq!(code, Some(2), "no terminal and no --yes: {out}");
    assert!(out.contains("--yes"), "{out}");
    assert_eq!(app.count("SELECT count(*) FROM users").await, 4);

    let (code, out) = run(&app, &["reset", "--yes"], None);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("sessions: 4 rows deleted"), "{out}");
    assert!(
        out.contains("users: 3 non-teacher accounts deleted"),
        "{out}"
    );
    assert!(out.contains("teachers kept: 1"), "{out}");
    assert!(out.contains("exercise_progress: 1 rows deleted"), "{out}");
    assert!(out.contains("learners: 1 rows deleted"), "{out}");
    assert_eq!(app.session_rows().await, 0);
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 0);
    let users: Vec<String> = sqlx::query_scalar("SELECT username FROM users")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, ["teach"]);

    // The teacher made by the command logs in and has the page; the signup form made no teacher.
    let t = app.browser();
    assert_eq!(login(&t, "teach", PW).await.status, 303);
    assert_eq!(t.get("/teacher").await.status, 200);
    let s = app.browser();
    assert_eq!(signup(&s, "dan", PW).await.status, 303);
    assert_eq!(s.get("/teacher").await.status, 403);
}

#[rocket::async_test]
async fn with_mode_both_one_class_wide_outage_reaches_both_apps() {
    let (server, cookie) = crate::compare::spawn_both(|f| f).await;
    let t = server.browser();
    teacher(&server, &t, "teach").await;
    let mut student = server.browser();
    assert_eq!(
        student
            .post("/compare/color", &[("color", "red")])
            .await
            .status,
        303
    );
    assert_eq!(
        t.post("/teacher/outage", &[("seconds", "60")]).await.status,
        303
    );
    // The same browser on the cookie-mode port: cut off too, by the one class-wide switch.
    student.app = &cookie;
    student.forget_csrf();
    assert_eq!(student.get("/healthz").await.status, 503);
    let compare = student.get("/compare").await;
    assert_eq!(
        compare.status, 200,
        "cookie mode still serves its own column"
    );
    assert!(
        compare
            .body
            .contains("the teacher&#x27;s class-wide outage has cut every browser off"),
        "{}",
        compare.body
    );
    assert_eq!(t.post("/teacher/outage", &[]).await.status, 303);
    assert_eq!(student.get("/healthz").await.status, 200);
}
