//! What every form and every refused form repeats, written once: the hidden CSRF field and the
//! error lines, as Tera functions (`csrf_field`, `error_line`, `error_list`) that templates call
//! and write with `| safe`.
//!
//! Why functions registered in Rust rather than Tera macros: a template that imports a macro file
//! has Tera collect those macros again on every render, and each call renders into a frame of its
//! own. Measured with callgrind (`bench/instructions`), the three macro calls of `/color` cost
//! about 34,000 instructions a page, a fifth of the whole request; these functions cost a few
//! hundred each. Values are HTML-escaped here, as autoescape would.

use std::collections::HashMap;

use rocket_dyn_templates::tera::{self, Value};

fn text<'a>(args: &'a HashMap<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

/// `<input type="hidden" name="csrf_token" value="…">` (docs/SPEC.md: a POST without it is 403).
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        tera::escape_html(token)
    )
}

/// Why a form was refused, announced to screen readers; nothing when there is no message.
pub fn error_line(text: Option<&str>) -> String {
    match text.filter(|t| !t.is_empty()) {
        Some(t) => format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            tera::escape_html(t)
        ),
        None => String::new(),
    }
}

/// The same for several reasons at once (signup and login can fail for more than one).
pub fn error_list<'a>(list: impl IntoIterator<Item = &'a str>) -> String {
    let lines: String = list
        .into_iter()
        .map(|e| format!("<p>{}</p>", tera::escape_html(e)))
        .collect();
    if lines.is_empty() {
        return lines;
    }
    format!("<div class=\"error\" role=\"alert\">{lines}</div>")
}

/// Registers the three functions. A missing token fails the render: a form without its token
/// would only be refused (403) when posted, so the first test that shows it should catch it.
pub fn register(tera: &mut tera::Tera) {
    tera.register_function(
        "csrf_field",
        |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let token = text(args, "token").ok_or("csrf_field needs token=…")?;
            Ok(Value::String(csrf_field(token)))
        },
    );
    tera.register_function(
        "error_line",
        |args: &HashMap<String, Value>| -> tera::Result<Value> {
            Ok(Value::String(error_line(text(args, "text"))))
        },
    );
    tera.register_function(
        "error_list",
        |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let list = args.get("list").and_then(Value::as_array);
            let lines = list.into_iter().flatten().filter_map(Value::as_str);
            Ok(Value::String(error_list(lines)))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_lines_escape_what_they_are_given() {
        assert_eq!(
            csrf_field("a\"b"),
            "<input type=\"hidden\" name=\"csrf_token\" value=\"a&quot;b\">"
        );
        assert_eq!(error_line(None), "");
        assert_eq!(error_line(Some("")), "");
        assert_eq!(
            error_line(Some("<b>")),
            "<p class=\"error\" role=\"alert\">&lt;b&gt;</p>"
        );
        assert_eq!(error_list([]), "");
        assert_eq!(
            error_list(["one", "t&o"]),
            "<div class=\"error\" role=\"alert\"><p>one</p><p>t&amp;o</p></div>"
        );
    }
}
