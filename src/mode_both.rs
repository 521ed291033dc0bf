//! `--mode both`: server mode on the configured port and cookie mode on the next one, in one
//! process — one database pool, one clock and one secret key between them (the figment's, or in
//! the debug profile the kept one `with_defaults` adds before both apps are made from it), and
//! each app able to open the other's session cookie, so `/compare` shows one browser's two
//! sessions side by side.
//!
//! Cookies ignore ports, so a browser sends both apps both session cookies; the names differ per
//! mode (`session_id`, `session_data`, and the CSRF cookies), so neither app overwrites the
//! other's.

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Config, Rocket};

use crate::clock::Clock;
use crate::db::LazyPool;
use crate::session::SideBySide;
use crate::settings::Mode;

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
    let figment = crate::app::with_defaults(figment);
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
    // One set of class-wide switches: a teacher's outage or shift reaches both ports' browsers.
    let class_labs = Arc::new(crate::browser_lab::ClassLabs::default());
    // One limiter (on the one clock) and one hash queue: one browser, one name, one CPU, whichever
    // port is asked (each app building its own allowed twice the guesses per name).
    let settings = crate::settings::Settings::from_figment(&figment)
        .map_err(|e| format!("bad setting: {e}"))?;
    let throttles = crate::throttle::Throttles::new(&settings, &clock);
    let queue = crate::auth::queue::HashQueue::from_settings(&settings);
    let app = |mode: Mode| {
        let figment = figment
            .clone()
            .merge(("session_mode", mode.as_str()))
            .merge((Config::PORT, sides.port(mode)));
        crate::app::build_on(figment, Some(pool.clone()))
            .manage(sides)
            .manage(clock.clone())
            .manage(class_labs.clone())
            .manage(throttles.clone())
            .manage(queue.clone())
            .attach(announce(mode))
    };
    Ok(Both {
        server: app(Mode::Server),
        cookie: app(Mode::Cookie),
    })
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
