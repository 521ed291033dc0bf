//! `GET /guide`, `GET /guide/<page>`: the guide's pages (see [`crate::guide`]) inside the site's
//! layout, and `GET /guide/screenshots/<file>`, the pictures they show.
//!
//! The pages touch neither the session nor the database: their Markdown was rendered once, so a
//! request costs the layout's render and nothing else, and reading the guide never makes a session
//! or a row. The header therefore says nothing of a login (as error pages do not).

use rocket::fs::NamedFile;
use rocket::http::Header;
use rocket::{get, Responder, State};
use serde_json::json;

use crate::cookies::CookieConfig;
use crate::guide::{self, guide};
use crate::html::Html;

/// Where the pictures are: beside the sources, as the templates are.
const SCREENSHOT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots");

/// A page of the guide, or `None` (the app's 404 page) when there is no such page.
fn show(slug: &str, cookies: &CookieConfig) -> Option<Html> {
    let page = guide().page(slug)?;
    Some(Html::render(
        "guide",
        json!({
            "mode": cookies.mode.as_str(),
            "path": guide::url(slug),
            "title": page.title,
            "body": page.html,
        }),
    ))
}

#[get("/guide")]
fn guide_index(cookies: &State<CookieConfig>) -> Option<Html> {
    show("", cookies)
}

/// Only `/guide` serves the index: neither `/guide/README` nor an empty name is a second address
/// for it.
#[get("/guide/<page>")]
fn guide_page(page: &str, cookies: &State<CookieConfig>) -> Option<Html> {
    if page.is_empty() {
        return None;
    }
    show(page, cookies)
}

#[derive(Responder)]
struct Picture {
    file: NamedFile,
    cache: Header<'static>,
}

/// A picture of `docs/screenshots`, by a name of lower-case letters, digits and dashes only, so
/// no path can reach outside the folder. Cached for a day: the pictures change only with a new
/// build of the app.
#[get("/guide/screenshots/<name>")]
async fn screenshot(name: &str) -> Option<Picture> {
    let stem = name.strip_suffix(".png")?;
    let safe = !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !safe {
        return None;
    }
    let file = NamedFile::open(format!("{SCREENSHOT_DIR}/{name}"))
        .await
        .ok()?;
    Some(Picture {
        file,
        cache: Header::new("Cache-Control", "public, max-age=86400"),
    })
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![guide_index, guide_page, screenshot]
}
