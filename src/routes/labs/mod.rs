//! `/labs/…`: pages that stage the attacks the guide (docs/guide/devtools.md) describes — a copied cookie replayed, a
//! tampered one sent — and show what the app makes of them, in both modes.
//!
//! The labs only look: they open cookie values the way a request would and report the outcome.
//! They never write a session; the one lab action that sets the session cookie ("put the copy
//! back") does it on purpose, and says so.

mod encodings;
mod replay;
mod tamper;

use rocket::http::{Cookie, Header};
use rocket::response::{self, Redirect, Responder};
use rocket::Request;

pub fn routes() -> Vec<rocket::Route> {
    [replay::routes(), tamper::routes()].concat()
}

/// A redirect that also sets cookies, written the way the session fairing writes the session
/// cookie: raw `Set-Cookie` headers, not Rocket's jar, whose percent-encoding would turn a
/// base64 value's `+`, `/` and `=` into three bytes each. So a value's size is what the page
/// says, and a value put back is byte for byte the one kept.
pub struct RedirectWithCookies {
    to: Redirect,
    cookies: Vec<Cookie<'static>>,
}

impl RedirectWithCookies {
    pub fn new(to: &'static str, cookies: Vec<Cookie<'static>>) -> RedirectWithCookies {
        RedirectWithCookies {
            to: Redirect::to(to),
            cookies,
        }
    }
}

impl<'r> Responder<'r, 'static> for RedirectWithCookies {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = self.to.respond_to(req)?;
        for cookie in self.cookies {
            res.adjoin_header(Header::new("Set-Cookie", cookie.to_string()));
        }
        Ok(res)
    }
}

/// The first characters of a cookie value: enough to recognise it, not a credential to copy.
fn start_of(value: &str) -> String {
    let start: String = value.chars().take(16).collect();
    if start.len() < value.len() {
        format!("{start}…")
    } else {
        start
    }
}
