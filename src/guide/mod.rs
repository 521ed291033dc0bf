//! The guide: the lessons' long explanations, the Markdown files of `docs/guide/`, rendered to HTML
//! once per process and served at `/guide` and `/guide/<page>` (`routes::guide`).
//!
//! A student in a class has only a browser, so the app serves what used to be read in the README.
//! The same files read on a forge, so their links are written for one: `devtools.md#step` links
//! another page of the guide (here `/guide/devtools#step`), `../screenshots/…` the pictures (here
//! `/guide/screenshots/…`), and a link to a file elsewhere in the repository (`../../deploy/…`)
//! has no page in the app, so only its text is kept. Headings get the ids a forge gives them, so a
//! link to a section works in both places. A path of the app in code (`` `/color` ``) becomes a
//! link to that page.

use std::collections::HashMap;
use std::sync::OnceLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use rocket_dyn_templates::tera;

/// Each page's name in its URL and its Markdown, the index first. Compiled in (as the CSS is), so
/// the binary serves the guide from any working directory and a missing file fails the build.
const SOURCES: &[(&str, &str)] = &[
    ("", include_str!("../../docs/guide/README.md")),
    ("devtools", include_str!("../../docs/guide/devtools.md")),
    ("compare", include_str!("../../docs/guide/compare.md")),
    ("exercises", include_str!("../../docs/guide/exercises.md")),
    (
        "login-and-logout",
        include_str!("../../docs/guide/login-and-logout.md"),
    ),
    ("lifetime", include_str!("../../docs/guide/lifetime.md")),
    (
        "session-trace",
        include_str!("../../docs/guide/session-trace.md"),
    ),
    (
        "csrf-and-headers",
        include_str!("../../docs/guide/csrf-and-headers.md"),
    ),
    (
        "code-and-django",
        include_str!("../../docs/guide/code-and-django.md"),
    ),
    ("teaching", include_str!("../../docs/guide/teaching.md")),
    ("throttling", include_str!("../../docs/guide/throttling.md")),
    ("secret-key", include_str!("../../docs/guide/secret-key.md")),
    ("deployment", include_str!("../../docs/guide/deployment.md")),
    ("scale-out", include_str!("../../docs/guide/scale-out.md")),
    (
        "reading-the-code",
        include_str!("../../docs/guide/reading-the-code.md"),
    ),
    ("tests", include_str!("../../docs/guide/tests.md")),
    ("benchmark", include_str!("../../docs/guide/benchmark.md")),
];

/// The file the index is written in: a forge shows a folder's `README.md` as its front page.
pub const INDEX_FILE: &str = "README.md";

/// Where the pictures of `docs/screenshots` are served, for the guide's images.
pub const SCREENSHOTS: &str = "/guide/screenshots";

/// The pages of the app a code span may name and get a link to: the GET pages a student opens.
const APP_PAGES: &[&str] = &[
    "/",
    "/color",
    "/notes",
    "/session",
    "/session.json",
    "/signup",
    "/login",
    "/account",
    "/account/sessions",
    "/labs/replay",
    "/labs/tamper",
    "/labs/outage",
    "/compare",
    "/compare.json",
    "/exercises",
    "/exercises.json",
    "/teacher",
    "/healthz",
    "/guide",
];

/// A page with more second-level headings than this opens with a list of them.
const CONTENTS_FROM: usize = 3;

/// One heading of a page, with the id its element carries.
#[derive(Debug, Clone)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// One page, rendered.
#[derive(Debug)]
pub struct Page {
    /// Its name in the URL (`""` for the index).
    pub slug: &'static str,
    /// Its first heading's text, for the window's title.
    pub title: String,
    /// The page's HTML, its list of sections included: trusted, written into the layout as is.
    pub html: String,
    pub headings: Vec<Heading>,
}

/// Every page, and where each heading's text leads.
#[derive(Debug)]
pub struct Guide {
    pages: Vec<Page>,
    /// A heading's text → `/guide/<page>#<id>`: the first page that has it wins.
    sections: HashMap<String, String>,
}

/// The guide, rendered at its first use and kept for the life of the process: the files are in
/// the binary, so they cannot change under it. Rendering all of it takes a few milliseconds.
pub fn guide() -> &'static Guide {
    static GUIDE: OnceLock<Guide> = OnceLock::new();
    GUIDE.get_or_init(|| Guide::render(SOURCES))
}

/// The URL of a page.
pub fn url(slug: &str) -> String {
    if slug.is_empty() {
        "/guide".to_string()
    } else {
        format!("/guide/{slug}")
    }
}

