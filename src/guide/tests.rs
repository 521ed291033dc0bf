//! The guide's pages: each renders, links resolve, and headings get GitHub's ids.

use super::*;

#[test]
fn slugs_are_the_ones_a_forge_makes() {
    assert_eq!(
        heading_id("Compare the modes in your browser's devtools"),
        "compare-the-modes-in-your-browsers-devtools"
    );
    assert_eq!(
        heading_id("Headers every response carries, and the __Host- cookies"),
        "headers-every-response-carries-and-the-__host--cookies"
    );
    assert_eq!(heading_id("1. A fresh visit"), "1-a-fresh-visit");
    assert_eq!(
        heading_id("Teaching a class: the teacher's view"),
        "teaching-a-class-the-teachers-view"
    );
}

#[test]
fn every_markdown_file_of_the_folder_is_a_page() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/guide");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".md"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut listed: Vec<String> = SOURCES
        .iter()
        .map(|(s, _)| {
            if s.is_empty() {
                INDEX_FILE.to_string()
            } else {
                format!("{s}.md")
            }
        })
        .collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn links_headings_and_raw_html_are_made_for_the_app() {
    let page = render_page(
        "x",
        "# Title\n\nSee [the walk](devtools.md#3-watch-it-grow), [the index](README.md), \
         [nginx](../../deploy/nginx.conf), [zxcvbn](https://example.org/z) and `/color`; \
         <script>alert(1)</script>\n\n![home](../screenshots/server-home.png)\n\n\
         ## A `code` heading\n\n## Twice\n\n## Twice\n\n## Four\n",
    );
    let h = &page.html;
    assert!(h.contains("<h1 id=\"title\">Title</h1>"), "{h}");
    assert!(
        h.contains("href=\"/guide/devtools#3-watch-it-grow\""),
        "{h}"
    );
    assert!(h.contains("<a href=\"/guide\">the index</a>"), "{h}");
    assert!(h.contains(" nginx, "), "a link to a file has no page: {h}");
    assert!(h.contains("href=\"https://example.org/z\""), "{h}");
    assert!(
        h.contains("<a href=\"/color\"><code>/color</code></a>"),
        "{h}"
    );
    assert!(h.contains("&lt;script&gt;"), "{h}");
    assert!(!h.contains("<script>"), "{h}");
    assert!(
        h.contains("<img loading=\"lazy\" src=\"/guide/screenshots/server-home.png\""),
        "{h}"
    );
    assert!(h.contains("<h2 id=\"a-code-heading\">"), "{h}");
    assert!(h.contains("<h2 id=\"twice-1\">"), "{h}");
    assert!(
        h.contains("<nav class=\"contents\" aria-label=\"On this page\">"),
        "{h}"
    );
    assert_eq!(page.title, "Title");
}
