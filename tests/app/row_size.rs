//! The session's size against its mode's limit: server mode's row (`row.bytes` against
//! `session_max_bytes`), cookie mode's cookie (against 4096), and the warning before the 413.

use crate::common::*;

/// The notes page's figure: "Your session now: <strong>N of L bytes</strong>".
fn shown_usage(body: &str) -> Option<(usize, usize)> {
    let rest = body.split("Your session now: <strong>").nth(1)?;
    let figures = rest.split(" bytes</strong>").next()?;
    let (n, l) = figures.split_once(" of ")?;
    Some((n.parse().ok()?, l.parse().ok()?))
}

#[rocket::async_test]
async fn server_mode_gives_the_row_size_and_warns_past_nine_tenths_before_the_413() {
    let app = TestApp::spawn_with(ServerMode, |f| f.merge(("session_max_bytes", 400))).await;
    let b = app.browser();
    let note = "n".repeat(50);
    let mut sizes = Vec::new();
    let refused = loop {
        let res = b.post("/notes", &[("note", &note)]).await;
        if res.status != 303 {
            break res;
        }
        let json = b.get("/session.json").await.json();
        assert_eq!(json["limit_bytes"], 400);
        let bytes = json["row"]["bytes"].as_u64().expect("row.bytes") as usize;
        // Measured as the map in compact JSON: the measure the 413 is decided by.
        let compact = serde_json::to_vec(&json["data"]).expect("json").len();
        assert_eq!(bytes, compact);
        let page = b.get("/notes").await;
        assert_eq!(shown_usage(&page.body), Some((bytes, 400)));
        assert_eq!(
            page.body.contains("Nearly full"),
            bytes * 10 >= 400 * 9,
            "at {bytes} bytes"
        );
        let inspector = b.get("/session").await;
        assert!(inspector.body.contains(&format!(
            "<span data-live=\"row.bytes\">{bytes}</span> of 400 bytes"
        )));
        assert_eq!(
            inspector.body.contains("Nearly full"),
            bytes * 10 >= 400 * 9
        );
        sizes.push(bytes);
    };
    // Each 50-character note adds itself, its quotes and a comma: 53 bytes.
    assert!(sizes.windows(2).all(|w| w[1] - w[0] == 53), "{sizes:?}");
    assert!(
        sizes.iter().any(|&s| s * 10 >= 400 * 9),
        "the warning came before the refusal: {sizes:?}"
    );
    assert_eq!(refused.status, 413);
    let stored: String = sqlx::query_scalar("SELECT data::text FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("the row");
    assert_eq!(
        stored.matches(&note).count(),
        sizes.len(),
        "nothing changed"
    );
}

#[rocket::async_test]
async fn cookie_mode_gives_the_cookie_against_4096_and_warns_before_the_413() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    let first = b.get("/notes").await;
    assert_eq!(shown_usage(&first.body), Some((0, 4096)));
    assert!(!first.body.contains("Nearly full"));
    let note = "c".repeat(100);
    let mut last_page = None;
    for _ in 0..60 {
        let res = b.post("/notes", &[("note", &note)]).await;
        if res.status == 413 {
            break;
        }
        assert_eq!(res.status, 303);
        last_page = Some(b.get("/notes").await);
    }
    let page = last_page.expect("some notes fit");
    let cookie = b.session_cookie().expect("the cookie");
    let bytes = "session_data".len() + cookie.len();
    assert_eq!(shown_usage(&page.body), Some((bytes, 4096)));
    // The last note that fit left the cookie within a tenth of the limit: the page warned.
    assert!(bytes * 10 >= 4096 * 9, "{bytes}");
    assert!(page.body.contains("Nearly full"));
    let json = b.get("/session.json").await.json();
    assert_eq!(json["limit_bytes"], 4096);
    assert!(json["row"].is_null());
    assert_eq!(json["cookie"]["bytes"], bytes);
}
