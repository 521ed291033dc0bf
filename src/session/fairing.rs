//! The session fairing: after each handler, the request's one store write, then the session
//! cookie — written once, here, as a `Set-Cookie` header — and `Session-Trace`.
//!
//! The write and the cookie are decided together, from the response as it leaves: a response
//! that failed (5xx) keeps neither, so a stored row never needs a cookie the browser did not get.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Method, Status, StatusClass};
use rocket::{Request, Response};
use serde_json::Value;

use super::layer::{Outgoing, RequestState, SessionLayer};
use super::report;
use super::sibling::{Sibling, SiblingState};
use super::store::{Change, Committed, Deadlines, Statements, StoreError};
use crate::cookies::CookieConfig;
use crate::error_page;
use crate::settings::Settings;

/// Persists each request's change once, after its handler, and reports it in `Session-Trace`.
pub struct SessionFairing;

#[rocket::async_trait]
impl Fairing for SessionFairing {
    fn info(&self) -> Info {
        Info {
            name: "Session commit",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let rocket = req.rocket();
        let (Some(layer), Some(cookies)) = (
            rocket.state::<SessionLayer>(),
            rocket.state::<CookieConfig>(),
        ) else {
            return;
        };
        let state = req.local_cache(RequestState::default);
        finish(req, res, layer, cookies, state, true).await;
        // `--mode both`: the sibling mode's session, if this request used it, is committed the
        // same way (after this app's own, and not at all if that one failed).
        if let Some(sibling) = rocket.state::<Sibling>() {
            let state = &req.local_cache(SiblingState::default).0;
            finish(req, res, &sibling.layer, &sibling.cookies, state, false).await;
        }
    }
}

/// One session's end of the request: its one store write, its cookie, and (for the app's own
/// session, `own`) `Session-Trace` and the report for the page a redirect lands on.
async fn finish(
    req: &Request<'_>,
    res: &mut Response<'_>,
    layer: &SessionLayer,
    cookies: &CookieConfig,
    state: &RequestState,
    own: bool,
) {
    let mut inner = state.inner.lock().await;
    let request = format!("{} {}", req.method(), req.uri().path());
    let mut report = report::draft(&inner, request, cookies.session, layer);
    let mut save = "none";
    // Nothing is persisted for a failed request: its handler may have stopped half-way.
    if res.status().code < 500 {
        let mut statements = Statements::default();
        let outcome = match inner.change() {
            Some(change) => {
                let kind = match change {
                    Change::Delete(_) => "delete",
                    _ => "write",
                };
                let lost_write = matches!(change, Change::Update(_));
                let deadlines = match &inner.current {
                    Some(r) => layer.deadlines(r),
                    None => Deadlines {
                        idle: layer.now(),
                        absolute: layer.now(),
                    },
                };
                let result = layer
                    .store()
                    .commit(change, deadlines, &mut statements)
                    .await;
                Some((kind, lost_write, result))
            }
            None => None,
        };
        inner.statements.add(statements.count);
        report.statements = inner.statements.count;
        report.kept = matches!(outcome, Some((_, _, Ok(Committed::Saved))));
        save = match outcome {
            Some((kind, _, Ok(Committed::Saved))) => kind,
            Some((_, lost_write, Ok(Committed::Gone))) => {
                // The session was deleted while this request ran (a logout in another tab, a
                // sign-out elsewhere). A write is not reported as saved: the page says the
                // change was lost. A sliding refresh lost nothing; the cookie just goes.
                inner.outgoing = Outgoing::Remove;
                if lost_write {
                    rocket::info!("session: ended while the request ran; its change was not kept");
                    error_page::replace(req, res, Status::Conflict, None);
                }
                "none"
            }
            Some((_, _, Err(e))) => {
                let status = match e {
                    StoreError::Unavailable(_) => Status::ServiceUnavailable,
                    _ => Status::InternalServerError,
                };
                rocket::error!(
                    "session: could not save the session: {}",
                    error_page::chain(&e)
                );
                error_page::replace(req, res, status, None);
                "none"
            }
            None => match inner.outgoing {
                Outgoing::Keep => "none",
                Outgoing::Set(_) => "write",
                Outgoing::Remove => "delete",
            },
        };
    }
    // For the exercises' fairing, which runs after this one: only a learner's requests pay.
    if own && req.cookies().get(cookies.learner).is_some() {
        req.local_cache(|| super::Observed::of(&inner, save));
    }
    if res.status().code < 500 {
        match std::mem::take(&mut inner.outgoing) {
            Outgoing::Keep => {}
            Outgoing::Set(cookie) => set_cookie(res, &cookie),
            Outgoing::Remove => set_cookie(res, &cookies.removal(cookies.session)),
        }
        // The page a redirect lands on learns what this request did from the report cookie.
        let told = req.method() != Method::Get || report.refused.is_some();
        let redirect = res.status().class() == StatusClass::Redirection;
        if own && redirect && told && report.worth_telling() {
            if report.change.as_deref() == Some("delete") && !report.ends_copies {
                report.copy_valid_until = inner
                    .stored
                    .as_ref()
                    .map(|r| crate::clock::when(layer.deadlines(r).absolute));
            }
            if let Ok(json) = serde_json::to_string(&report) {
                set_cookie(res, &cookies.sealed(cookies.report, &json));
            }
        }
    }
    if inner.accessed {
        res.set_header(Header::new("Cache-Control", "no-store"));
        // Only when asked for (`session_log_map`): the map is what users stored, and a debug
        // log is read by more people, and kept longer, than the sessions table.
        let log_map = req.rocket().state::<Settings>().is_some_and(|s| s.log_map);
        if let (true, Some(r)) = (log_map, &inner.current) {
            rocket::debug!("session map: {}", Value::Object(r.data.clone()));
        }
    }
    if own && layer.trace() {
        let load = match (&inner.refused, &inner.stored) {
            (Some(_), _) => "miss",
            (None, Some(_)) => "hit",
            (None, None) => "none",
        };
        let mut trace = format!(
            "mode={}; load={load}; save={save}; queries={}",
            cookies.mode, inner.statements.count
        );
        if let Some(checked) = inner.statements.checked {
            trace.push_str("; checked=");
            trace.push_str(checked);
        }
        if let Some(why) = inner.refused {
            trace.push_str("; refused=");
            trace.push_str(why.as_str());
        }
        res.set_header(Header::new("Session-Trace", trace));
    }
}

/// The value is base64 (`A–Z a–z 0–9 + / =`), all of it legal in a cookie as it is: written
/// without percent-encoding, its size is exactly what the layer checked, whatever the ciphertext.
fn set_cookie(res: &mut Response<'_>, cookie: &rocket::http::Cookie<'static>) {
    res.adjoin_header(Header::new("Set-Cookie", cookie.to_string()));
}
