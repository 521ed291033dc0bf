//! The teacher's board, per student and on the class clock: "end their sessions" really ends them
//! (the old cookie is refused), "reset their progress" deletes the rows, both teacher-only and
//! CSRF-checked; the rows' deadlines and orphans are read on the shifted class clock; the outage
//! and shift forms say how many browsers they will reach.

use crate::common::*;
use crate::teacher::{solve_first_value, teacher};
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    ending_one_students_sessions_refuses_their_old_cookie_and_leaves_the_others,
    resetting_one_students_progress_deletes_their_rows_and_nobody_elses,
    the_per_student_actions_are_for_teachers_only_and_need_the_csrf_token,
];

/// Redis keeps each session under its id but no index by account: the epoch ends them.
#[rocket::async_test]
async fn ending_one_students_sessions_in_redis_mode() {
    ending_one_students_sessions_refuses_their_old_cookie_and_leaves_the_others(Mode::Redis).await;
}

/// The id of the account `name`.
async fn user_id(app: &TestApp, name: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    id.to_string()
}

async fn ending_one_students_sessions_refuses_their_old_cookie_and_leaves_the_others(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let (ann, ann_phone, ben) = (app.browser(), app.browser(), app.browser());
    assert_eq!(signup(&ann, "ann", PW).await.status, 303);
    assert_eq!(login(&ann_phone, "ann", PW).await.status, 303);
    assert_eq!(signup(&ben, "ben", PW).await.status, 303);
    // A copy of ann's cookie, as a classmate might hold it.
    let copy = app.browser();
    copy.set_session_cookie(&ann.session_cookie().expect("ann's cookie"));
    assert_eq!(copy.get("/account").await.status, 200);

    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let board = t.get("/teacher").await;
    assert!(
        board.body.contains("End ann's sessions</button>"),
        "{}",
        board.body
    );
    let ann_id = user_id(&app, "ann").await;
    let res = t
        .post("/teacher/student/end-sessions", &[("user", &ann_id)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/teacher"));
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200);
    let ann_rows = "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id \
                    WHERE u.username = 'ann'";
    if stores_rows(mode) {
        assert!(
            page.body
                .contains("Ended the sessions of ann: 2 sessions kept on the server ended"),
            "{}",
            page.body
        );
        assert_eq!(app.count(ann_rows).await, 0);
    } else {
        let said = if mode == Mode::Redis {
            "this store keeps no index of sessions by account, so none could be found to delete"
        } else {
            "cookie mode keeps nothing on the server, so there was nothing to delete"
        };
        assert!(
            page.body
                .contains(&format!("Ended the sessions of ann: {said}")),
            "{}",
            page.body
        );
        assert!(page.body.contains("What a cookie store cannot do"));
    }
    assert!(
        page.body.contains("The session epoch of ann is now 1"),
        "{}",
        page.body
    );
    // Every copy of ann's cookie is refused: the browser, the phone and the classmate's copy.
    for b in [&ann, &ann_phone, &copy] {
        let res = b.get("/account").await;
        assert_eq!(res.status, 303, "ann is logged out");
        assert_eq!(res.location(), Some("/login?next=%2Faccount"));
    }
    // Ben and the teacher are untouched.
    assert_eq!(ben.get("/account").await.status, 200);
    assert_eq!(t.get("/teacher").await.status, 200);
    // Nothing to act on: an unknown account or a teacher's own is 422 and changes nothing.
    let teach_id = user_id(&app, "teach").await;
    for id in ["999999", teach_id.as_str()] {
        let res = t
            .post("/teacher/student/end-sessions", &[("user", id)])
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        assert!(
            res.body.contains("no student account with id"),
            "{}",
            res.body
        );
    }
    assert_eq!(t.get("/teacher").await.status, 200);
}

async fn resetting_one_students_progress_deletes_their_rows_and_nobody_elses(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let (ann, ben, anon) = (app.browser(), app.browser(), app.browser());
    for (b, name) in [(&ann, "ann"), (&ben, "ben")] {
        solve_first_value(b).await;
        assert_eq!(signup(b, name, PW).await.status, 303);
    }
    let res = ann
        .post("/exercises/tamper/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 303);
    solve_first_value(&anon).await;
    let rows_of = |name: &'static str| {
        format!(
            "SELECT count(*) FROM exercise_progress p JOIN learners l ON l.id = p.learner_id \
             JOIN users u ON u.id = l.user_id WHERE u.username = '{name}'"
        )
    };
    assert_eq!(app.count(&rows_of("ann")).await, 2);

    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let ann_id = user_id(&app, "ann").await;
    let res = t
        .post("/teacher/student/reset-progress", &[("user", &ann_id)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = t.get("/teacher").await;
    assert!(
        page.body.contains(
            "Reset the progress of ann: 2 exercise_progress rows deleted (predictions, hints and \
             solves), from 1 learner (browser)"
        ),
        "{}",
        page.body
    );
    assert_eq!(app.count(&rows_of("ann")).await, 0);
    assert_eq!(app.count(&rows_of("ben")).await, 1, "ben's stay");
    assert_eq!(ann.get("/account").await.status, 200, "ann stays logged in");
    let score = ann.get("/exercises").await;
    assert!(
        score.body.contains("<strong id=\"solved-count\">0 of"),
        "{}",
        score.body
    );

    // A learner with no account, by the 8 hex digits the board shows.
    let prefix: String =
        sqlx::query_scalar("SELECT left(id, 8) FROM learners WHERE user_id IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(page
        .body
        .contains(&format!("name=\"learner\" value=\"{prefix}\"")));
    let res = t
        .post("/teacher/student/reset-progress", &[("learner", &prefix)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = t.get("/teacher").await;
    assert!(
        page.body.contains(&format!(
            "Reset the progress of learner {prefix}: 1 exercise_progress row deleted"
        )),
        "{}",
        page.body
    );
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 1);
    // Bad names are 422 and delete nothing.
    for fields in [
        vec![("learner", "zz")],
        vec![("learner", "00000000")],
        vec![],
        vec![("learner", prefix.as_str()), ("user", ann_id.as_str())],
    ] {
        let res = t.post("/teacher/student/reset-progress", &fields).await;
        assert_eq!(res.status, 422, "{fields:?}: {}", res.body);
    }
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 1);
}

async fn the_per_student_actions_are_for_teachers_only_and_need_the_csrf_token(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let ann = app.browser();
    solve_first_value(&ann).await;
    assert_eq!(signup(&ann, "ann", PW).await.status, 303);
    let ann_id = user_id(&app, "ann").await;
    let mallory = app.browser();
    assert_eq!(signup(&mallory, "mallory", PW).await.status, 303);
    for path in [
        "/teacher/student/end-sessions",
        "/teacher/student/reset-progress",
    ] {
        let res = mallory.post(path, &[("user", &ann_id)]).await;
        assert_eq!(res.status, 403, "{path}: {}", res.body);
        assert!(
            res.body.contains("This page is for teachers"),
            "{}",
            res.body
        );
        let res = app.browser().post(path, &[("user", &ann_id)]).await;
        assert_eq!(res.status, 303, "anonymous: to the login page");
        assert!(res.location().is_some_and(|l| l.starts_with("/login")));
    }
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let sessions = app.session_rows().await;
    for path in [
        "/teacher/student/end-sessions",
        "/teacher/student/reset-progress",
    ] {
        let res = t.post_raw(path, &[("user", &ann_id)], &[]).await;
        assert_eq!(res.status, 403, "{path} without its token");
        assert!(res.body.contains("CSRF token"), "{}", res.body);
    }
    assert_eq!(app.session_rows().await, sessions, "nothing ended");
    assert_eq!(app.count("SELECT count(*) FROM exercise_progress").await, 1);
    assert_eq!(ann.get("/account").await.status, 200);
}

#[rocket::async_test]
async fn the_board_reads_deadlines_and_orphans_on_the_shifted_class_clock() {
    let app = TestApp::spawn(ServerMode).await;
    for color in ["red", "teal", "blue"] {
        let b = app.browser();
        assert_eq!(b.post("/color", &[("color", color)]).await.status, 303);
    }
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let page = t.get("/teacher").await;
    assert!(
        page.body.contains("4 rows: 0 orphaned, 0 expired."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("This will reach 3 of 3 browsers</strong>"),
        "{}",
        page.body
    );
    // The 31-minute shift: on the class clock every student's row is past its idle deadline.
    assert_eq!(
        t.post("/teacher/clock", &[("seconds", "1860")])
            .await
            .status,
        303
    );
    let page = t.get("/teacher").await;
    assert!(
        page.body
            .contains("4 rows: 0 orphaned, 3 expired on the class clock."),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("Read on the class clock</strong>, 31 minutes ahead"));
    assert_eq!(
        page.body
            .matches("expired on the class clock: its next request is refused")
            .count(),
        3
    );
    // Who a switch reaches is who is in use now, in real time: the shift moves deadlines only.
    assert!(page
        .body
        .contains("This will reach 3 of 3 browsers</strong>"));
    assert_eq!(t.post("/teacher/clock", &[]).await.status, 303);
    // Ten real minutes of silence (past half the idle window and a quarter): orphans, on either
    // clock; the shift's class clock is the one the board reads.
    app.clock().advance(1800 / 2 + 1800 / 4 + 60);
    let page = t.get("/teacher").await;
    assert!(
        page.body.contains("4 rows: 3 orphaned, 0 expired."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("This will reach 0 of 3 browsers</strong>"),
        "{}",
        page.body
    );
}

#[rocket::async_test]
async fn in_cookie_mode_the_reach_counts_the_learners() {
    let app = TestApp::spawn(CookieMode).await;
    let (busy, idle) = (app.browser(), app.browser());
    solve_first_value(&busy).await;
    assert_eq!(idle.post("/color", &[("color", "red")]).await.status, 303);
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body
            .matches("This will reach about 1 of 1 browsers</strong>\ndoing the exercises")
            .count(),
        2,
        "above the outage and the shift forms: {}",
        page.body
    );
}
