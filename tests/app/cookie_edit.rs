//! `POST /session/cookie` (docs/SPEC.md, "Doing a cookie edit without devtools"): the server
//! deletes or flips this browser's own session cookie as devtools would, says so, and the next
//! request counts for `delete-cookie` and `tamper` exactly as a devtools edit does; without a
//! session cookie it is 409, and an unknown action 422.

use session_lab::settings::Mode;

use crate::common::*;

both_modes![
    the_delete_button_removes_the_cookie_and_counts_for_delete_cookie,
    the_flip_button_sends_one_character_changed_and_counts_for_tamper,
    without_a_session_cookie_there_is_nothing_to_edit,
];

fn solved(b: &serde_json::Value, id: &str) -> bool {
    b.as_array()
        .and_then(|list| list.iter().find(|e| e["id"] == id))
        .is_some_and(|e| e["solved"] == true)
}

async fn the_delete_button_removes_the_cookie_and_counts_for_delete_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b
        .post("/exercises/delete-cookie/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
    assert_eq!(b.get("/color").await.status, 200);
    let page = b.get("/session").await;
    assert!(page.body.contains("Delete this cookie"), "{}", page.body);
    let (name, _) = app.cookie_names();
    let res = b.post("/session/cookie", &[("action", "delete")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/session"));
    let line = res
        .set_cookie(name)
        .expect("a removal of the session cookie");
    assert!(line.contains("Max-Age=0"), "{line}");
    assert!(b.session_cookie().is_none());
    if mode == Mode::Server {
        assert_eq!(app.session_rows().await, 1, "nothing stored was touched");
    }
    let page = b.get("/session").await;
    assert!(
        page.body.contains("to delete ") && page.body.contains("nothing stored was touched"),
        "{}",
        page.body
    );
    let board = b.get("/exercises.json").await.json();
    assert!(solved(&board, "delete-cookie"), "{board}");
}

async fn the_flip_button_sends_one_character_changed_and_counts_for_tamper(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b
        .post("/exercises/tamper/predict", &[("choice", "0")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
    let before = b.session_cookie().expect("a session cookie");
    let (name, _) = app.cookie_names();
    let res = b.post("/session/cookie", &[("action", "flip")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let line = res.set_cookie(name).expect("the edited cookie");
    assert!(
        line.contains("HttpOnly") && line.contains("Path=/"),
        "{line}"
    );
    let after = b.session_cookie().expect("still a session cookie");
    assert_eq!(after.len(), before.len());
    let differ = before
        .chars()
        .zip(after.chars())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differ, 1, "{before} / {after}");
    let seen = b.get("/session.json").await.json();
    assert_eq!(seen["refused"], "undecryptable", "{seen}");
    let board = b.get("/exercises.json").await.json();
    assert!(solved(&board, "tamper"), "{board}");
}

async fn without_a_session_cookie_there_is_nothing_to_edit(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for action in ["delete", "flip"] {
        let res = b.post("/session/cookie", &[("action", action)]).await;
        assert_eq!(res.status, 409, "{}", res.body);
        assert!(res.body.contains("nothing to edit"), "{}", res.body);
    }
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
    let res = b.post("/session/cookie", &[("action", "shred")]).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body.contains("not an edit this page makes"),
        "{}",
        res.body
    );
    assert!(b.session_cookie().is_some(), "nothing changed");
}
