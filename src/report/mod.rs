//! "What just happened": every page tells what its own request did to the session, and the page a
//! redirect lands on tells what the request before it did — from the [`Summary`] the session layer
//! publishes and the [`Exchange`] the cookie writer read back, worded by the templates
//! (`templates/report.html`, `templates/exchange.html`, see [`story`]).
//!
//! A POST (or a refused session) answers with a redirect, and the page the browser lands on could
//! not know what the POST did — so the report waits in this process's memory ([`shelf`]) under a
//! random token, and the browser gets only that token, sealed, in a cookie of its own
//! (`report_<mode>`, about 80 bytes): the page that lands takes the report out and removes the
//! cookie. That is Django's one-time messages, with the message kept on the server so its cookie
//! never dwarfs the session cookie it reports on. It is no session write, creates no row, works
//! without PostgreSQL, and only the browser holding the sealed token can read it. A report that
//! is gone (kept too long, a restart, another instance) is said to be gone. With
//! `shared_state = "redis"` the shelf is in Redis instead ([`shelf::shared`]), so a report made
//! on one instance behind a proxy is found on any other.

mod asked;
pub mod drawing;
mod heap;
pub mod shelf;
pub mod story;
pub mod words;

use rocket::fairing::AdHoc;
use rocket::http::{Method, StatusClass};
use rocket::{Request, Response};
use serde_json::{json, Value};

use crate::cookies::wire::EXCHANGE_MARKER;
use crate::cookies::writer::Written;
use crate::cookies::{CookieValue, Exchange, Jar, Kind};
use crate::session::Summary;
use crate::settings::{Mode, Settings};
pub use shelf::{shared::SharedShelf, Bounds, Browser, ReportShelf};

/// What the page after a redirect is told: the request, its summary, the sibling modes' under
/// `--mode both` or `all` (each the request used), and what crossed the wire.
#[derive(Debug, Clone)]
pub struct Told {
    pub request: String,
    pub own: Summary,
    pub siblings: Vec<Summary>,
    pub exchange: Exchange,
}

/// The report cookie's value: a token naming a kept report.
struct ReportToken(String);

impl CookieValue for ReportToken {
    fn kind(mode: Mode) -> Kind {
        Kind::Report(mode)
    }
    fn encode(&self) -> Option<String> {
        Some(self.0.clone())
    }
    fn decode(plaintext: &str) -> Option<Self> {
        Some(ReportToken(plaintext.to_string()))
    }
}

/// A report to keep once the cookies are written, under the token its cookie carries.
pub struct ToKeep {
    token: String,
    request: String,
    own: Summary,
    siblings: Vec<Summary>,
}

/// The reports' stage: the shelf, bounded as the settings say, on the app's clock. Needs the
/// clock's stage before it.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Reports", |rocket| async {
        let settings = rocket.state::<Settings>().cloned().unwrap_or_default();
        let Some(clock) = rocket
            .state::<std::sync::Arc<crate::clock::Clock>>()
            .cloned()
        else {
            return rocket;
        };
        let bounds = Bounds::of(&settings);
        let rocket = rocket.manage(ReportShelf::new(bounds, clock));
        if settings.shared_state != crate::settings::SharedState::Redis {
            return rocket;
        }
        match crate::throttle::SharedRedis::new(&settings.redis_url, &settings.redis_prefix) {
            Ok(redis) => rocket.manage(SharedShelf::new(std::sync::Arc::new(redis), bounds)),
            Err(e) => {
                rocket::error!("shared_state: redis_url cannot be read ({e}); local reports");
                rocket
            }
        }
    })
}

/// The request as the report names it: `POST /color`.
pub fn request_line(req: &Request<'_>) -> String {
    format!("{} {}", req.method(), req.uri().path())
}

/// After the session layer finished: a redirect whose next page must learn what this request did
/// (every POST, and a GET whose cookie was refused) queues its report's token cookie. Returns the
/// report to keep once the cookies are written (its exchange includes that cookie).
pub fn observe(
    req: &Request<'_>,
    res: &Response<'_>,
    own: &Summary,
    siblings: &[Summary],
    jar: Jar<'_>,
) -> Option<ToKeep> {
    let told = req.method() != Method::Get || own.refused.is_some();
    let redirect = res.status().class() == StatusClass::Redirection;
    if !(told && redirect) || req.rocket().state::<ReportShelf>().is_none() {
        return None;
    }
    let token = ReportShelf::new_token();
    jar.set(&ReportToken(token.clone()));
    Some(ToKeep {
        token,
        request: request_line(req),
        own: own.clone(),
        siblings: siblings.to_vec(),
    })
}

