//! The sibling mode's session, for `--mode both`: each app can also open, change and save this
//! browser's session of the other mode (cookies ignore ports, so both cookies come with every
//! request). `/compare` shows both and acts on both.
//!
//! Nothing here is a second implementation: the sibling is the other mode's [`SessionLayer`], used
//! through the same [`Session`] type, with its own per-request state; the end of the request
//! stores it and queues its cookie exactly as it does this app's own.

use rocket::request::{FromRequest, Outcome, Request};

use super::layer::SessionLayer;
use super::state::RequestState;
use super::Session;
use crate::cookies::Jar;
use crate::settings::Mode;

/// Managed by both apps of `--mode both`: the ports, for links from one to the other. Its
/// presence is what tells the session stage to build the sibling mode's layer, so the stage
/// learns it from a type of its own.
#[derive(Debug, Clone, Copy)]
pub struct SideBySide {
    pub server_port: u16,
    pub cookie_port: u16,
}

impl SideBySide {
    /// The port the app of `mode` listens on.
    pub fn port(&self, mode: Mode) -> u16 {
        match mode {
            Mode::Server | Mode::Redis => self.server_port,
            Mode::Cookie => self.cookie_port,
        }
    }
}

/// Managed state in `--mode both`: the other mode's layer (its store, the same clock and
/// timeouts; its cookies are named by its mode and sealed with the same key).
pub struct Sibling {
    pub(super) layer: SessionLayer,
}

impl Sibling {
    pub fn new(layer: SessionLayer) -> Sibling {
        Sibling { layer }
    }

    pub fn mode(&self) -> Mode {
        self.layer.mode()
    }
}

/// The sibling's per-request state: a type of its own, so `local_cache` keeps it apart from this
/// app's [`RequestState`].
#[derive(Default)]
pub(super) struct SiblingState(pub(super) RequestState);

/// The mode the app does not run.
pub fn other_mode(mode: Mode) -> Mode {
    match mode {
        Mode::Server | Mode::Redis => Mode::Cookie,
        Mode::Cookie => Mode::Server,
    }
}

impl<'r> Session<'r> {
    /// This request's session in the sibling mode, when the app runs with `--mode both`
    /// (`None` otherwise). Lazy like the app's own: nothing is opened until it is used.
    pub fn sibling(req: &'r Request<'_>) -> Option<Session<'r>> {
        let sibling = req.rocket().state::<Sibling>()?;
        let state = &req.local_cache(SiblingState::default).0;
        Some(Session::assemble(req, &sibling.layer, Jar::of(req)?, state))
    }
}

/// Request guard: the sibling mode's session, if the app runs with `--mode both`.
pub struct SiblingSession<'r>(pub Option<Session<'r>>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SiblingSession<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(SiblingSession(Session::sibling(req)))
    }
}
