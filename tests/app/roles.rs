//! Accounts and roles checked at the source (issue 22): teacher pages accept only a session the
//! server can end — a copy of the teacher's cookie taken before logout opens no teacher page after
//! it, in either mode — and a logout deletes the row whatever the class clock says.

use session_lab::settings::Mode;

use crate::common::*;
use crate::teacher::teacher;

const PW: &str = "correct horse battery";

both_modes![a_copy_of_the_teachers_cookie_taken_before_logout_opens_no_teacher_page_after_it];

async fn a_copy_of_the_teachers_cookie_taken_before_logout_opens_no_teacher_page_after_it(
    mode: Mode,
) {
    // The default revocation in cookie mode, `epoch`: the case issue 22 found open.
    let app = TestApp::spawn(mode).await;
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    assert_eq!(t.get("/teacher").await.status, 200);
    // A classmate on the room's plain http copies the cookie.
    let copy = app.browser();
    copy.set_session_cookie(&t.session_cookie().expect("a session cookie"));
    assert_eq!(
        copy.get("/teacher").await.status,
        200,
        "the copy works before"
    );
    let res = t.post("/logout", &[]).await;
    assert_eq!(res.status, 303);
    let res = copy.get("/teacher").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/login?next=%2Fteacher"));
    // Nor can it act on the class.
    let res = copy.post("/teacher/outage", &[("cut", "true")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(
        res.location().is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        res.location()
    );
    let seen = app.browser().get("/session.json").await;
    assert_eq!(seen.status, 200, "no class outage was started");
    if mode == Mode::Cookie {
        // The epoch moved, and only the teacher's.
        let epoch = app
            .count("SELECT session_epoch::bigint FROM users WHERE username = 'teach'")
            .await;
        assert_eq!(epoch, 1);
    }
    // The teacher logs in again and has the page.
    assert_eq!(login(&t, "teach", PW).await.status, 303);
    assert_eq!(t.get("/teacher").await.status, 200);
}

#[rocket::async_test]
async fn a_students_logout_in_cookie_mode_leaves_the_epoch_alone() {
    let app = TestApp::spawn(Mode::Cookie).await;
    let s = app.browser();
    assert_eq!(signup(&s, "student", PW).await.status, 303);
    let copy = app.browser();
    copy.set_session_cookie(&s.session_cookie().unwrap());
    assert_eq!(s.post("/logout", &[]).await.status, 303);
    // The replay-after-logout lesson stands: a student's copy outlives the logout.
    assert_eq!(copy.get("/account").await.status, 200);
    let epoch = app
        .count("SELECT session_epoch::bigint FROM users WHERE username = 'student'")
        .await;
    assert_eq!(epoch, 0);
}

#[rocket::async_test]
async fn with_no_revocation_in_cookie_mode_the_teacher_pages_are_refused_and_say_why() {
    let app = TestApp::spawn_with(Mode::Cookie, |f| f.merge(("cookie_revocation", "none"))).await;
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let res = t.get("/teacher").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        res.body.contains("need a session the server can end"),
        "{}",
        res.body
    );
    assert!(res.body.contains("Run server mode"), "{}", res.body);
    let res = t.post("/teacher/end-sessions", &[]).await;
    assert_eq!(res.status, 403);
}

#[rocket::async_test]
async fn a_logout_during_a_class_clock_shift_deletes_the_row() {
    let app = TestApp::spawn(Mode::Server).await;
    let student = app.browser();
    assert_eq!(signup(&student, "student", PW).await.status, 303);
    let copy = app.browser();
    copy.set_session_cookie(&student.session_cookie().unwrap());
    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let theirs = "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id \
                  WHERE u.username = 'student'";
    assert_eq!(app.count(theirs).await, 1);
    // The page with the logout button was loaded before the shift (its token is this one).
    student.csrf_token().await;
    // 31 minutes ahead: on the class's clock the student's session has expired.
    let res = t.post("/teacher/clock", &[("seconds", "1860")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = student.post("/logout", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.trace().contains("save=delete"), "{}", res.trace());
    assert_eq!(app.count(theirs).await, 0, "the row is gone");
    // The shift ends: the copy taken before the logout finds nothing.
    assert_eq!(t.post("/teacher/clock", &[]).await.status, 303);
    let seen = copy.get("/session.json").await.json();
    assert_eq!(seen["refused"], "unknown", "{seen}");
    assert_eq!(copy.get("/account").await.status, 303);
}
