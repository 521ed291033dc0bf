//! The header's navigation, given by a Tera function (`nav(path=…)`) rather than written in the
//! layout: it marks the link of the page you are on with `aria-current="page"`.
//!
//! Measured with callgrind (`bench/instructions`, GET /color in cookie mode, release build): the
//! navigation written in the layout with a `{% if path == "…" %}` per link cost 21,000
//! instructions more than without them (248.2k against 227.0k), a tenth of the request; this
//! function formatting the links at each call, 10,500; returning one of the forms written once at
//! start, as below, 2,900.

use std::collections::HashMap;

use rocket_dyn_templates::tera::{self, Value};

/// The navigation's links, in order: where each leads and what it says.
const LINKS: &[(&str, &str)] = &[
    ("/color", "Color"),
    ("/notes", "Notes"),
    ("/session", "Inspector"),
    ("/account", "Account"),
    ("/compare", "Compare"),
    ("/labs/outage", "Outage"),
    ("/guide", "Guide"),
];

/// The `<nav>`, with `aria-current="page"` on the link whose address is `here` (none elsewhere:
/// `/account/sessions` is not `/account`).
pub fn nav(here: &str) -> String {
    let mut out = String::with_capacity(400);
    out.push_str("<nav aria-label=\"Site\">");
    for (href, text) in LINKS {
        let current = if *href == here {
            " aria-current=\"page\""
        } else {
            ""
        };
        out.push_str(&format!("\n      <a href=\"{href}\"{current}>{text}</a>"));
    }
    out.push_str("\n    </nav>");
    out
}

/// Registers `nav(path=…)`. A page without a path (none today) gets no current link. The
/// navigation has one form per link plus one with none current, each written once, here.
pub fn register(tera: &mut tera::Tera) {
    let none = nav("");
    let forms: Vec<(&'static str, String)> =
        LINKS.iter().map(|(href, _)| (*href, nav(href))).collect();
    tera.register_function(
        "nav",
        move |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let here = args.get("path").and_then(Value::as_str).unwrap_or("");
            let html = forms
                .iter()
                .find(|(href, _)| *href == here)
                .map_or(&none, |(_, html)| html);
            Ok(Value::String(html.clone()))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_page_you_are_on_is_current() {
        let html = nav("/notes");
        assert_eq!(html.matches("aria-current").count(), 1);
        assert!(html.contains("<a href=\"/notes\" aria-current=\"page\">Notes</a>"));
        assert!(!nav("/account/sessions").contains("aria-current"));
        assert!(!nav("").contains("aria-current"));
    }
}
