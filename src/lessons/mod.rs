//! "The code behind this page": the few lines of each lesson page's handler that touch the
//! session, beside what a Django project writes for the same step (and, where a store has a
//! well-known Rust peer, what that library writes).
//!
//! Our side is never typed here. `build.rs` copies each block marked `// lesson: <id>` …
//! `// end lesson` in `src/` into a constant of [`snippets`], so a page shows the code that runs,
//! and a page that names a block no source marks does not compile. The Django side is written
//! here, since it is the comparison, not our code.
//!
//! Each page's box is assembled into HTML once per mode (the first time it is shown) and handed to
//! the templates, already wrapped in its collapsed `<details>`, by the Tera function
//! `code_behind(page=…, mode=…)`: a loop over the parts in Tera (or a macro around it) would cost
//! every page render more than the rest of its template.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use rocket_dyn_templates::tera::{self, escape_html};
use serde_json::Value;

use crate::settings::Mode;

/// A block of source lines between two lesson markers, as `build.rs` found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    /// The marker's id: `// lesson: color-set`.
    pub id: &'static str,
    /// The file, relative to the crate's root (`src/routes/color.rs`).
    pub file: &'static str,
    /// The 1-based line of the first shown line (the one after the marker).
    pub first_line: usize,
    /// The lines, without the indentation they share, each ending in `\n`.
    pub code: &'static str,
}

impl Snippet {
    /// The 1-based line of the last shown line.
    pub fn last_line(&self) -> usize {
        self.first_line + self.code.lines().count() - 1
    }

    /// Where it is, in words: `line 12` or `lines 12–20`.
    pub fn lines(&self) -> String {
        match self.last_line() {
            last if last == self.first_line => format!("line {last}"),
            last => format!("lines {}–{last}", self.first_line),
        }
    }
}

/// Every marked block of `src/`, one constant each (`color-set` → `COLOR_SET`), and [`ALL`].
///
/// [`ALL`]: snippets::ALL
pub mod snippets {
    use super::Snippet;
    include!(concat!(env!("OUT_DIR"), "/snippets.rs"));
}

/// One step of a page: our lines, Django's, and what differs.
pub struct Part {
    pub title: &'static str,
    pub ours: &'static [Snippet],
    pub django: &'static str,
    /// Other libraries' code for the same step, shown under Django's: `(who, code)`, written
    /// here in our own words (actix-session beside Django for the Redis store).
    pub also: &'static [(&'static str, &'static str)],
    /// HTML (trusted: written here), shown under the pair.
    pub note: &'static str,
}

/// A page's box: its parts, in the order a student meets them.
pub struct Lesson {
    /// The name templates ask for: `{{ m::code(page="color", mode=mode) }}`.
    pub page: &'static str,
    pub parts: &'static [Part],
}

mod pages;

pub use pages::LESSONS;

/// Django's setting for what this mode does, in a sentence.
fn engine(mode: Mode) -> &'static str {
    match mode {
        Mode::Cookie => {
            "Django's nearest is <code>SESSION_ENGINE = \
             \"django.contrib.sessions.backends.signed_cookies\"</code>: the map in the cookie, \
             signed but readable (base64 JSON). Ours is encrypted too (AES-256-GCM)."
        }
        Mode::Server => {
            "Django's nearest is <code>SESSION_ENGINE = \
             \"django.contrib.sessions.backends.db\"</code> (its default): a random key in the \
             <code>sessionid</code> cookie, the data in a row of <code>django_session</code>."
        }
        Mode::Redis => {
            "Django's nearest is <code>SESSION_ENGINE = \
             \"django.contrib.sessions.backends.cache\"</code> with a Redis cache: a random key in \
             the <code>sessionid</code> cookie, the data in the cache under that key — which \
             Django warns may be evicted. Ours files it under the key's SHA-256."
        }
    }
}

fn block(into: &mut String, code: &str) {
    let _ = write!(
        into,
        "<pre class=\"code\"><code>{}</code></pre>",
        escape_html(code.trim_end())
    );
}

