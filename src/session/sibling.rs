//! The sibling modes' sessions, for `--mode both` and `--mode all`: each app can also open,
//! change and save this browser's session of the other modes that run beside it (cookies ignore
//! ports, so every mode's cookie comes with every request). `/compare` shows them all and acts on
//! them all.
//!
//! Nothing here is a second implementation: a sibling is the other mode's [`SessionLayer`], used
//! through the same [`Session`] type, with its own per-request state; the end of the request
//! stores it and queues its cookie exactly as it does this app's own.

use rocket::request::{FromRequest, Outcome, Request};

use super::layer::SessionLayer;
use super::state::RequestState;
use super::Session;
use crate::cookies::Jar;
use crate::settings::Mode;

/// Managed by every app of `--mode both` and `--mode all`: the ports, for links from one to the
/// others. Its presence is what tells the session stage to build the sibling modes' layers, so the
/// stage learns it from a type of its own.
#[derive(Debug, Clone, Copy)]
pub struct SideBySide {
    pub server_port: u16,
    pub cookie_port: u16,
    /// `--mode all` only: redis mode's port (the one after cookie mode's).
    pub redis_port: Option<u16>,
}

impl SideBySide {
    /// The port the app of `mode` listens on (redis mode under `--mode both`, which does not run
    /// it, has none of its own: server mode's).
    pub fn port(&self, mode: Mode) -> u16 {
        match mode {
            Mode::Server => self.server_port,
            Mode::Cookie => self.cookie_port,
            Mode::Redis => self.redis_port.unwrap_or(self.server_port),
        }
    }

    /// The modes that run side by side, in the order pages show them.
    pub fn modes(&self) -> Vec<Mode> {
        let mut modes = vec![Mode::Server, Mode::Cookie];
        if self.redis_port.is_some() {
            modes.push(Mode::Redis);
        }
        modes
    }

    /// The modes an app of `mode` opens besides its own; the first is [`SiblingSession`]'s.
    pub fn others(&self, mode: Mode) -> Vec<Mode> {
        self.modes().into_iter().filter(|m| *m != mode).collect()
    }
}

/// The most sibling modes an app has (`--mode all`: the two it does not run).
const MAX_SIBLINGS: usize = 2;

/// Managed state in `--mode both` and `--mode all`: the other modes' layers (their stores, the
/// same clock and timeouts; their cookies are named by their modes and sealed with the same key).
pub struct Sibling {
    pub(super) layers: Vec<SessionLayer>,
}

impl Sibling {
    /// At most [`MAX_SIBLINGS`] layers are kept: a request has state for no more.
    pub fn new(mut layers: Vec<SessionLayer>) -> Sibling {
        layers.truncate(MAX_SIBLINGS);
        Sibling { layers }
    }

    pub fn modes(&self) -> Vec<Mode> {
        self.layers.iter().map(SessionLayer::mode).collect()
    }
}

/// The siblings' per-request state, one per sibling layer: a type of its own, so `local_cache`
/// keeps it apart from this app's [`RequestState`].
#[derive(Default)]
pub(super) struct SiblingState(pub(super) [RequestState; MAX_SIBLINGS]);

/// The mode `--mode both`'s other app runs.
pub fn other_mode(mode: Mode) -> Mode {
    match mode {
        Mode::Server | Mode::Redis => Mode::Cookie,
        Mode::Cookie => Mode::Server,
    }
}

impl<'r> Session<'r> {
    /// This request's session in the first sibling mode, when the app runs with `--mode both`
    /// or `--mode all` (`None` otherwise). Lazy like the app's own: nothing is opened until it
    /// is used.
    pub fn sibling(req: &'r Request<'_>) -> Option<Session<'r>> {
        Session::siblings(req).into_iter().next()
    }

    /// This request's sessions in every sibling mode (none without `--mode both` or `all`).
    pub fn siblings(req: &'r Request<'_>) -> Vec<Session<'r>> {
        let (Some(sibling), Some(jar)) = (req.rocket().state::<Sibling>(), Jar::of(req)) else {
            return Vec::new();
        };
        let states = &req.local_cache(SiblingState::default).0;
        sibling
            .layers
            .iter()
            .zip(states.iter())
            .map(|(layer, state)| Session::assemble(req, layer, jar, state))
            .collect()
    }
}

/// Request guard: the first sibling mode's session, if the app runs with `--mode both` or `all`
/// (server mode's for a redis-mode app, so what needs an index finds it).
pub struct SiblingSession<'r>(pub Option<Session<'r>>);

/// Request guard: every sibling mode's session (empty when the app runs alone).
pub struct Siblings<'r>(pub Vec<Session<'r>>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Siblings<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Siblings(Session::siblings(req)))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SiblingSession<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(SiblingSession(Session::sibling(req)))
    }
}
