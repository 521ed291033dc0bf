//! The exercises' watch: after the session fairing has committed a request, checks the learner's
//! armed exercises against what that request did, stores what it solved, and sends the learner
//! cookie back when the learner's state changed.
//!
//! A request without a learner cookie (every benchmark request) costs one cookie lookup here and
//! nothing else. Progress is written in `on_response`, after the session's own write, so it never
//! counts in `Session-Trace`; `Progress-Trace` reports it instead.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};
use time::OffsetDateTime;

use super::detect::{self, Facts, Step};
use super::{catalogue, store, ProgressTrace};
use crate::cookies::{browser_size, CookieConfig};
use crate::learner::{self, LearnerCell, LearnerState, Pending};
use crate::session::Observed;

/// The most characters of a request's path that its evidence quotes.
const MAX_PATH: usize = 60;

pub struct ExerciseFairing;

#[rocket::async_trait]
impl Fairing for ExerciseFairing {
    fn info(&self) -> Info {
        Info {
            name: "Exercise watch",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(cookies) = req.rocket().state::<CookieConfig>() else {
            return;
        };
        // Only a learner's requests, and the exercises' own pages (which may make one), go on.
        if req.cookies().get(cookies.learner).is_none()
            && !req.uri().path().as_str().starts_with("/exercises")
        {
            return;
        }
        // The watch itself in a box of its own: its future is large (the learner's state and the
        // store's statements), and async_trait would otherwise copy all of it for every request,
        // learner or not — 15,000 instructions on /bench/plain (callgrind).
        Box::pin(watch_request(req, res, cookies)).await;
    }
}

/// The watch for a learner's request (or an exercises page): see [`ExerciseFairing`].
async fn watch_request(req: &Request<'_>, res: &mut Response<'_>, cookies: &CookieConfig) {
    let cell = LearnerCell::of(req);
    let Some(mut state) = cell.get() else {
        return;
    };
    let trace = ProgressTrace::of(req);
    let mut changed = false;
    let solved = watch(req, res, cookies, &mut state, &mut changed);
    let pool = if solved.is_empty() && !logged_in(req) {
        None
    } else {
        store::pool(req.rocket()).await.ok()
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for (exercise, evidence) in &solved {
        trace.solved(exercise.id);
        let p = Pending {
            exercise: exercise.id.to_string(),
            mode: cookies.mode.as_str().to_string(),
            prediction: None,
            hint: false,
            evidence: Some(evidence.clone()),
            at: now,
        };
        let stored = match pool {
            Some(pool) => match store::record(pool, &state.id, &p, trace).await {
                Ok(()) => true,
                Err(e) => {
                    rocket::warn!("exercises: solve kept in the learner cookie: {}", e.chain());
                    false
                }
            },
            None => false,
        };
        if !stored {
            state.keep_pending(p);
        }
        changed = true;
    }
    if let (Some(pool), Some(user)) = (pool, req.local_cache(Observed::default).user_after) {
        if logged_in(req) {
            // Only for a teacher's view: the login itself is not affected by a failure.
            if let Err(e) = store::note_account(pool, &state.id, user, trace).await {
                rocket::warn!(
                    "exercises: could not note the learner's account: {}",
                    e.chain()
                );
            }
        }
    }
    if changed {
        cell.update_existing(|s| *s = state.clone());
    }
    if let Some(state) = cell.changed() {
        trace.touch();
        if let Some(c) = learner::cookie(cookies, &state) {
            res.adjoin_header(Header::new("Set-Cookie", c.to_string()));
        }
    }
    if solved.iter().any(|(e, _)| e.id == "forge-plain") {
        let removal = cookies.removal(cookies.exercise_plain);
        res.adjoin_header(Header::new("Set-Cookie", removal.to_string()));
    }
    if let Some(value) = trace.header(state.pending.len()) {
        res.set_header(Header::new("Progress-Trace", value));
    }
}

/// Whether this request logged an account in (the learner's browser now belongs to it).
fn logged_in(req: &Request<'_>) -> bool {
    let o = req.local_cache(Observed::default);
    o.user_after.is_some() && o.user_after != o.user_before
}

/// Runs this mode's armed exercises against the request; returns the ones it solved (disarmed)
/// and sets `changed` when an arm moved.
fn watch(
    req: &Request<'_>,
    res: &Response<'_>,
    cookies: &CookieConfig,
    state: &mut LearnerState,
    changed: &mut bool,
) -> Vec<(&'static catalogue::Exercise, String)> {
    let suffix = format!("@{}", cookies.mode.as_str());
    if !state.armed.keys().any(|k| k.ends_with(&suffix)) {
        return Vec::new();
    }
    let session_cookie = req.cookies().get(cookies.session).map(|c| c.value());
    // The path goes into the evidence, which may wait in the learner cookie: kept short.
    let path = req.uri().path().as_str();
    let path: String = path.chars().take(MAX_PATH).collect();
    let cut = if path.len() < req.uri().path().as_str().len() {
        "…"
    } else {
        ""
    };
    let request = format!("{} {path}{cut}", req.method());
    let facts = Facts {
        mode: cookies.mode,
        request: &request,
        status: res.status().code,
        observed: req.local_cache(Observed::default),
        session_cookie,
        cookie_bytes: session_cookie.map(|v| browser_size(cookies.session, v)),
        db_cut: crate::lab::Lab::of(req).cut,
        plain_user: req
            .cookies()
            .get(cookies.exercise_plain)
            .and_then(|c| detect::plain_user(c.value())),
        queries: res.headers().get_one("Session-Trace").and_then(|t| {
            t.split("; ")
                .find_map(|part| part.strip_prefix("queries="))
                .and_then(|n| n.parse().ok())
        }),
    };
    let mut solved = Vec::new();
    for (key, arm) in state.armed.iter_mut() {
        let Some(id) = key.strip_suffix(&suffix) else {
            continue;
        };
        let Some(exercise) = catalogue::find(id) else {
            continue;
        };
        match detect::step(id, arm, &facts) {
            Step::Nothing => {}
            Step::Progressed => *changed = true,
            Step::Solved(evidence) => solved.push((exercise, evidence)),
        }
    }
    for (exercise, _) in &solved {
        state.armed.remove(&format!("{}{suffix}", exercise.id));
    }
    solved
}
