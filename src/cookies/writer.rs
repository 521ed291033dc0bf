//! The one cookie writer: at the end of a response, every cookie the request queued goes out as a
//! `Set-Cookie` line, and what left is read back as the request's [`Exchange`].
//!
//! The lines are written from the cookie itself (`name=value; attributes`), without Rocket's
//! percent-encoding: a base64 value (`A–Z a–z 0–9 + / =`) is legal in a cookie as it is, so its
//! size on the wire is exactly the size the app checked against 4096 bytes.

use rocket::http::Header;
use rocket::{Request, Response};

use super::{CookieConfig, Exchange, Outbox};

/// What the writer did for one response.
pub struct Written {
    /// What crossed the wire: the request's cookies and every `Set-Cookie` line of the response.
    pub exchange: Exchange,
    /// The page asked to show the exchange in its footer.
    pub show: bool,
}

/// Sends every queued cookie, then reads the response's `Set-Cookie` lines back. Should anything
/// else have set a cookie (Rocket's own jar, which nothing of the app uses), it is in the
/// exchange too, and logged: the pages must never say less than what was sent.
/// `kept`: a report will keep the exchange; without it, and without a page that shows it, the
/// lines are not read back (a plain request pays nothing for the lesson).
pub fn write(
    req: &Request<'_>,
    res: &mut Response<'_>,
    config: &CookieConfig,
    kept: bool,
) -> Written {
    let (queued, show) = Outbox::of(req).take();
    if res.headers().get_one("Set-Cookie").is_some() {
        rocket::warn!(
            "a Set-Cookie line was written outside the cookie writer on {}",
            req.uri()
        );
    }
    for (_, cookie) in queued {
        res.adjoin_header(Header::new("Set-Cookie", cookie.to_string()));
    }
    if !(show || kept) {
        return Written {
            exchange: Exchange::default(),
            show,
        };
    }
    let exchange = Exchange::read(
        config,
        res.status().code,
        req.headers().get("Cookie"),
        res.headers().get("Set-Cookie"),
    );
    Written { exchange, show }
}
