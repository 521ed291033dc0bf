//! The learner: one browser working through the exercises, named by a long-lived sealed cookie of
//! its own (`learner`, `__Host-learner` with Secure) — never by the session, which the exercises
//! make students delete, tamper with, replay and log out of.
//!
//! The cookie holds a random 128-bit id and a little state: the exercises armed by a prediction
//! (with what the detector has seen of them so far) and the progress not yet stored because the
//! database could not be reached. It is sealed with the app's key like the session cookie, under
//! one name for both modes, so `--mode both`'s two ports share it; a cookie that does not open is
//! treated as none, and `/exercises` says so (its progress was recorded under another key). Nothing
//! here touches the session.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rocket::request::{FromRequest, Outcome, Request};
use serde::{Deserialize, Serialize};

use crate::cookies::{
    from_json, to_json, CookieConfig, CookieValue, Jar, Kind, Lifetime, COOKIE_LIMIT,
};
use crate::exercises::ExerciseId;
use crate::settings::Mode;

/// How long the learner cookie lasts: Chrome caps any cookie's Expires at 400 days.
pub const LEARNER_LIFETIME_DAYS: i64 = 400;

/// What the learner cookie seals.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LearnerState {
    /// 128 random bits, hex.
    pub id: String,
    /// Exercises waiting to be solved, keyed `exercise@mode` ([`arm_key`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub armed: BTreeMap<String, Arm>,
    /// Progress made while the database was unreachable, stored once it is back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Pending>,
    /// The account this learner's row was last filed under (for the teacher's board): a
    /// logged-in request for another account files it again, one statement; the same account
    /// costs nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<i64>,
}

/// An exercise the learner predicted and is now doing: what the detector has seen so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Arm {
    /// A first step seen (a session held, a plain cookie forged…), per exercise.
    #[serde(default, skip_serializing_if = "is_false")]
    pub step: bool,
    /// A second step seen (the sealed cookie refused, for `forge-plain`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub step2: bool,
    /// A fingerprint of a session cookie value the detector must recognise again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// A size to compare with (the row's data at the start), or a user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<i64>,
    /// A second figure (the cookie's size at the start, the user a plain cookie named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<i64>,
}

/// The key an armed exercise is kept under in [`LearnerState::armed`]: `tamper@cookie`.
pub fn arm_key(id: ExerciseId, mode: Mode) -> String {
    format!("{id}@{mode}")
}

/// The exercise and mode an [`arm_key`] names; `None` for a key this version does not know.
pub fn parse_arm_key(key: &str) -> Option<(ExerciseId, Mode)> {
    let (id, mode) = key.split_once('@')?;
    let mode = Mode::named(mode)?;
    Some((ExerciseId::parse(id)?, mode))
}

fn is_false(b: &bool) -> bool {
    !b
}

/// One piece of progress kept in the cookie until the database takes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    pub exercise: ExerciseId,
    pub mode: Mode,
    /// A prediction (the choice), a hint asked for, or a solve (what was seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<i16>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub hint: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

impl LearnerState {
    /// A new learner with a fresh random id.
    pub fn fresh() -> LearnerState {
        let id = hex::encode(crate::crypto::random_bytes(16));
        LearnerState {
            id,
            ..LearnerState::default()
        }
    }

    /// Keeps `p` until the database is back. How many fit is the cookie's business: see
    /// [`cookie`].
    pub fn keep_pending(&mut self, p: Pending) {
        self.pending.push(p);
    }

