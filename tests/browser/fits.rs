//! Issue 11, point 3: every page fits, at a phone's 390 px and a laptop's 1280 px — no sideways
//! scrolling, the header on one line at 1280 px, every field labelled, headings in order, and a
//! visible focus ring.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::Value;

use session_lab::settings::Mode;

use crate::chrome::Chrome;
use crate::served::ServedApp;
use crate::sign_up;

/// The pages a logged-in person can open, 404 included.
const PAGES: &[&str] = &[
    "/",
    "/color",
    "/notes",
    "/session",
    "/account",
    "/account/sessions",
    "/labs/replay",
    "/labs/tamper",
    "/labs/outage",
    "/compare",
    "/no-such-page",
];

/// The checks, run in the page through WebDriver's Execute Script (so the app's CSP, which
/// allows no inline script, does not apply).
///
/// The header counts as one line when every piece of text in it (each line box of each text
/// node, found with `Range.getClientRects`) overlaps the brand link's box vertically. That holds
/// whatever the header's padding, `align-items` or font sizes are, and catches a wrap at any depth
/// (the header wrapping its parts, the nav wrapping its links, or "Logged in as" breaking inside
/// the button row) — where comparing the header's height with the brand's would depend on
/// padding, and comparing children's `offsetTop` on vertical centring.
const CHECKS: &str = r#"
const de = document.documentElement;
const out = { scroll: de.scrollWidth, inner: window.innerWidth, offRow: [], unlabelled: [], skips: [] };
const header = document.querySelector('body > header');
const brand = header && header.querySelector('.brand');
out.header = !!brand;
if (brand) {
  const b = brand.getBoundingClientRect();
  const walk = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walk.nextNode())) {
    const t = n.textContent.trim();
    if (!t) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width === 0 && r.height === 0) continue;
      if (r.top >= b.bottom || r.bottom <= b.top) {
        out.offRow.push(`"${t}" at y ${Math.round(r.top)}–${Math.round(r.bottom)} (brand ${Math.round(b.top)}–${Math.round(b.bottom)})`);
      }
    }
  }
}
for (const el of document.querySelectorAll('input, select, textarea')) {
  if ((el.getAttribute('type') || '').toLowerCase() === 'hidden') continue;
  const byFor = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
  const aria = (el.getAttribute('aria-label') || '').trim();
  if (!byFor && !el.closest('label') && !aria) out.unlabelled.push(el.outerHTML.slice(0, 160));
}
let prev = 0;
for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
  const level = Number(h.tagName[1]);
  if (level > prev + 1) {
    out.skips.push(`h${level} "${h.textContent.trim().slice(0, 40)}" after ${prev ? 'h' + prev : 'the start'}`);
  }
  prev = level;
}
let focusRule = false;
const scan = (rules) => {
  for (const r of rules) {
    if (r.selectorText && r.selectorText.includes(':focus-visible')) focusRule = true;
    if (r.cssRules) scan(r.cssRules);
  }
};
for (const s of document.styleSheets) {
  try { scan(s.cssRules); } catch (e) { /* a cross-origin sheet: none here */ }
}
out.focusRule = focusRule;
return out;
"#;

/// Runs the checks on the page now open, as `name`, adding what fails to `problems`.
async fn check(b: &Chrome, app: &ServedApp, name: &str, width: u32, problems: &mut Vec<String>) {
    let mode = app.mode.as_str();
    let at = format!("{name} ({mode} mode, {width} px)");
    let r = b.client.execute(CHECKS, vec![]).await.unwrap();
    let num = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
    let (scroll, inner) = (num("scroll"), num("inner"));
    if scroll > inner {
        problems.push(format!(
            "{at}: scrolls sideways: document scrollWidth {scroll} > window innerWidth {inner}"
        ));
    }
    if r["header"] != Value::Bool(true) {
        problems.push(format!("{at}: no header with a .brand link"));
    }
    let list = |k: &str| -> Vec<String> {
        r[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    if width >= 1280 {
        let off = list("offRow");
        if !off.is_empty() {
            problems.push(format!(
                "{at}: the header is more than one line: {}",
                off.join("; ")
            ));
        }
    }
    for field in list("unlabelled") {
        problems.push(format!("{at}: a field without a label: {field}"));
    }
    for skip in list("skips") {
        problems.push(format!("{at}: a heading skips a level: {skip}"));
    }
    if r["focusRule"] != Value::Bool(true) {
        problems.push(format!("{at}: no :focus-visible rule in the page's styles"));
    }

    // And the rule applies: Tab from the top of the page, as a keyboard user would, lands on a
    // link or control whose outline is drawn.
    let tab: char = Key::Tab.into();
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab });
    b.client.perform_actions(keys).await.unwrap();
    let focused = b
        .client
        .execute(
            "const a = document.activeElement; \
             return [a.tagName, getComputedStyle(a).outlineStyle, a.matches(':focus-visible')];",
            vec![],
        )
        .await
        .unwrap();
    let (tag, outline, visible) = (
        focused[0].as_str().unwrap_or("?").to_string(),
        focused[1].as_str().unwrap_or("?").to_string(),
        focused[2].as_bool().unwrap_or(false),
    );
    if tag == "BODY" || !visible || outline == "none" {
        problems.push(format!(
            "{at}: Tab focused {tag} with outline-style {outline} (:focus-visible {visible})"
        ));
    }
}

