//! The inspector's deadlines in words beside the exact times (`/session.json`), for pages and
//! scripts that show them to a person.

use crate::common::*;

async fn deadlines_in_words(mode: session_lab::settings::Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
    let view = b.get("/session.json").await.json();
    assert_eq!(view["idle_in_words"], "in 30 minutes", "{view}");
    assert_eq!(view["absolute_in_words"], "in 14 days", "{view}");
    assert_eq!(view["issued_in_words"], "just now", "{view}");
    let exact = view["idle_exact"].as_str().expect("idle_exact");
    assert!(exact.ends_with(" UTC") && exact.len() == 23, "{exact}");

    app.clock().advance(20 * 60);
    let view = b.get("/session.json").await.json();
    assert_eq!(view["issued_in_words"], "20 minutes ago", "{view}");
}

both_modes!(deadlines_in_words);