/// The inside of a page's `<details>` box, in `mode`.
fn render(lesson: &Lesson, mode: Mode) -> String {
    let mut html = format!("<p>{}</p>", engine(mode));
    for part in lesson.parts {
        let _ = write!(
            html,
            "<section class=\"pair\"><h2>{}</h2><div class=\"side\"><p class=\"who\">Session Lab</p>",
            escape_html(part.title)
        );
        for snippet in part.ours {
            let _ = write!(
                html,
                "<p class=\"where\"><code>{}</code>, {}</p>",
                snippet.file,
                snippet.lines()
            );
            block(&mut html, snippet.code);
        }
        html.push_str("</div><div class=\"side\"><p class=\"who\">Django</p>");
        block(&mut html, part.django);
        // The other peers share Django's side: on a phone every side stacks anyway, and on a
        // wide screen ours keeps its three fifths.
        for (who, code) in part.also {
            let _ = write!(html, "<p class=\"who\">{}</p>", escape_html(who));
            block(&mut html, code);
        }
        html.push_str("</div>");
        if !part.note.is_empty() {
            let _ = write!(html, "<p class=\"note\">{}</p>", part.note);
        }
        html.push_str("</section>");
    }
    html
}

/// Each page's box in server and cookie mode, in the order of [`LESSONS`], built the first time
/// any is shown.
static RENDERED: LazyLock<Vec<[String; Mode::ALL.len()]>> = LazyLock::new(|| {
    // Collapsed by default: the page's lesson comes first, its code on request.
    let boxed = |l: &Lesson, mode: Mode| {
        format!(
            "<details class=\"code-behind\">\n<summary>The code behind this page, beside \
             Django's</summary>\n{}\n</details>",
            render(l, mode)
        )
    };
    LESSONS
        .iter()
        .map(|l| Mode::ALL.map(|mode| boxed(l, mode)))
        .collect()
});

/// The box of `page` in `mode`, or `None` for a page with no lesson.
pub fn html(page: &str, mode: Mode) -> Option<&'static str> {
    let i = LESSONS.iter().position(|l| l.page == page)?;
    let boxes = RENDERED.get(i)?;
    let m = Mode::ALL.iter().position(|m| *m == mode)?;
    Some(boxes.get(m)?.as_str())
}

/// The lesson of `page`, if it has one.
pub fn lesson(page: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.page == page)
}

/// Registers `code_behind(page=…, mode=…)`, the whole collapsed box as HTML (templates write it
/// with `| safe`); an unknown page fails the render, so a template that asks for a box nobody
/// wrote is caught by the first test that shows it.
pub fn register(tera: &mut tera::Tera) {
    tera.register_function(
        "code_behind",
        |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let page = args.get("page").and_then(Value::as_str).unwrap_or_default();
            let name = args.get("mode").and_then(Value::as_str).unwrap_or_default();
            let mode =
                Mode::named(name).ok_or_else(|| format!("code_behind: no mode called {name:?}"))?;
            html(page, mode)
                .map(|h| Value::String(h.to_string()))
                .ok_or_else(|| format!("no lesson code for the page {page:?}").into())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marked_block_is_shown_on_some_page() {
        for snippet in snippets::ALL {
            let shown = LESSONS
                .iter()
                .flat_map(|l| l.parts)
                .flat_map(|p| p.ours)
                .any(|o| o == snippet);
            assert!(
                shown,
                "{} ({}:{}) is marked but no page shows it",
                snippet.id, snippet.file, snippet.first_line
            );
        }
    }

    #[test]
    fn each_page_has_one_lesson_and_its_box_escapes_the_code() {
        let mut pages: Vec<_> = LESSONS.iter().map(|l| l.page).collect();
        pages.sort_unstable();
        pages.dedup();
        assert_eq!(pages.len(), LESSONS.len(), "a page listed twice");
        let color = html("color", Mode::Server).unwrap_or_default();
        // `Option<String>` in the handler must arrive as text, not as a tag.
        assert!(color.contains("Option&lt;String&gt;"), "{color}");
        assert!(html("nowhere", Mode::Server).is_none());
    }
}
