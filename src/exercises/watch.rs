//! The exercises' watch: told what the session layer did for a request (its [`Summary`]), checks
//! the learner's armed exercises against it, stores what they solved, and queues the learner
//! cookie when the learner's state changed.
//!
//! A request without a learner cookie (every benchmark request) costs one cookie lookup here and
//! nothing else. Progress is written after the session's own write, so it never counts in
//! `Session-Trace`; `Progress-Trace` reports it instead.

use rocket::http::Header;
use rocket::{Request, Response};

use super::detect::{self, Facts, Step};
use super::{catalogue, store, ExerciseId, ProgressTrace};
use crate::cookies::{Jar, Kind};
use crate::learner::{self, arm_key, parse_arm_key, LearnerCell, LearnerState, Pending};
use crate::session::Summary;

/// The most characters of a request's path that its evidence quotes.
const MAX_PATH: usize = 60;

/// Watches one request: see the module's documentation.
pub async fn observe(req: &Request<'_>, res: &mut Response<'_>, summary: &Summary, jar: Jar<'_>) {
    // Only a learner's requests, the exercises' own pages (which may make one) and a login
    // (whose account's progress may follow it here) go on.
    if jar.value(Kind::Learner).is_none()
        && !req.uri().path().as_str().starts_with("/exercises")
        && logged_in_now(summary).is_none()
    {
        return;
    }
    // The watch itself in a box of its own: its future is large (the learner's state and the
    // store's statements), and would otherwise be copied into every request's, learner or not.
    Box::pin(watch_request(req, res, summary, jar)).await;
}

/// The watch for a learner's request (or an exercises page).
async fn watch_request(req: &Request<'_>, res: &mut Response<'_>, summary: &Summary, jar: Jar<'_>) {
    let cell = LearnerCell::of(req);
    let Some(mut state) = cell.get() else {
        if let Some(user) = logged_in_now(summary) {
            adopt(req, res, jar, user).await;
        }
        return;
    };
    let trace = ProgressTrace::of(req);
    let mut changed = false;
    let solved = watch(req, res, summary, jar, &mut state, &mut changed);
    // A logged-in request names the learner's account, whatever the order a student goes in
    // (sign up, then predict; or predict, then log in): once per account, not per request.
    let account = summary
        .user_after
        .filter(|user| state.account != Some(*user));
    let pool = if solved.is_empty() && account.is_none() {
        None
    } else {
        store::pool(req.rocket()).await.ok()
    };
    let now = crate::clock::now_for(req.rocket()).unix_timestamp();
    for (exercise, evidence) in &solved {
        trace.solved(exercise.id);
        let p = Pending {
            exercise: exercise.id,
            mode: jar.mode(),
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
    if let (Some(pool), Some(user)) = (pool, account) {
        // Only for a teacher's view: the request itself is not affected by a failure, and the
        // next logged-in request tries again.
        match store::note_account(pool, &state.id, user, trace).await {
            Ok(()) => {
                state.account = Some(user);
                changed = true;
            }
            Err(e) => rocket::warn!(
                "exercises: could not note the learner's account: {}",
                e.chain()
            ),
        }
    }
    if changed {
        cell.update_existing(|s| *s = state.clone());
    }
    if let Some(state) = cell.changed() {
        trace.touch();
        learner::store(jar, &state);
    }
    if solved.iter().any(|(e, _)| e.id == ExerciseId::ForgePlain) {
        jar.remove(Kind::ExercisePlain);
    }
    if let Some(value) = trace.header(state.pending.len()) {
        res.set_header(Header::new("Progress-Trace", value));
    }
}

/// The account this request logged in (a login or a signup), if it did.
fn logged_in_now(summary: &Summary) -> Option<i64> {
    summary
        .user_after
        .filter(|user| summary.user_before != Some(*user))
}

/// A browser with no learner cookie logged in as `user`: if the account already has a learner
/// (the student cleared this browser's site data, or moved to another browser), this browser
/// becomes that learner again, so the progress follows the account. One indexed read, and only
/// on a login.
async fn adopt(req: &Request<'_>, res: &mut Response<'_>, jar: Jar<'_>, user: i64) {
    let trace = ProgressTrace::of(req);
    let Ok(pool) = store::pool(req.rocket()).await else {
        return;
    };
    match store::learner_of_account(pool, user, trace).await {
        Ok(Some(id)) => {
            let state = LearnerState {
                id,
                account: Some(user),
                ..LearnerState::default()
            };
            learner::store(jar, &state);
        }
        Ok(None) => {}
        Err(e) => rocket::warn!(
            "exercises: could not look up the account's learner: {}",
            e.chain()
        ),
    }
    if let Some(value) = trace.header(0) {
        res.set_header(Header::new("Progress-Trace", value));
    }
}

/// Runs this mode's armed exercises against the request; returns the ones it solved (disarmed)
/// and sets `changed` when an arm moved.
fn watch(
    req: &Request<'_>,
    res: &Response<'_>,
    summary: &Summary,
    jar: Jar<'_>,
    state: &mut LearnerState,
    changed: &mut bool,
) -> Vec<(&'static catalogue::Exercise, String)> {
    let mode = jar.mode();
    let armed_here = |key: &String| parse_arm_key(key).filter(|(_, m)| *m == mode);
    if !state.armed.keys().any(|k| armed_here(k).is_some()) {
        return Vec::new();
    }
    let session_kind = Kind::Session(jar.mode());
    let session_cookie = jar.value(session_kind);
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
        mode,
        request: &request,
        status: res.status().code,
        summary,
        session_cookie,
        cookie_bytes: session_cookie.map(|v| jar.config().size(session_kind, v)),
        db_cut: crate::browser_lab::Lab::of(req).cut,
        plain_user: jar.value(Kind::ExercisePlain).and_then(detect::plain_user),
    };
    let mut solved = Vec::new();
    for (key, arm) in state.armed.iter_mut() {
        let Some((id, _)) = armed_here(key) else {
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
        state.armed.remove(&arm_key(exercise.id, mode));
    }
    solved
}
