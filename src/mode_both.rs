//! `--mode both`: server mode on the configured port and cookie mode on the next one, in one
//! process — one database pool, one clock and one secret key between them (the figment's, or in
//! the debug profile the kept one `with_defaults` adds before both apps are made from it), and
//! each app able to open the other's session cookie, so `/compare` shows one browser's two
//! sessions side by side. `--mode all` adds redis mode on the port after those two, each app then
//! opening the other two's cookies, and `/compare` shows three columns.
//!
//! Cookies ignore ports, so a browser sends every app every session cookie; the names differ per
//! mode (`session_id`, `session_data`, `session_key`, and the CSRF cookies), so no app overwrites
//! another's.

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Config, Rocket};

use crate::clock::Clock;
use crate::db::LazyPool;
use crate::session::SideBySide;
use crate::settings::Mode;

/// The apps of `--mode both` (or `all`), not yet launched.
pub struct Both {
    pub server: Rocket<Build>,
    pub cookie: Rocket<Build>,
    /// `--mode all` only.
    pub redis: Option<Rocket<Build>>,
}

impl Both {
    /// Every app, named by mode, server mode first (it creates and migrates the database).
    pub fn apps(self) -> Vec<(Mode, Rocket<Build>)> {
        let mut apps = vec![(Mode::Server, self.server), (Mode::Cookie, self.cookie)];
        apps.extend(self.redis.map(|r| (Mode::Redis, r)));
        apps
    }
}

/// Builds both apps from one figment: server mode on its `port`, cookie mode on the next one
/// (both on port 0 when `port` is 0, each then given a free port by the system).
///
/// # Errors
/// A port with no next one, or unusable database settings, as a message.
pub fn build(figment: Figment) -> Result<Both, String> {
    build_side_by_side(figment, false)
}

/// `--mode all`: as [`build`], and redis mode on the port after cookie mode's.
///
/// # Errors
/// As [`build`]; and a `redis_url` redis-rs cannot read.
pub fn build_all(figment: Figment) -> Result<Both, String> {
    build_side_by_side(figment, true)
}

/// The port `n` after `port` (0 stays 0: the system picks each).
fn port_after(port: u16, n: u16, flag: &str) -> Result<u16, String> {
    let (count, below) = if n == 1 {
        ("two", 65535)
    } else {
        ("three", 65534)
    };
    match port {
        0 => Ok(0),
        p => p
            .checked_add(n)
            .ok_or_else(|| format!("--mode {flag} needs {count} ports: set a port below {below}")),
    }
}

fn build_side_by_side(figment: Figment, with_redis: bool) -> Result<Both, String> {
    let figment = crate::app::with_defaults(figment);
    let port: u16 = figment
        .extract_inner(Config::PORT)
        .map_err(|e| format!("port: {e}"))?;
    let flag = if with_redis { "all" } else { "both" };
    let next = port_after(port, 1, flag)?;
    let redis_port = if with_redis {
        Some(port_after(port, 2, flag)?)
    } else {
        None
    };
    let pool = LazyPool::from_figment(&figment).map_err(|e| e.to_string())?;
    let sides = SideBySide {
        server_port: port,
        cookie_port: next,
        redis_port,
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
        redis: with_redis.then(|| app(Mode::Redis)),
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
