//! An account holds at most `max_sessions_per_account` live sessions where the store keeps them
//! (server mode): a login past it ends the oldest first, as Spring Security's `maximumSessions`;
//! "Your sessions" says so, and in cookie mode says why a cookie store cannot count them.

use session_lab::settings::Mode;

use crate::common::*;

const PW: &str = "correct horse battery";

#[rocket::async_test]
async fn an_account_holds_at_most_its_sessions_the_oldest_ended_first() {
    let app = TestApp::spawn_with_manual_clock(Mode::Server, |f| {
        f.merge(("max_sessions_per_account", 2))
    })
    .await;
    let setup = app.browser();
    assert_eq!(signup(&setup, "alice", PW).await.status, 303);
    setup.post("/logout", &[]).await;
    let browsers: Vec<Browser<'_>> = (0..4).map(|_| app.browser()).collect();
    for b in &browsers {
        assert_eq!(login(b, "alice", PW).await.status, 303);
        app.clock().advance(60);
    }
    let alices = "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id \
                  WHERE u.username = 'alice'";
    assert_eq!(app.count(alices).await, 2);
    // The two oldest were ended at the third and fourth logins: those browsers are logged out.
    for (i, b) in browsers.iter().enumerate() {
        let res = b.get("/account").await;
        let expected = if i < 2 { 303 } else { 200 };
        assert_eq!(res.status, expected, "browser {i}: {}", res.body);
    }
    // Logging in again from a browser that holds one of the two replaces it: nobody else goes.
    assert_eq!(login(&browsers[3], "alice", PW).await.status, 303);
    assert_eq!(browsers[2].get("/account").await.status, 200);
    assert_eq!(app.count(alices).await, 2);
    let page = browsers[3].get("/account/sessions").await;
    assert!(
        page.body
            .contains("An account keeps at most <strong>2</strong> sessions"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("ends your oldest one first"),
        "{}",
        page.body
    );
}

#[rocket::async_test]
async fn in_cookie_mode_your_sessions_says_a_cookie_store_cannot_count_them() {
    let app = TestApp::spawn_with_manual_clock(Mode::Cookie, |f| {
        f.merge(("max_sessions_per_account", 2))
    })
    .await;
    let setup = app.browser();
    assert_eq!(signup(&setup, "alice", PW).await.status, 303);
    let browsers: Vec<Browser<'_>> = (0..3).map(|_| app.browser()).collect();
    for b in &browsers {
        assert_eq!(login(b, "alice", PW).await.status, 303);
    }
    // Nothing the server keeps can count them: every one still works.
    for b in &browsers {
        assert_eq!(b.get("/account").await.status, 200);
    }
    let page = browsers[0].get("/account/sessions").await;
    assert!(
        page.body
            .contains("Nor can a cookie store count your sessions"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("(2) is enforced only in server mode"),
        "{}",
        page.body
    );
}
