//! Issue 23, points 1 to 3, as a student sees them in Chromium at a phone's 390 × 844 and a
//! laptop's 1280 px: the page a POST lands on draws that exchange (an image whose accessible name
//! says it in words) with the page's heading still on the first screen; the inspector and the
//! notes page draw the cookie to scale and the deadlines against now; `/session` fits three
//! screens of a phone; nothing scrolls sideways; and no identifier in a table is split inside.

use fantoccini::Locator;
use serde_json::Value;

use crate::chrome::Chrome;
use crate::served::ServedApp;

/// A phone's viewport (an iPhone 12 to 15).
const PHONE: (u32, u32) = (390, 844);

/// WebDriver's "Get Computed Label" or "Get Computed Role" of an element: what the browser's
/// accessibility tree says, not what an attribute holds.
#[derive(Debug)]
struct Computed {
    element: String,
    what: &'static str,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Computed {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/element/{}/{}",
            session_id.unwrap_or_default(),
            self.element,
            self.what
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::GET, None)
    }
}

/// The role and the accessible name of the element `css` selects.
async fn named(b: &Chrome, css: &str) -> (String, String) {
    let element = b
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    let mut out = Vec::new();
    for what in ["computedrole", "computedlabel"] {
        let v = b
            .client
            .issue_cmd(Computed {
                element: element.element_id().to_string(),
                what,
            })
            .await
            .unwrap_or_else(|e| panic!("{what} of {css}: {e}"));
        out.push(v.as_str().unwrap_or_default().to_string());
    }
    let name = out.pop().unwrap_or_default();
    (out.pop().unwrap_or_default(), name)
}

/// ARIA's `img` role, which Chromium reports by its ARIA 1.3 name, `image`.
fn is_image(role: &str) -> bool {
    role == "img" || role == "image"
}

