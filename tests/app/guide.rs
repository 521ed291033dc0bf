//! The guide in the browser: `docs/guide/*.md` served at `/guide` inside the layout, reading it
//! makes no session, an unknown page is the app's 404, every link of it lands on a page and a
//! heading that exist, and every lesson page and exercise links the section that explains it.

use crate::common::*;
use session_lab::guide::guide;
use session_lab::settings::Mode;

const PASSWORD: &str = "correct horse battery";

/// Every `href="…"` of a page, as written.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// Checks that `href` (found on `from`) leads to a page of the app and, with a fragment, to an
/// element with that id; adds what does not to `dead`.
async fn follow(b: &Browser<'_>, from: &str, href: &str, dead: &mut Vec<String>) {
    let (path, fragment) = match href.split_once('#') {
        Some((p, f)) => (if p.is_empty() { from } else { p }, Some(f)),
        None => (href, None),
    };
    let res = b.get(path).await;
    // An account page sends a reader who is not logged in to the login page: it exists.
    let redirected = res.status == 303 && res.location().is_some_and(|l| l.starts_with("/login"));
    if redirected && fragment.is_none() {
        return;
    }
    if res.status != 200 {
        dead.push(format!("{from}: {href} answers {}", res.status));
        return;
    }
    if let Some(id) = fragment {
        if !res.body.contains(&format!("id=\"{id}\"")) {
            dead.push(format!("{from}: {href}: no element with id {id:?}"));
        }
    }
}

async fn the_guide_is_served_in_the_layout_and_makes_no_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let index = b.get("/guide").await;
    assert_eq!(index.status, 200);
    assert!(index
        .body
        .contains("<title>The Session Lab guide · Session Lab</title>"));
    assert!(
        index
            .body
            .contains(&format!("{mode} mode</span>", mode = mode.as_str())),
        "the layout's header, with the mode badge"
    );
    for page in guide().pages() {
        let url = session_lab::guide::url(page.slug);
        assert!(
            page.slug.is_empty() || index.body.contains(&format!("href=\"{url}\"")),
            "the index links {url}"
        );
        let res = b.get(&url).await;
        assert_eq!(res.status, 200, "{url}");
        assert!(res.body.contains("<main"), "{url} in the layout");
        let title = format!(
            "<title>{} · Session Lab</title>",
            rocket_dyn_templates::tera::escape_html(&page.title)
        );
        assert!(res.body.contains(&title), "{url}: {title}");
        assert_eq!(res.body.matches("<h1 id=").count(), 1, "{url}: one h1");
        assert!(
            res.set_cookie(app.cookie_names().0).is_none(),
            "{url} sets no session cookie"
        );
        assert!(
            res.trace().contains("load=none; save=none"),
            "{url}: {}",
            res.trace()
        );
    }
    assert_eq!(b.cookie(app.cookie_names().0), None);
    assert_eq!(app.session_rows().await, 0, "reading the guide made no row");

    for missing in ["/guide/no-such-page", "/guide/README", "/guide/README.md"] {
        let res = b.get(missing).await;
        assert_eq!(res.status, 404, "{missing}");
        assert!(
            res.body.contains("There is no page at this address."),
            "{missing}: the app's 404 page"
        );
    }
    for bad in [
        "/guide/screenshots/none.png",
        "/guide/screenshots/..%2FCargo.toml",
        "/guide/screenshots/server-home.PNG",
    ] {
        assert_eq!(b.get(bad).await.status, 404, "{bad}");
    }
}

async fn every_link_of_the_guide_lands_on_a_page_and_a_heading(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let mut dead = Vec::new();
    let mut followed = 0;
    for page in guide().pages() {
        let from = session_lab::guide::url(page.slug);
        let html = b.get(&from).await.body;
        for href in hrefs(&html) {
            // The layout's own links (the header, the stylesheet) are every page's; the other
            // tests cover them.
            if href.starts_with("/static/") || href.starts_with("http") || href == "/favicon.ico" {
                continue;
            }
            follow(&b, &from, &href, &mut dead).await;
            followed += 1;
        }
    }
    assert!(followed > 100, "only {followed} links followed");
    assert!(dead.is_empty(), "\n{}", dead.join("\n"));
    let picture = b.get("/guide/screenshots/server-home.png").await;
    assert_eq!(picture.status, 200);
    assert_eq!(picture.header("Content-Type"), Some("image/png"));
}

/// Each lesson page and exercise links to the guide, and every such link lands. No page sends a
/// reader to the README any more.
async fn every_lesson_and_exercise_links_its_guide_section(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let mut dead = Vec::new();
    let check = |path: &'static str, html: String| {
        let links: Vec<String> = hrefs(&html)
            .into_iter()
            .filter(|h| h.starts_with("/guide"))
            .collect();
        assert!(!links.is_empty(), "{path} links no page of the guide");
        assert!(!html.contains("README"), "{path} still names the README");
        (path, links)
    };
    let mut pages = vec![
        check("/login", b.get("/login").await.body),
        check("/signup", b.get("/signup").await.body),
    ];
    assert_eq!(
        signup(&b, "guide_reader", PASSWORD).await.status,
        303,
        "signed up"
    );
    for path in [
        "/",
        "/color",
        "/notes",
        "/session",
        "/labs/tamper",
        "/labs/replay",
        "/account",
        "/account/sessions",
        "/labs/outage",
        "/compare",
        "/exercises",
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        pages.push(check(path, res.body));
    }
    for (path, links) in pages {
        for href in links {
            follow(&b, path, &href, &mut dead).await;
        }
    }
    assert!(dead.is_empty(), "\n{}", dead.join("\n"));

    // Every exercise names its section of the guide, as a link.
    let exercises = b.get("/exercises").await.body;
    let total = session_lab::exercises::EXERCISES.len();
    assert_eq!(
        exercises.matches(" · guide:").count(),
        total,
        "each of the {total} exercises links its guide section"
    );
}

both_modes!(
    the_guide_is_served_in_the_layout_and_makes_no_session,
    every_link_of_the_guide_lands_on_a_page_and_a_heading,
    every_lesson_and_exercise_links_its_guide_section,
);
