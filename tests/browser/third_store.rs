//! Issue 24, point 4, in Chromium: `--mode all`'s `/compare`, three columns that fit a 390 px
//! phone (stacked, no element wider than the viewport, no table scrolling sideways) and 1280 px,
//! on each of the three ports; and the eviction and dump labs at 390 px on the redis-mode port.

use fantoccini::Locator;

use crate::chrome::Chrome;
use crate::fits::{check, resize};
use crate::served::ServedBoth;
use crate::sign_up;

/// What the page measures of `/compare`: each column's box, and anything wider than the viewport
/// or a table wider than its column.
const MEASURE: &str = r#"
const vw = window.innerWidth;
const cols = [...document.querySelectorAll('section.column')].map((c) => {
  const r = c.getBoundingClientRect();
  const wideTables = [...c.querySelectorAll('table')]
    .filter((t) => t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > r.right + 1)
    .map((t) => t.textContent.trim().slice(0, 40));
  return { mode: c.className, left: Math.round(r.left), right: Math.round(r.right), width: Math.round(r.width), wideTables };
});
const wider = [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > vw + 1)
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`);
return { vw, cols, wider: wider.slice(0, 10) };
"#;

pub async fn compare_with_all_three_modes_fits_a_390_px_phone(b: &Chrome, apps: &ServedBoth) {
    let redis = apps.redis.as_ref().expect("--mode all");
    let mut problems = Vec::new();
    sign_up(b, "three_columns").await;
    b.goto("/compare").await.unwrap();
    b.submit_field("color", "rebeccapurple").await.unwrap();
    b.submit_field("note", "a note in all three").await.unwrap();
    let mut figures = Vec::new();
    for width in [390, 1280] {
        resize(b, width).await;
        for (base, port) in [
            (&apps.server, "server"),
            (&apps.cookie, "cookie"),
            (redis, "redis"),
        ] {
            b.client.goto(&format!("{base}/compare")).await.unwrap();
            let m = b.client.execute(MEASURE, vec![]).await.unwrap();
            let cols = m["cols"].as_array().cloned().unwrap_or_default();
            assert_eq!(cols.len(), 3, "three columns on the {port} port: {m}");
            for c in &cols {
                let text = c["mode"].as_str().unwrap_or_default();
                if c["right"].as_i64().unwrap_or(i64::MAX) > i64::from(width) {
                    problems.push(format!(
                        "{width} px, {port} port: {text} ends past the viewport: {c}"
                    ));
                }
                if c["wideTables"].as_array().is_some_and(|t| !t.is_empty()) {
                    problems.push(format!(
                        "{width} px, {port} port: a table wider than {text}: {c}"
                    ));
                }
            }
            if m["wider"].as_array().is_some_and(|w| !w.is_empty()) {
                problems.push(format!(
                    "{width} px, {port} port: wider than the viewport: {}",
                    m["wider"]
                ));
            }
            let redis_column = b
                .client
                .find(Locator::Css("section.column.redis"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(redis_column.contains("rebeccapurple"), "{redis_column}");
            check(b, port, "/compare with --mode all", width, &mut problems).await;
            let widths: Vec<String> = cols.iter().map(|c| format!("{}", c["width"])).collect();
            figures.push(format!(
                "{width} px on the {port} port: columns {} px wide",
                widths.join("/")
            ));
        }
    }
    // The two labs of the lesson on the redis-mode port, at a phone's width.
    resize(b, 390).await;
    for path in ["/labs/evict", "/labs/dump"] {
        b.client.goto(&format!("{redis}{path}")).await.unwrap();
        check(b, "redis", path, 390, &mut problems).await;
    }
    b.client.goto(&format!("{redis}/labs/evict")).await.unwrap();
    b.click("form[action='/labs/evict'] button[type=submit]")
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("Your session was evicted"), "{text}");
    check(
        b,
        "redis",
        "/labs/evict after the eviction",
        390,
        &mut problems,
    )
    .await;
    eprintln!("/compare under --mode all: {}", figures.join("; "));
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
