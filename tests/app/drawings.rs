//! Issue 23, points 1 and 2: the drawings a page makes on the server. The page a POST lands on
//! draws that POST's exchange (each cookie sent, what the store was asked, each `Set-Cookie` line,
//! the session cookie first and every line as thick as its bytes) with an accessible name that
//! says it in words; the inspector and the notes page draw the session cookie against 4096 bytes
//! and its deadlines against now.

use crate::common::*;
use session_lab::settings::Mode;

both_modes![
    post_color_lands_on_a_drawing_of_its_exchange,
    a_second_color_draws_the_session_cookie_going_out_first,
];

/// The exchange's drawing in the "What just happened" section, or "" when there is none.
pub(crate) fn drawing(body: &str) -> &str {
    body.split("<svg class=\"drawing exchange-drawing\"")
        .nth(1)
        .and_then(|rest| rest.split("</svg>").next())
        .unwrap_or("")
}

/// An attribute's value in `tag` (the first one).
fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    tag.split(&format!(" {name}=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
}

/// The accessible name, unescaped as a browser reads it.
pub(crate) fn accessible_name(svg: &str) -> String {
    attribute(svg, "aria-label")
        .replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Each arrow as (colour class, label, thickness), top to bottom.
pub(crate) fn arrows(svg: &str) -> Vec<(String, String, String)> {
    svg.split("<g class=\"arrow ")
        .skip(1)
        .map(|g| {
            let class = g.split('"').next().unwrap_or("").to_string();
            let label = g
                .split("<text ")
                .nth(1)
                .and_then(|t| t.split_once('>'))
                .and_then(|(_, t)| t.split("</text>").next())
                .unwrap_or("")
                .replace("&#x2F;", "/");
            (class, label, attribute(g, "stroke-width").to_string())
        })
        .collect()
}

/// The thickness a cookie of `bytes` is drawn with: 16 units for 4096 bytes, never under 1.5.
fn to_scale(bytes: usize) -> String {
    let w = (bytes.min(4096) as f32 * 16.0 / 4096.0).max(1.5);
    format!("{}", (w * 10.0).round() / 10.0)
}

async fn post_color_lands_on_a_drawing_of_its_exchange(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let posted = b.post("/color", &[("color", "red")]).await;
    assert_eq!(posted.status, 303);
    let session = mode.cookie_name();
    let bytes = session.len() + b.session_cookie().unwrap().len();
    let page = b.get("/color").await;
    let svg = drawing(&page.body);
    assert!(!svg.is_empty(), "no drawing: {}", page.body);
    assert!(svg.contains(" role=\"img\""), "{svg}");

    // The arrows, in order: the request with the CSRF cookie it carried, the store's part, the
    // answer, and one arrow per Set-Cookie line the 303 sent, the session cookie's first.
    let drawn = arrows(svg);
    let labels: Vec<&str> = drawn.iter().map(|(_, l, _)| l.as_str()).collect();
    let csrf = mode.csrf_cookie_name();
    let csrf_bytes = csrf.len() + b.cookie(csrf).unwrap().len();
    let mut expected = vec![
        "POST /color".to_string(),
        format!("Cookie: {csrf}, {csrf_bytes} B"),
    ];
    if stores_rows(mode) {
        expected.extend(["INSERT".to_string(), "done".to_string()]);
        assert!(svg.contains(">PostgreSQL</text>"), "{svg}");
    } else {
        assert!(svg.contains(">no store</text>"), "{svg}");
        assert!(svg.contains(">the cookie holds it</text>"), "{svg}");
    }
    expected.push("303 See Other".to_string());
    let sent = posted.set_cookies();
    assert_eq!(
        sent.len(),
        2,
        "the session cookie and the report's: {sent:?}"
    );
    expected.push(format!("Set-Cookie: {session}, {bytes} B"));
    let report = mode.report_cookie_name();
    let report_line = posted.set_cookie(report).unwrap();
    // Name + value, as the browser counts it: the pair without its `=`.
    let report_bytes = report_line.split(';').next().unwrap().len() - 1;
    expected.push(format!("Set-Cookie: {report}, {report_bytes} B"));
    assert_eq!(labels, expected, "{svg}");
    let session_arrows: Vec<_> = drawn.iter().filter(|(c, _, _)| c == "session").collect();
    assert_eq!(
        session_arrows.len(),
        1,
        "one session cookie drawn: {drawn:?}"
    );
    assert_eq!(session_arrows[0].2, to_scale(bytes), "to scale: {drawn:?}");

    // The same in words, as a screen reader says the picture.
    let name = accessible_name(svg);
    assert!(
        name.starts_with(&format!(
            "The exchange of POST /color in {} mode, drawn. The browser sent {csrf}, \
             {csrf_bytes} bytes. ",
            mode.as_str()
        )),
        "{name}"
    );
    if stores_rows(mode) {
        assert!(
            name.contains(" The app asked PostgreSQL: INSERT (done). "),
            "{name}"
        );
    } else {
        assert!(
            name.contains(" No store was asked: the cookie holds the session. "),
            "{name}"
        );
    }
    assert!(
        name.ends_with(&format!(
            "It answered 303 See Other, setting the session cookie {session}, {bytes} bytes, \
             {report}, {report_bytes} bytes."
        )),
        "{name}"
    );

    // A one-line headline above it, and the words folded below it.
    let headline = if stores_rows(mode) {
        format!("(POST &#x2F;color): a new session: one INSERT; {session} set, {bytes} bytes.</p>")
    } else {
        format!(
            "(POST &#x2F;color): a new session, sealed into its cookie; {session} set, {bytes} \
             bytes.</p>"
        )
    };
    assert!(page.body.contains(&headline), "{}", page.body);
    assert!(page
        .body
        .contains("<details class=\"story\"><summary>The whole story, in words</summary>"));
    // Shown once: the next page draws nothing.
    assert_eq!(drawing(&b.get("/color").await.body), "");
}

async fn a_second_color_draws_the_session_cookie_going_out_first(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    b.post("/color", &[("color", "red")]).await;
    b.get("/color").await;
    let before = mode.cookie_name().len() + b.session_cookie().unwrap().len();
    let posted = b.post("/color", &[("color", "navy")]).await;
    assert_eq!(posted.status, 303);
    let svg_page = b.get("/color").await;
    let drawn = arrows(drawing(&svg_page.body));
    let session = mode.cookie_name();
    // The Cookie header's session cookie is drawn first, to scale.
    assert_eq!(drawn[1].0, "session", "{drawn:?}");
    assert_eq!(drawn[1].1, format!("Cookie: {session}, {before} B"));
    assert_eq!(drawn[1].2, to_scale(before));
    let labels: Vec<&str> = drawn.iter().map(|(_, l, _)| l.as_str()).collect();
    let set_session = labels
        .iter()
        .filter(|l| l.starts_with(&format!("Set-Cookie: {session}")))
        .count();
    if stores_rows(mode) {
        // The row is read, then updated; the cookie, an id, stays as it is.
        let store: Vec<_> = drawn.iter().filter(|(c, _, _)| c == "store").collect();
        let store: Vec<&str> = store.iter().map(|(_, l, _)| l.as_str()).collect();
        assert_eq!(store, ["SELECT", "its row", "UPDATE", "done"], "{drawn:?}");
        assert_eq!(set_session, 0, "{labels:?}");
        assert!(posted.set_cookie(session).is_none());
    } else {
        // No store: the whole map is sealed again into a new cookie.
        assert!(drawn.iter().all(|(c, _, _)| c != "store"), "{drawn:?}");
        assert_eq!(set_session, 1, "{labels:?}");
        let after = session.len() + b.session_cookie().unwrap().len();
        let first_set = labels
            .iter()
            .position(|l| l.starts_with("Set-Cookie"))
            .unwrap();
        assert_eq!(
            labels[first_set],
            format!("Set-Cookie: {session}, {after} B")
        );
    }
}
