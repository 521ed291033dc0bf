//! `--mode both`: server mode on the configured port and cookie mode on the next one, in one
//! process — one database pool, one secret key and one clock between them, and each app able to
//! open the other's session cookie, so `/compare` shows one browser's two sessions side by side.
//!
//! Cookies ignore ports, so a browser sends both apps both session cookies; the names differ per
//! mode (`session_id`, `session_data`, and the CSRF cookies), so neither app overwrites the
//! other's.

use std::sync::Arc;

use rand::Rng;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Config, Rocket};

use crate::clock::Clock;
use crate::db::LazyPool;
use crate::settings::Mode;

/// Managed by both apps of `--mode both`: the ports, for links from one to the other. Its
/// presence is also what tells the session stage to build the sibling mode's layer.
#[derive(Debug, Clone, Copy)]
pub struct SideBySide {
    pub server_port: u16,
    pub cookie_port: u16,
}

impl SideBySide {
    /// The port the app of `mode` listens on.
    pub fn port(&self, mode: Mode) -> u16 {
        match mode {
            Mode::Server => self.server_port,
            Mode::Cookie => self.cookie_port,
        }
    }
}

/// The two apps of `--mode both`, not yet launched.
pub struct Both {
    pub server: Rocket<Build>,
    pub cookie: Rocket<Build>,
}

/// Builds both apps from one figment: server mode on its `port`, cookie mode on the next one
/// (both on port 0 when `port` is 0, each then given a free port by the system).
///
/// # Errors
/// A port with no next one, or unusable database settings, as a message.
pub fn build(figment: Figment) -> Result<Both, String> {
    let figment = with_shared_key(crate::with_defaults(figment));
    let port: u16 = figment
        .extract_inner(Config::PORT)
        .map_err(|e| format!("port: {e}"))?;
    let next = match port {
        0 => 0,
        p => p
            .checked_add(1)
            .ok_or("--mode both needs two ports: set a port below 65535")?,
    };
    let pool = LazyPool::from_figment(&figment).map_err(|e| e.to_string())?;
    let sides = SideBySide {
        server_port: port,
        cookie_port: next,
    };
    // One clock for both apps' deadlines and cleanup (each browser's fast-forward is its lab
    // cookie's, which both apps read).
    let clock = Arc::new(Clock::default());
    let app = |mode: Mode| {
        let figment = figment
            .clone()
            .merge(("session_mode", mode.as_str()))
            .merge((Config::PORT, sides.port(mode)));
        crate::build_on(figment, Some(pool.clone()))
            .manage(sides)
            .manage(clock.clone())
            .attach(announce(mode))
    };
    Ok(Both {
        server: app(Mode::Server),
        cookie: app(Mode::Cookie),
    })
}

/// Without a `secret_key` the debug profile gives each app a random key of its own: then neither
/// could open the other's cookies. One random key for both instead (sessions still end at
/// restart, as in single mode). Outside the debug profile a missing key still refuses to launch.
fn with_shared_key(figment: Figment) -> Figment {
    let debug = *figment.profile() == Config::DEBUG_PROFILE;
    let missing = match figment.extract_inner::<rocket::config::SecretKey>("secret_key") {
        Ok(key) => key.is_zero(),
        Err(e) => e.missing(),
    };
    if !(debug && missing) {
        return figment;
    }
    let mut key = vec![0u8; 64];
    rand::rng().fill_bytes(&mut key);
    figment.merge(("secret_key", key))
}

/// Says where each app listens, named by mode (Rocket's own banner does not say which is which).
fn announce(mode: Mode) -> AdHoc {
    AdHoc::on_liftoff("Announce", move |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            println!(
                "session-lab: {mode} mode listening on http://{}:{}",
                config.address, config.port
            );
        })
    })
}
