//! `GET /favicon.ico`: the icon browsers ask for on their own, so devtools' Network tab shows no
//! 404 beside the requests a student came to read. A cookie with a bite, 16 and 32 px (PNG
//! images in an ICO container, drawn by `docs/make-favicon`), served from the binary.

use rocket::get;
use rocket::http::{ContentType, Header};
use rocket::Responder;

const ICON: &[u8] = include_bytes!("../../static/favicon.ico");

#[derive(Responder)]
struct Icon {
    body: (ContentType, &'static [u8]),
    cache: Header<'static>,
}

/// Cached for a day rather than a year like the versioned files: browsers fetch this URL by
/// name, so a new icon can only reach them when the old one expires.
#[get("/favicon.ico")]
fn favicon() -> Icon {
    Icon {
        body: (ContentType::Icon, ICON),
        cache: Header::new("Cache-Control", "public, max-age=86400"),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![favicon]
}