/// After the cookie writer: finishes a page that shows its own exchange (writing what was sent
/// into its footer), and keeps the report for the page a redirect lands on.
pub async fn deliver(
    req: &Request<'_>,
    res: &mut Response<'_>,
    to_keep: Option<ToKeep>,
    written: Written,
) {
    if let Some(page) = crate::cookies::Outbox::of(req).take_page() {
        let mut page = page;
        // The marker sits in the footer, near the end: searched for from there (SIMD).
        if let (true, Some(at)) = (
            written.show,
            memchr::memmem::rfind(page.as_bytes(), EXCHANGE_MARKER.as_bytes()),
        ) {
            page.replace_range(
                at..at + EXCHANGE_MARKER.len(),
                &story::wire(&written.exchange),
            );
        }
        res.set_sized_body(page.len(), std::io::Cursor::new(page));
    }
    if let (Some(k), Some(shelf)) = (to_keep, req.rocket().state::<ReportShelf>()) {
        let told = Told {
            request: k.request,
            own: k.own,
            siblings: k.siblings,
            exchange: written.exchange,
        };
        match req.rocket().state::<SharedShelf>() {
            Some(shared) => {
                let now = crate::clock::now_for(req.rocket());
                let view = told_view(&told, now);
                if let Err(e) = shared.keep(&Browser::of(req), &k.token, &view, now).await {
                    rocket::warn!(
                        "shared reports (Redis) unavailable, report not kept: {}",
                        e.0
                    );
                }
            }
            None => {
                shelf.keep(Browser::of(req), k.token, told);
            }
        }
    }
}

/// The report the request before this one left, as the layout shows it — taken once, its cookie
/// removed — or `None` when no report cookie came.
pub async fn take_last(req: &Request<'_>) -> Option<Value> {
    let jar = Jar::of(req)?;
    let shelf = req.rocket().state::<ReportShelf>()?;
    let kind = Kind::Report(jar.mode());
    jar.value(kind)?;
    let token = jar.get::<ReportToken>();
    jar.remove(kind);
    let now = crate::clock::now_for(req.rocket());
    if let Some(shared) = req.rocket().state::<SharedShelf>() {
        let taken = match token {
            Some(t) => shared.take(&t.0, now).await.unwrap_or_else(|e| {
                rocket::warn!(
                    "shared reports (Redis) unavailable, report not read: {}",
                    e.0
                );
                None
            }),
            None => None,
        };
        return Some(taken.unwrap_or_else(|| json!({ "gone": true })));
    }
    let told = token.and_then(|t| shelf.take(&t.0));
    Some(match told {
        Some(told) => told_view(&told, now),
        None => json!({ "gone": true }),
    })
}

/// A kept report as the layout shows it: a headline, the exchange drawn, and the words (with
/// `--mode both` or `all` each mode's side by side, in /compare's order: server, cookie, redis).
fn told_view(told: &Told, now: time::OffsetDateTime) -> Value {
    let summaries: Vec<&Summary> = std::iter::once(&told.own).chain(&told.siblings).collect();
    let sides = (!told.siblings.is_empty()).then(|| {
        let mut sides = summaries.clone();
        sides.sort_by_key(|s| Mode::ALL.iter().position(|m| *m == s.mode));
        sides
            .iter()
            .map(|s| json!({ "mode": s.mode.as_str(), "story": story::story(s, now) }))
            .collect::<Vec<_>>()
    });
    let own = match sides {
        Some(_) => String::new(),
        None => story::story(&told.own, now),
    };
    json!({
        "request": told.request,
        "headline": drawing::headline(&told.own),
        "drawing": drawing::drawing(&told.request, &summaries, &told.exchange),
        "story": own,
        "sides": sides,
        "exchange": story::wire(&told.exchange),
        "refused_why": told.own.refused.map(words::refusal),
    })
}
