//! The exercises in a real browser: predictions answered in the page, the session cookie edited
//! and deleted the way devtools does it (through WebDriver's cookie commands), each exercise shown
//! solved by the server, the score board on the home page, and the learner cookie as devtools
//! lists it.

use cookie::SameSite;
use session_lab::settings::Mode;

use crate::chrome::Chrome;
use crate::served::ServedApp;

/// Answers exercise `id`'s prediction on the exercises page.
async fn predict(b: &Chrome, id: &str, choice: usize) {
    b.goto("/exercises").await.unwrap();
    b.tick(&format!("#{id} input[name=choice][value='{choice}']"))
        .await
        .unwrap();
    b.click(&format!(
        "#{id} form[action$='/predict'] button[type=submit]"
    ))
    .await
    .unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("Your prediction for"), "{text}");
    assert!(text.contains("Now do it:"), "{text}");
}

/// The text of exercise `id`'s section on the exercises page.
async fn section(b: &Chrome, id: &str) -> String {
    b.goto("/exercises").await.unwrap();
    b.client
        .find(fantoccini::Locator::Id(id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn exercises_a_full_run_with_devtools_like_cookie_edits(b: &Chrome, app: &ServedApp) {
    let name = app.mode.cookie_name();
    // first-value: predicted, then the color form creates the session.
    predict(b, "first-value", 1).await;
    crate::set_color(b, "rebeccapurple").await;
    let text = section(b, "first-value").await;
    assert!(text.contains("solved in"), "{text}");
    assert!(
        text.contains("What happened: POST /color created your session"),
        "{text}"
    );

    // tamper: one character of the value changed, as by a double-click in the Cookies panel.
    predict(b, "tamper", 1).await;
    let mut cookie = b.client.get_named_cookie(name).await.unwrap();
    let mut value: Vec<char> = cookie.value().chars().collect();
    let middle = value.len() / 2;
    value[middle] = if value[middle] == 'A' { 'B' } else { 'A' };
    cookie.set_value(value.into_iter().collect::<String>());
    b.client.add_cookie(cookie).await.unwrap();
    b.goto("/color").await.unwrap();
    let text = section(b, "tamper").await;
    assert!(text.contains("refused=undecryptable"), "{text}");

    // delete-cookie: a new session, seen once, then deleted in the Cookies panel.
    predict(b, "delete-cookie", 1).await;
    crate::set_color(b, "teal").await;
    b.client.delete_cookie(name).await.unwrap();
    b.goto("/color").await.unwrap();
    let text = section(b, "delete-cookie").await;
    assert!(text.contains("came without the session cookie"), "{text}");

    // The score board, and the learner cookie as devtools lists it.
    b.goto("/").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        // Server mode can do ten of the twelve, cookie mode nine (the score counts those).
        text.contains(&format!(
            "Your progress: 3 of {} exercises solved",
            if app.mode == Mode::Server { 10 } else { 9 }
        )),
        "{text}"
    );
    let learner = b.client.get_named_cookie("learner").await.unwrap();
    assert_eq!(learner.http_only(), Some(true));
    assert_eq!(learner.same_site(), Some(SameSite::Lax));
    assert_eq!(learner.path(), Some("/"));
    assert!(learner.expires().is_some(), "a persistent cookie");
    if app.mode == Mode::Server {
        assert!(b.text().await.unwrap().contains("Tamper with it 1 / 2"));
    }

    // The exercises page fits a phone's width.
    b.goto("/exercises").await.unwrap();
    b.set_viewport(390, 844).await.unwrap();
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        wide,
        serde_json::json!(false),
        "/exercises scrolls sideways at 390 px"
    );
}
