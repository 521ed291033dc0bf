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

/// The page's text: the markup (and the machine-readable `datetime=` in it) left out.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Where a page shows a time with fractions of a second (`06:10:17.123456`), if anywhere.
fn fractional_time(body: &str) -> Option<String> {
    let b = body.as_bytes();
    (0..b.len().saturating_sub(10)).find_map(|i| {
        let w = &b[i..i + 10];
        let digits = |r: std::ops::Range<usize>| r.into_iter().all(|j| w[j].is_ascii_digit());
        (w[2] == b':' && w[5] == b'.' && digits(0..2) && digits(3..5) && digits(6..10)).then(|| {
            String::from_utf8_lossy(&b[i.saturating_sub(20)..(i + 20).min(b.len())]).into()
        })
    })
}

/// Every page a logged-in person opens shows its times in words (exact on hover, to the second),
/// never PostgreSQL's microseconds.
async fn no_page_shows_a_time_with_microseconds(mode: session_lab::settings::Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "hal", "correct horse battery").await.status, 303);
    b.post("/notes", &[("note", "a note")]).await;
    b.post("/labs/replay/keep", &[]).await;
    for path in [
        "/",
        "/session",
        "/account",
        "/account/sessions",
        "/notes",
        "/compare",
        "/labs/replay",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(fractional_time(&text_of(&page.body)), None, "{path}");
    }
    let account = b.get("/account").await;
    assert!(
        account.body.contains(">just now</time>"),
        "{}",
        account.body
    );
}

both_modes!(deadlines_in_words, no_page_shows_a_time_with_microseconds);