impl Guide {
    fn render(sources: &[(&'static str, &str)]) -> Guide {
        let pages: Vec<Page> = sources
            .iter()
            .map(|(slug, source)| render_page(slug, source))
            .collect();
        let mut sections = HashMap::new();
        for page in &pages {
            for h in &page.headings {
                // A page's title names the whole page: no fragment for it.
                let at = if h.level == 1 {
                    url(page.slug)
                } else {
                    format!("{}#{}", url(page.slug), h.id)
                };
                sections.entry(h.text.clone()).or_insert(at);
            }
        }
        Guide { pages, sections }
    }

    /// The page called `slug` (`""`: the index).
    pub fn page(&self, slug: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.slug == slug)
    }

    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    /// Where the section whose heading reads `heading` is (`/guide/devtools#…`): for the pages and
    /// exercises that name a section by its title.
    pub fn section_url(&self, heading: &str) -> Option<&str> {
        self.sections.get(heading).map(String::as_str)
    }
}

/// The id a forge gives a heading: lower case, letters, digits, `_` and `-` kept, each space a
/// `-`, everything else (punctuation, backticks, dashes) dropped.
pub fn heading_id(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a link of the Markdown becomes in the app.
enum Dest {
    Keep(String),
    /// No page of the app: the link's text stays, without the link.
    Drop,
}

fn app_dest(dest: &str) -> Dest {
    if dest.starts_with('#') || dest.contains("://") || dest.starts_with("mailto:") {
        return Dest::Keep(dest.to_string());
    }
    if let Some(file) = dest.strip_prefix("../screenshots/") {
        return Dest::Keep(format!("{SCREENSHOTS}/{file}"));
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    // Another page of the guide: a file of this folder.
    if let Some(name) = path.strip_suffix(".md").filter(|n| !n.contains('/')) {
        let slug = if path == INDEX_FILE { "" } else { name };
        if SOURCES.iter().any(|(s, _)| *s == slug) {
            let mut url = url(slug);
            if let Some(f) = fragment {
                url.push('#');
                url.push_str(f);
            }
            return Dest::Keep(url);
        }
    }
    Dest::Drop
}

fn level_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Renders one page: headings with ids, links for the app, raw HTML shown as text (the files are
/// ours, but the pages' Content-Security-Policy would refuse inline code anyway, and a `<` typed
/// in prose should read as one), images loaded lazily, and the list of sections after the title.
fn render_page(slug: &'static str, source: &str) -> Page {
    let options = Options::ENABLE_TABLES;
    let mut events: Vec<Event<'_>> = Parser::new_ext(source, options).collect();

    // Headings: each one's text, then its id, unique within the page as a forge makes it.
    let mut headings = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, .. }) = &events[i] {
            let level = *level;
            let mut text = String::new();
            let mut j = i + 1;
            while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(t) | Event::Code(t) = &events[j] {
                    text.push_str(t);
                }
                j += 1;
            }
            let base = heading_id(&text);
            let n = seen.entry(base.clone()).or_insert(0);
            let id = if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            *n += 1;
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                *slot = Some(CowStr::from(id.clone()));
            }
            headings.push(Heading {
                level: level_number(level),
                id,
                text,
            });
            i = j;
        }
        i += 1;
    }

    // Links, raw HTML and the app's paths.
    let mut out = Vec::with_capacity(events.len());
    let mut kept_links: Vec<bool> = Vec::new();
    let mut in_heading = false;
    for event in events {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                out.push(event);
            }
            Event::End(TagEnd::Heading(_)) => {
                in_heading = false;
                out.push(event);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match app_dest(&dest_url) {
                Dest::Keep(dest) => {
                    kept_links.push(true);
                    out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: dest.into(),
                        title,
                        id,
                    }));
                }
                Dest::Drop => kept_links.push(false),
            },
            Event::End(TagEnd::Link) => {
                if kept_links.pop().unwrap_or(true) {
                    out.push(event);
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = match app_dest(&dest_url) {
                    Dest::Keep(d) => d.into(),
                    Dest::Drop => dest_url,
                };
                out.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw)),
            Event::Code(code)
                if kept_links.is_empty() && !in_heading && APP_PAGES.contains(&&*code) =>
            {
                let dest = CowStr::from(code.to_string());
                out.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: dest,
                    title: "".into(),
                    id: "".into(),
                }));
                out.push(Event::Code(code));
                out.push(Event::End(TagEnd::Link));
            }
            other => out.push(other),
        }
    }

    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    // A page of pictures should not fetch every one before the reader scrolls to it.
    let mut html = html.replace("<img ", "<img loading=\"lazy\" ");

    let sections: Vec<&Heading> = headings.iter().filter(|h| h.level == 2).collect();
    if sections.len() > CONTENTS_FROM {
        if let Some(end) = html.find("</h1>").map(|at| at + "</h1>".len()) {
            let items: String = sections
                .iter()
                .map(|h| {
                    format!(
                        "<li><a href=\"#{}\">{}</a></li>",
                        tera::escape_html(&h.id),
                        tera::escape_html(&h.text)
                    )
                })
                .collect();
            let list = format!(
                "\n<nav class=\"contents\" aria-label=\"On this page\"><ul>{items}</ul></nav>\n"
            );
            html.insert_str(end, &list);
        }
    }

    let title = headings
        .iter()
        .find(|h| h.level == 1)
        .map(|h| h.text.clone())
        .unwrap_or_else(|| "Guide".to_string());
    Page {
        slug,
        title,
        html,
        headings,
    }
}

#[cfg(test)]
mod tests;
