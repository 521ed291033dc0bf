//! The app's one response step: what happens after every handler, in this order, in one place —
//! not spread over fairings that must be attached in the right order.
//!
//! 1. The session layer finishes: its one store write, its cookie queued ([`Session::finish`]),
//!    and the [`Summary`] of what it did — the app's own session, then the sibling modes' under
//!    `--mode both` or `all`.
//! 2. A change that could not be kept (the store failed, or the session ended meanwhile) turns
//!    the response into the error page that says so, and the cookies that describe that session
//!    state are not sent.
//! 3. The features that react to the session take its summary: the exercises (which may queue
//!    the learner cookie), then the reports (which may queue the report's token).
//! 4. `Session-Trace` and `Cache-Control` from the summary.
//! 5. The one cookie writer sends every queued cookie and reads back what left.
//! 6. The reports keep that exchange for the page a redirect lands on, or write it into this
//!    page's footer.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

use crate::cookies::{writer, CookieConfig, Jar, Outbox};
use crate::session::{Session, SessionLayer, Summary};
use crate::{error, exercises, report};

/// The response step's fairing: see the module's documentation.
pub struct ResponseStep;

#[rocket::async_trait]
impl Fairing for ResponseStep {
    fn info(&self) -> Info {
        Info {
            name: "Response step",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let rocket = req.rocket();
        let (Some(config), Some(jar), Some(layer)) = (
            rocket.state::<CookieConfig>(),
            Jar::of(req),
            rocket.state::<SessionLayer>(),
        ) else {
            return;
        };
        // 1. The sessions finish.
        let own = Session::of(req, layer, jar).finish(res.status()).await;
        let mut siblings = Vec::new();
        for theirs in Session::siblings(req) {
            let used = theirs.used().await;
            let summary = theirs.finish(res.status()).await;
            if used {
                siblings.push(summary);
            }
        }
        // 2. A change that was not kept.
        let failure = own
            .failure()
            .or_else(|| siblings.iter().find_map(Summary::failure));
        if let Some(status) = failure {
            Outbox::of(req).discard_session_state();
            error::page::replace(req, res, status, None);
        }
        // 3. Those who react to it.
        exercises::watch::observe(req, res, &own, jar).await;
        // The report tells every sibling's story the request used beside the app's own.
        let to_keep = report::observe(req, res, &own, &siblings, jar);
        // 4. The session's headers.
        if layer.trace_enabled() {
            res.set_header(Header::new("Session-Trace", own.trace()));
        }
        if own.accessed || siblings.iter().any(|s| s.accessed) {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
        // 5. The one writer (what it sent is read back only where a page or a report tells it).
        let written = writer::write(req, res, config, to_keep.is_some());
        // 6. What left, told.
        report::deliver(req, res, to_keep, written).await;
    }
}