    /// Gives up one pending entry to make room: a hint first (the least worth keeping), else the
    /// oldest. `false` when there is none left.
    fn give_way(&mut self) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        let at = self.pending.iter().position(|p| p.hint).unwrap_or(0);
        self.pending.remove(at);
        true
    }

    fn valid(&self) -> bool {
        self.id.len() == 32 && self.id.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

impl CookieValue for LearnerState {
    fn kind(_: Mode) -> Kind {
        Kind::Learner
    }
    fn encode(&self) -> Option<String> {
        to_json(self)
    }
    /// Anything this app did not seal (forged, tampered, another key) is ignored.
    fn decode(plaintext: &str) -> Option<Self> {
        from_json::<LearnerState>(plaintext).filter(LearnerState::valid)
    }
    /// It outlives sessions, logouts and browser restarts.
    fn lifetime(&self) -> Lifetime {
        Lifetime::Seconds(LEARNER_LIFETIME_DAYS * 24 * 3600)
    }
}

/// Sends the learner cookie for `state`. The one limit on what waits in it is the 4096 bytes a
/// browser keeps (past them it would drop the cookie, and the learner with it): pending entries
/// give way, hints first, then the oldest. Returns the cookie's size.
pub fn store(jar: Jar<'_>, state: &LearnerState) -> usize {
    let Some(value) = sealed(jar.config(), state) else {
        return 0;
    };
    let bytes = jar.config().size(Kind::Learner, &value);
    jar.put(Kind::Learner, value, state.lifetime());
    bytes
}

/// The learner cookie's value for `state`, sealed, its pending entries cut to fit.
fn sealed(config: &CookieConfig, state: &LearnerState) -> Option<String> {
    let mut state = state.clone();
    loop {
        let value = config.seal(Kind::Learner, &state.encode()?);
        if config.size(Kind::Learner, &value) <= COOKIE_LIMIT || !state.give_way() {
            return Some(value);
        }
    }
}

/// This request's learner, shared by the handlers and the exercises' fairing.
#[derive(Default)]
pub struct LearnerCell {
    inner: Mutex<CellState>,
}

#[derive(Default)]
struct CellState {
    loaded: bool,
    state: Option<LearnerState>,
    /// The state changed: the response must carry the cookie again.
    dirty: bool,
    /// The browser sent a learner cookie that did not open (sealed with another key, or edited).
    unopened: bool,
}

impl LearnerCell {
    /// The request's cell, reading the learner cookie on first use.
    pub fn of<'r>(req: &'r Request<'_>) -> &'r LearnerCell {
        let cell = req.local_cache(LearnerCell::default);
        if let Ok(mut inner) = cell.inner.lock() {
            if !inner.loaded {
                inner.loaded = true;
                let jar = Jar::of(req);
                inner.state = jar.as_ref().and_then(|jar| jar.get::<LearnerState>());
                inner.unopened = inner.state.is_none()
                    && jar.is_some_and(|jar| jar.value(Kind::Learner).is_some());
            }
        }
        cell
    }

    /// The learner, if this browser is one.
    pub fn get(&self) -> Option<LearnerState> {
        self.inner.lock().ok().and_then(|i| i.state.clone())
    }

    /// Changes the learner (making one if the browser is none yet); the cookie goes out with the
    /// response.
    pub fn update<T>(&self, edit: impl FnOnce(&mut LearnerState) -> T) -> Option<T> {
        let mut inner = self.inner.lock().ok()?;
        let state = inner.state.get_or_insert_with(LearnerState::fresh);
        let out = edit(state);
        inner.dirty = true;
        Some(out)
    }

    /// Changes an existing learner only; `None` when the browser is no learner.
    pub fn update_existing<T>(&self, edit: impl FnOnce(&mut LearnerState) -> T) -> Option<T> {
        let mut inner = self.inner.lock().ok()?;
        let out = edit(inner.state.as_mut()?);
        inner.dirty = true;
        Some(out)
    }

    /// The state to send back, if it changed.
    pub fn changed(&self) -> Option<LearnerState> {
        let inner = self.inner.lock().ok()?;
        if inner.dirty {
            inner.state.clone()
        } else {
            None
        }
    }

    /// Whether the browser sent a learner cookie that this app cannot open — sealed with another
    /// key (a restart with a new one, another server) or edited — and no new learner replaced it
    /// yet. The progress it names is still stored: `/exercises` says so rather than start afresh
    /// in silence.
    pub fn unopened(&self) -> bool {
        self.inner
            .lock()
            .is_ok_and(|i| i.unopened && i.state.is_none())
    }

    /// Whether the browser sent a learner cookie that opened, or a handler made one.
    pub fn exists(&self) -> bool {
        self.inner.lock().is_ok_and(|i| i.state.is_some())
    }
}

/// The request guard: this request's learner (or none yet), and the request, whose state the
/// progress code reaches through it (the pool, the trace). Never fails.
pub struct Learner<'r> {
    cell: &'r LearnerCell,
    req: &'r Request<'r>,
}

impl<'r> Learner<'r> {
    pub fn cell(&self) -> &'r LearnerCell {
        self.cell
    }

    pub fn request(&self) -> &'r Request<'r> {
        self.req
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Learner<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Learner {
            cell: LearnerCell::of(req),
            req,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_learner_has_128_random_bits_in_hex() {
        let (a, b) = (LearnerState::fresh(), LearnerState::fresh());
        assert!(a.valid() && b.valid());
        assert_ne!(a.id, b.id);
    }

    fn config() -> CookieConfig {
        let keys = crate::crypto::Keys::from_figment(&rocket::figment::Figment::new(), &[])
            .expect("a random key");
        CookieConfig::new(&crate::settings::Settings::default(), keys)
    }

    fn open(config: &CookieConfig, value: &str) -> Option<LearnerState> {
        LearnerState::decode(&config.open(Kind::Learner, value)?.plaintext)
    }

    #[test]
    fn the_cookie_opens_to_what_it_sealed_and_nothing_else_opens() {
        let cookies = config();
        let state = LearnerState::fresh();
        let c = sealed(&cookies, &state).expect("a cookie");
        assert_eq!(open(&cookies, &c), Some(state));
        assert_eq!(open(&cookies, "eyJpZCI6ImFiYyJ9"), None);
        let other = config();
        assert_eq!(open(&other, &c), None, "another key");
    }

    #[test]
    fn the_cookie_never_passes_4096_bytes_hints_then_the_oldest_giving_way() {
        let cookies = config();
        let mut state = LearnerState::fresh();
        let entry = |hint: bool, at: i64| Pending {
            exercise: ExerciseId::Tamper,
            mode: Mode::Cookie,
            prediction: None,
            hint,
            evidence: (!hint).then(|| "x".repeat(400)),
            at,
        };
        state.keep_pending(entry(false, 0));
        state.keep_pending(entry(true, 1));
        for at in 2..14 {
            state.keep_pending(entry(false, at));
        }
        let c = sealed(&cookies, &state).expect("a cookie");
        assert!(cookies.size(Kind::Learner, &c) <= COOKIE_LIMIT);
        let kept = open(&cookies, &c).expect("opens");
        assert!(!kept.pending.is_empty() && kept.pending.len() < state.pending.len());
        assert!(kept.pending.iter().all(|p| !p.hint), "the hint went first");
        assert_eq!(kept.pending.last(), state.pending.last(), "the newest stay");
    }
}