/// Sets the viewport to `width` (the window's outer size adjusted until the page reports it).
async fn resize(b: &Chrome, width: u32) {
    b.set_viewport(width, 900).await.unwrap();
    let inner = b
        .client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(inner.as_u64(), Some(width as u64), "window.innerWidth");
}

pub async fn every_page_fits_at_390_and_1280_px(b: &Chrome, app: &ServedApp) {
    the_checks_catch_what_they_look_for(b, app).await;
    let mut problems = Vec::new();
    // The two pages for someone not logged in (logged in, they answer the same way but with the
    // longer header, checked below on every other page).
    for width in [390, 1280] {
        resize(b, width).await;
        for path in ["/", "/signup", "/login", "/no-such-page"] {
            b.goto(path).await.unwrap();
            check(b, app, &format!("{path} logged out"), width, &mut problems).await;
        }
    }

    // Logged in, with a color, a note and a kept copy, so the pages show their full tables.
    sign_up(b, "fits_browser_with_a_long_name").await;
    crate::set_color(b, "rebeccapurple").await;
    b.goto("/notes").await.unwrap();
    b.submit_field("note", "a note to fill the table")
        .await
        .unwrap();
    b.goto("/labs/replay").await.unwrap();
    b.click("form[action='/labs/replay/keep'] button[type=submit]")
        .await
        .unwrap();
    if app.mode == Mode::Server {
        b.goto("/account/sessions").await.unwrap();
        assert!(
            b.text().await.unwrap().contains("(this one)"),
            "the sessions table lists this browser's session (a row)"
        );
    }
    for width in [390, 1280] {
        resize(b, width).await;
        for path in PAGES.iter().chain(&["/signup", "/login"]) {
            b.goto(path).await.unwrap();
            check(b, app, path, width, &mut problems).await;
        }
        // Two labs grow after their buttons: the replay's verdicts and the flipped byte's row.
        b.goto("/labs/replay").await.unwrap();
        b.click("form[action='/labs/replay/replay'] button[type=submit]")
            .await
            .unwrap();
        check(b, app, "/labs/replay after a replay", width, &mut problems).await;
        b.goto("/labs/tamper").await.unwrap();
        b.click("form[action='/labs/tamper/flip'] button[type=submit]")
            .await
            .unwrap();
        assert!(
            b.client.find(Locator::Id("flip")).await.is_ok(),
            "the flipped byte's row"
        );
        check(b, app, "/labs/tamper after a flip", width, &mut problems).await;
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The checks themselves, on a page spoiled on purpose: a too-wide block, a header long enough
/// to wrap, a field without a label and a skipped heading level are each reported, so a pass
/// below means the pages fit, not that the script saw nothing.
async fn the_checks_catch_what_they_look_for(b: &Chrome, app: &ServedApp) {
    resize(b, 1280).await;
    b.goto("/").await.unwrap();
    b.client
        .execute(
            "const d = document.createElement('div'); d.style.width = '2000px'; d.textContent = 'wide'; \
             document.querySelector('main').append(d); \
             const s = document.createElement('span'); s.textContent = 'a long part '.repeat(30); \
             document.querySelector('body > header').append(s); \
             const i = document.createElement('input'); i.type = 'text'; \
             document.querySelector('main').append(i); \
             const h = document.createElement('h4'); h.textContent = 'too deep'; \
             document.querySelector('main').prepend(h);",
            vec![],
        )
        .await
        .unwrap();
    let mut problems = Vec::new();
    check(b, app, "/ spoiled", 1280, &mut problems).await;
    let all = problems.join("\n");
    for expected in [
        "scrolls sideways",
        "the header is more than one line",
        "a field without a label",
        "a heading skips a level: h4",
    ] {
        assert!(
            all.contains(expected),
            "the checks missed {expected:?}: {all}"
        );
    }
}
