//! Issue 11, point 3 and issue 16, point 6: every page fits, at a phone's 390 px and a laptop's
//! 1280 px — no sideways scrolling, no element cut (a button's text clipped, a table scrolling
//! inside its own box, a word broken across lines), the header on one line at 1280 px, every
//! field labelled, headings in order, and a visible focus ring. The sessions page is checked with
//! several sessions and the tamper table after a flip. Every page checked is also saved as a
//! screenshot under `target/tmp/fits/`, for a person to look at.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::Value;

use session_lab::settings::Mode;

use crate::chrome::Chrome;
use crate::served::{ServedApp, ServedBoth};
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
    "/labs/evict",
    "/labs/dump",
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
// Cut: an element whose content is wider than its box and clipped or scrolled there (a button
// showing "Sign out this o", a table scrolling inside the page), or one that sticks out of the
// window. Deliberate cuts that say so with an ellipsis ("…") are left out.
out.cut = [];
const describe = (el) => {
  const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 50);
  return `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''} "${text}"`;
};
for (const el of document.querySelectorAll('body *')) {
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.right > window.innerWidth + 1 || r.left < -1) {
    out.cut.push(`${describe(el)} spans x ${Math.round(r.left)}–${Math.round(r.right)} of ${window.innerWidth}`);
    continue;
  }
  const clips = el.tagName === 'BUTTON' || el.tagName === 'INPUT' || style.overflowX !== 'visible';
  if (clips && style.textOverflow !== 'ellipsis' && el.tagName !== 'INPUT'
      && el.scrollWidth > el.clientWidth + 1) {
    out.cut.push(`${describe(el)} holds ${el.scrollWidth} px in ${el.clientWidth} px`);
  }
}
// Broken words: a word of prose (letters only, maybe in brackets or before punctuation) whose
// text lies on more than one line. Identifiers, numbers and anything in code or pre may break.
out.broken = [];
const words = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
let t;
while ((t = words.nextNode())) {
  const parent = t.parentElement;
  if (!parent || parent.closest('code, pre, script, style, svg, [hidden]')) continue;
  const re = /\S+/g;
  let m;
  while ((m = re.exec(t.textContent))) {
    const word = /^[("']*([A-Za-z]{2,})[)"'.,;:!?]*$/.exec(m[0]);
    if (!word) continue;
    const start = m.index + m[0].indexOf(word[1]);
    const range = document.createRange();
    range.setStart(t, start);
    range.setEnd(t, start + word[1].length);
    const lines = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
    if (lines.size > 1) out.broken.push(`"${word[1]}" in ${describe(parent)}`);
  }
}
out.height = de.scrollHeight;
return out;
"#;

/// Runs the checks on the page now open, as `name`, adding what fails to `problems`.
pub(crate) async fn check(
    b: &Chrome,
    mode: &str,
    name: &str,
    width: u32,
    problems: &mut Vec<String>,
) {
    let at = format!("{name} ({mode} mode, {width} px)");
    let r = b.client.execute(CHECKS, vec![]).await.unwrap();
    let num = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
    let (scroll, inner) = (num("scroll"), num("inner"));
    // A phone lays a page that is too wide out wider and zooms out: innerWidth grows with it.
    if inner != u64::from(width) {
        problems.push(format!(
            "{at}: laid out {inner} px wide in a {width} px viewport (zoomed out to fit)"
        ));
    }
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
    for cut in list("cut") {
        problems.push(format!("{at}: cut: {cut}"));
    }
    for word in list("broken") {
        problems.push(format!("{at}: a word broken across lines: {word}"));
    }
    keep_screenshot(b, &at, num("height")).await;
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

/// Saves the whole page (up to 6000 px tall) as `target/tmp/fits/<name>.png`, then gives the
/// viewport its height back. Best effort: a screenshot that fails fails no check.
async fn keep_screenshot(b: &Chrome, name: &str, height: u64) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fits");
    let width = b
        .client
        .execute("return window.innerWidth;", vec![])
        .await
        .ok()
        .and_then(|w| w.as_u64())
        .unwrap_or(1280) as u32;
    let tall = height.clamp(900, 6000) as u32;
    let mobile = width < 600;
    if b.emulate_viewport(width, tall, mobile).await.is_ok() {
        if let Ok(png) = b.screenshot().await {
            let file: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .split('-')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{file}.png")), png);
        }
    }
    let _ = b.emulate_viewport(width, 900, mobile).await;
}

/// Logs in through the login form as `name` (with the tests' password).
async fn log_in(b: &Chrome, name: &str) {
    crate::fill_credentials(b, "/login", name).await;
}

/// Sets the viewport to `width` × 900 through the DevTools protocol: a phone below 600 px (as
/// Chromium's device mode has it), a desktop above. [`check`] then holds each page to that width.
pub(crate) async fn resize(b: &Chrome, width: u32) {
    b.emulate_viewport(width, 900, width < 600).await.unwrap();
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
            check(
                b,
                app.mode.as_str(),
                &format!("{path} logged out"),
                width,
                &mut problems,
            )
            .await;
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
        // Several sessions, as a person logged in on other browsers has: each login after the
        // cookie is deleted makes a new row, and the old ones stay logged in.
        for _ in 0..3 {
            b.client
                .delete_cookie(app.mode.cookie_name())
                .await
                .unwrap();
            log_in(b, "fits_browser_with_a_long_name").await;
        }
        b.goto("/account/sessions").await.unwrap();
        assert!(
            b.text().await.unwrap().contains("(this one)"),
            "the sessions table lists this browser's session (a row)"
        );
        let buttons = b
            .client
            .find_all(Locator::Css("form[action='/account/sessions/end'] button"))
            .await
            .unwrap();
        assert_eq!(buttons.len(), 4, "four sessions listed");
    }
    for width in [390, 1280] {
        resize(b, width).await;
        for path in PAGES.iter().chain(&["/signup", "/login"]) {
            b.goto(path).await.unwrap();
            check(b, app.mode.as_str(), path, width, &mut problems).await;
        }
        // Two labs grow after their buttons: the replay's verdicts and the flipped byte's row.
        b.goto("/labs/replay").await.unwrap();
        b.click("form[action='/labs/replay/replay'] button[type=submit]")
            .await
            .unwrap();
        check(
            b,
            app.mode.as_str(),
            "/labs/replay after a replay",
            width,
            &mut problems,
        )
        .await;
        b.goto("/labs/tamper").await.unwrap();
        b.click("form[action='/labs/tamper/flip'] button[type=submit]")
            .await
            .unwrap();
        assert!(
            b.client.find(Locator::Id("flip")).await.is_ok(),
            "the flipped byte's row"
        );
        check(
            b,
            app.mode.as_str(),
            "/labs/tamper after a flip",
            width,
            &mut problems,
        )
        .await;
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The checks themselves, on a page spoiled on purpose: a too-wide block, a header long enough
/// to wrap, a field without a label, a skipped heading level, a clipped button and a word broken
/// across lines are each reported, so a pass below means the pages fit, not that the script saw
/// nothing.
async fn the_checks_catch_what_they_look_for(b: &Chrome, app: &ServedApp) {
    let mut problems = Vec::new();
    // At 1280 px the wide block makes the page scroll; on a 390 px phone it makes the browser lay
    // the page out wider and zoom out. Both must be reported.
    for width in [390, 1280] {
        resize(b, width).await;
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
                 document.querySelector('main').prepend(h); \
                 const btn = document.createElement('button'); btn.textContent = 'Sign out this one'; \
                 btn.style.width = '60px'; btn.style.whiteSpace = 'nowrap'; btn.style.overflow = 'hidden'; \
                 document.querySelector('main').append(btn); \
                 const w = document.createElement('p'); w.textContent = 'seconds'; \
                 w.style.width = '20px'; w.style.overflowWrap = 'anywhere'; \
                 document.querySelector('main').append(w);",
                vec![],
            )
            .await
            .unwrap();
        let at = format!("/ spoiled at {width} px");
        check(b, app.mode.as_str(), &at, width, &mut problems).await;
    }

    let all = problems.join("\n");
    for expected in [
        "scrolls sideways",
        "laid out",
        "the header is more than one line",
        "a field without a label",
        "a heading skips a level: h4",
        "cut: button \"Sign out this one\"",
        "a word broken across lines: \"seconds\"",
    ] {
        assert!(
            all.contains(expected),
            "the checks missed {expected:?}: {all}"
        );
    }
}

/// `/compare` under `--mode both`, logged in on one side only, at both widths on both ports; then
/// with the database cut off (the outage lab's switch): both ports still render the page at
/// 390 px, the server-mode column saying why it cannot show its session, the cookie-mode column
/// showing its own.
pub async fn compare_fits_at_390_and_1280_px_and_shows_both_sides_in_an_outage(
    b: &Chrome,
    apps: &ServedBoth,
) {
    let mut problems = Vec::new();
    sign_up(b, "compare_browser").await;
    b.goto("/compare").await.unwrap();
    b.submit_field("color", "seagreen").await.unwrap();
    b.submit_field("note", "a note in both").await.unwrap();
    let mut heights = Vec::new();
    for width in [390, 1280] {
        resize(b, width).await;
        for (base, port) in [(&apps.server, "server"), (&apps.cookie, "cookie")] {
            b.client.goto(&format!("{base}/compare")).await.unwrap();
            let server = column_text(b, "server").await;
            let cookie = column_text(b, "cookie").await;
            assert!(server.contains("Logged in as compare_browser"), "{server}");
            assert!(cookie.contains("Not logged in"), "{cookie}");
            check(
                b,
                port,
                "/compare, logged in on one side",
                width,
                &mut problems,
            )
            .await;
            heights.push(format!(
                "{width} px on the {port} port: {} px tall",
                page_height(b).await
            ));
        }
    }
    resize(b, 1280).await;
    b.goto("/labs/outage").await.unwrap();
    b.click("button[name=cut][value=true]").await.unwrap();
    resize(b, 390).await;
    for (base, port) in [(&apps.server, "server"), (&apps.cookie, "cookie")] {
        b.client.goto(&format!("{base}/compare")).await.unwrap();
        let server = column_text(b, "server").await;
        assert!(
            server.contains("This mode cannot open its session: the outage lab has cut"),
            "{port} port: {server}"
        );
        let cookie = column_text(b, "cookie").await;
        assert!(cookie.contains("seagreen"), "{port} port: {cookie}");
        check(b, port, "/compare in an outage", 390, &mut problems).await;
        heights.push(format!(
            "390 px on the {port} port in an outage: {} px tall",
            page_height(b).await
        ));
    }
    resize(b, 1280).await;
    b.goto("/labs/outage").await.unwrap();
    b.click("button[name=cut][value=false]").await.unwrap();
    eprintln!("/compare: {}", heights.join("; "));
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

async fn column_text(b: &Chrome, mode: &str) -> String {
    b.client
        .find(Locator::Css(&format!("section.column.{mode}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn page_height(b: &Chrome) -> u64 {
    b.client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0)
}
