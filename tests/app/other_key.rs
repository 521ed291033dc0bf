//! A learner cookie sealed with another key (a restart with a new key, another server) is said on
//! `/exercises` — the progress is still stored under it — rather than silently replaced.

use crate::common::*;
use crate::teacher::solve_first_value;
use session_lab::settings::Mode;

both_modes![a_learner_cookie_sealed_with_another_key_is_said_on_the_exercises_page];

async fn a_learner_cookie_sealed_with_another_key_is_said_on_the_exercises_page(mode: Mode) {
    let first = TestApp::spawn(mode).await;
    let b = first.browser();
    solve_first_value(&b).await;
    let page = b.get("/exercises").await;
    assert!(!page.body.contains("id=\"learner-unopened\""));
    // The same browser at a server started with another key.
    let other = TestApp::spawn_with(mode, |f| f.merge(("secret_key", vec![9u8; 64]))).await;
    let b2 = other.browser();
    for (name, value) in b.cookies() {
        b2.set_cookie(&name, &value);
    }
    let page = b2.get("/exercises").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Your progress was recorded under\nanother key"),
        "{}",
        page.body
    );
    assert!(page.body.contains("secret_key_fallbacks"));
    // Said, not replaced: the page sends no new learner cookie.
    assert!(page.set_cookie("learner").is_none(), "{:?}", page.headers);
}