/// Where the layout stands: the `<h1>`'s top, the page's height, the window's width and the
/// document's, the report's words folded or not, and each identifier (a word of a `<code>` in a
/// table, or a `code.id`) that lies on more than one line.
const LAYOUT: &str = r#"
window.scrollTo(0, 0);
const de = document.documentElement;
const h1 = document.querySelector('h1');
const split = [];
for (const code of document.querySelectorAll('table code, code.id')) {
  if (!code.getClientRects().length) continue;
  const walk = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  let t;
  while ((t = walk.nextNode())) {
    const re = /\S+/g;
    let m;
    while ((m = re.exec(t.textContent))) {
      const range = document.createRange();
      range.setStart(t, m.index);
      range.setEnd(t, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
      if (lines.size > 1) split.push(m[0]);
    }
  }
}
const story = document.querySelector('section.happened details.story');
return { top: h1 ? Math.round(h1.getBoundingClientRect().top) : -1, height: de.scrollHeight,
         inner: window.innerWidth, scroll: de.scrollWidth, split,
         folded: story ? !story.open : null };
"#;

async fn layout(b: &Chrome) -> Value {
    b.client.execute(LAYOUT, vec![]).await.unwrap()
}

/// Adds to `problems` what the layout of the page now open gets wrong at `width`.
fn check(at: &str, width: u32, l: &Value, problems: &mut Vec<String>) {
    let num = |k: &str| l[k].as_u64().unwrap_or(u64::MAX);
    if num("inner") != u64::from(width) || num("scroll") > num("inner") {
        problems.push(format!(
            "{at}: {} px of document in a window {} px wide, for a {width} px viewport",
            num("scroll"),
            num("inner")
        ));
    }
    if let Some(split) = l["split"].as_array().filter(|s| !s.is_empty()) {
        problems.push(format!("{at}: identifiers split across lines: {split:?}"));
    }
}

/// The check for split identifiers catches one: a table cell too narrow for its identifier, with
/// the wrapping this project no longer uses for them.
async fn the_split_check_catches_a_split_identifier(b: &Chrome) {
    b.goto("/").await.unwrap();
    b.client
        .execute(
            "const t = document.createElement('table'); const td = document.createElement('td'); \
             td.style.width = '60px'; const c = document.createElement('code'); \
             c.style.overflowWrap = 'anywhere'; c.textContent = 'SESSION_EXPIRE_AT_BROWSER_CLOSE'; \
             td.append(c); t.append(td); document.querySelector('main').append(t);",
            vec![],
        )
        .await
        .unwrap();
    let mut problems = Vec::new();
    check("spoiled", 1280, &layout(b).await, &mut problems);
    assert!(
        problems
            .join("")
            .contains("SESSION_EXPIRE_AT_BROWSER_CLOSE"),
        "the check missed a split identifier: {problems:?}"
    );
}

/// The session cookie's size as Chrome's devtools count it (name + value).
async fn cookie_size(b: &Chrome, app: &ServedApp) -> usize {
    let c = crate::session_cookie(b, app)
        .await
        .expect("a session cookie");
    c.name().len() + c.value().len()
}

pub async fn the_drawings_say_what_they_show_and_pages_fit_a_phone(b: &Chrome, app: &ServedApp) {
    the_split_check_catches_a_split_identifier(b).await;
    let mode = app.mode.as_str();
    let session = app.mode.cookie_name();
    let rows = app.mode == session_lab::settings::Mode::Server;
    let mut problems = Vec::new();
    let mut heights = Vec::new();
    crate::sign_up(b, &format!("drawn_{mode}")).await;
    for (width, color) in [(PHONE.0, "navy"), (1280, "olive")] {
        b.emulate_viewport(width, PHONE.1, width < 600)
            .await
            .unwrap();

        // A POST lands on its exchange, drawn and named in words, the page's heading on the
        // first screen and the long words folded under it.
        crate::set_color(b, color).await;
        let (role, name) = named(b, "section.happened svg.exchange-drawing").await;
        assert!(is_image(&role), "{mode} mode at {width} px: role {role}");
        let size = cookie_size(b, app).await;
        assert!(
            name.starts_with(&format!(
                "The exchange of POST /color in {mode} mode, drawn. The browser sent the \
                 session cookie {session}, "
            )),
            "{name}"
        );
        if rows {
            assert!(
                name.contains("The app asked PostgreSQL: SELECT (its row), UPDATE (done)."),
                "{name}"
            );
            assert!(
                name.contains("It answered 303 See Other, setting "),
                "{name}"
            );
            assert!(!name.contains("setting the session cookie"), "{name}");
        } else {
            assert!(
                name.contains("No store was asked: the cookie holds the session."),
                "{name}"
            );
            assert!(
                name.contains(&format!(
                    "It answered 303 See Other, setting the session cookie {session}, {size} \
                     bytes"
                )),
                "{name}"
            );
        }
        let after = layout(b).await;
        let at = format!("after POST /color ({mode} mode, {width} px)");
        check(&at, width, &after, &mut problems);
        assert_eq!(after["folded"], Value::Bool(true), "{at}: the words folded");
        let top = after["top"].as_i64().unwrap_or(-1);
        assert!(
            (0..i64::from(PHONE.1)).contains(&top),
            "{at}: the heading starts at {top} px, below the first screen"
        );
        heights.push(format!("{at}: heading at {top} px"));

        // More POSTs, each landing with its heading on the first screen: a note, a fast-forward.
        b.goto("/notes").await.unwrap();
        b.submit_field("note", "drawn to scale").await.unwrap();
        let at = format!("after POST /notes ({mode} mode, {width} px)");
        let top = layout(b).await["top"].as_i64().unwrap_or(-1);
        assert!(
            (0..i64::from(PHONE.1)).contains(&top),
            "{at}: heading at {top} px"
        );
        let (role, name) = named(b, "svg.cookie-drawing").await;
        assert!(is_image(&role), "role {role}");
        let size = cookie_size(b, app).await;
        assert!(
            name.starts_with(&format!(
                "The {session} cookie, drawn: {size} of the 4096 bytes a browser keeps"
            )),
            "/notes: {name}"
        );

        // The inspector: the cookie to scale (and the row beside it in server mode), the
        // deadlines against now, and all of it within three screens of a phone.
        b.goto("/session").await.unwrap();
        let (_, cookie) = named(b, "svg.cookie-drawing").await;
        assert!(
            cookie.contains(&format!("{size} of the 4096 bytes"))
                && cookie.contains("bytes of tag"),
            "{cookie}"
        );
        assert_eq!(
            cookie.contains("the session's row holds"),
            rows,
            "{mode} mode: {cookie}"
        );
        let (role, deadlines) = named(b, "svg.deadlines-drawing").await;
        assert!(is_image(&role), "role {role}");
        assert!(
            deadlines.starts_with(
                "The session's deadlines, drawn on two timelines with now marked: the idle \
                 deadline in "
            ),
            "{deadlines}"
        );
        let inspector = layout(b).await;
        let at = format!("/session ({mode} mode, {width} px)");
        check(&at, width, &inspector, &mut problems);
        let height = inspector["height"].as_u64().unwrap_or(u64::MAX);
        heights.push(format!("{at}: {height} px tall"));
        if width < 600 {
            assert!(
                height <= 3 * u64::from(PHONE.1),
                "{at}: {height} px tall, more than three screens"
            );
        }

        // Fast-forwarded, the timeline marks real time too, and the heading still comes first.
        b.click("button[name=seconds][value='60']").await.unwrap();
        let top = layout(b).await["top"].as_i64().unwrap_or(-1);
        assert!(
            (0..i64::from(PHONE.1)).contains(&top),
            "after the fast-forward at {width} px: heading at {top} px"
        );
        let (_, deadlines) = named(b, "svg.deadlines-drawing").await;
        assert!(
            deadlines.ends_with(
                "This browser's clock runs 1 minute ahead of real time, which is marked too."
            ),
            "{deadlines}"
        );
        b.click("button[name=reset]").await.unwrap();
    }
    eprintln!("{}", heights.join("\n"));
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
