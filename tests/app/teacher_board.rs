//! The teacher's board: every learner named by the account logged in from its browser, whatever
//! order the student went in; how many learners solved each exercise; the learners sorted by name.

use crate::common::*;
use crate::teacher::{solve_first_value, teacher};
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    a_student_who_signs_up_first_and_predicts_next_is_named_on_the_board,
    the_board_counts_each_exercise_and_sorts_learners_by_name,
];

async fn a_student_who_signs_up_first_and_predicts_next_is_named_on_the_board(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let student = app.browser();
    assert_eq!(signup(&student, "zoe", PW).await.status, 303);
    // The prediction, then a logged-in request: the learner made by the first is named by the second.
    let res = student
        .post("/exercises/replay-after-logout/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        student.post("/color", &[("color", "teal")]).await.status,
        303
    );
    let row: (Option<String>,) =
        sqlx::query_as("SELECT u.username FROM learners l LEFT JOIN users u ON u.id = l.user_id")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        row.0.as_deref(),
        Some("zoe"),
        "the learner row names the account"
    );

    // Filed once: the next logged-in request of the same account costs progress nothing.
    let again = student.get("/color").await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.header("Progress-Trace"),
        None,
        "no statement for the same account"
    );
    assert!(again
        .header("Set-Cookie")
        .is_none_or(|c| !c.contains("learner=")));

    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<td>zoe</td>\n    <td><time"),
        "the progress line names the account: {}",
        page.body
    );
    assert!(!page.body.contains("<em>none</em>"), "{}", page.body);
}

async fn the_board_counts_each_exercise_and_sorts_learners_by_name(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let bob = app.browser();
    assert_eq!(signup(&bob, "bob", PW).await.status, 303);
    let res = bob
        .post("/exercises/tamper/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 303);
    // The page the prediction lands on is a logged-in request: it names bob's learner.
    assert_eq!(bob.get("/exercises").await.status, 200);
    let zoe = app.browser();
    // Solved anonymously (a first session), then named by signing up.
    solve_first_value(&zoe).await;
    assert_eq!(signup(&zoe, "zoe", PW).await.status, 303);

    let t = app.browser();
    teacher(&app, &t, "teach").await;
    let page = t.get("/teacher").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let title = |id: &str| {
        session_lab::exercises::EXERCISES
            .iter()
            .find(|e| e.id.as_str() == id)
            .map(|e| e.title)
            .unwrap()
    };
    assert!(
        page.body.contains(&format!(
            "<tr><td>{}</td><td>1 of 2 learners</td></tr>",
            title("first-value")
        )),
        "first-value solved by one of two: {}",
        page.body
    );
    assert!(
        page.body.contains(&format!(
            "<tr><td>{}</td><td>0 of 2 learners</td></tr>",
            title("tamper")
        )),
        "tamper predicted, not solved: {}",
        page.body
    );
    // Bob before zoe in the per-learner table (server mode's sessions table names them too).
    let order = |body: &str| {
        let table = body
            .split("<h3>Per learner</h3>")
            .nth(1)
            .unwrap_or_default();
        let (b, z) = (table.find("<td>bob</td>"), table.find("<td>zoe</td>"));
        assert!(b.is_some() && z.is_some(), "both named: {body}");
        b < z
    };
    assert!(
        !order(&page.body),
        "most recently seen (zoe) first: {}",
        page.body
    );
    assert!(page
        .body
        .contains("<a href=\"/teacher?sort=name\">Sort by account name</a>"));
    let by_name = t.get("/teacher?sort=name").await;
    assert_eq!(by_name.status, 200);
    assert!(
        order(&by_name.body),
        "bob before zoe by name: {}",
        by_name.body
    );
    assert!(by_name.body.contains("Sorted by account name"));
}
