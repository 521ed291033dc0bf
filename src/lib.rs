//! Session Lab: one Rocket app, two interchangeable session modes, for learning how web sessions
//! work. `build()` assembles the app from a figment, so the binary and the tests run the same code.

mod app;
pub mod auth;
pub mod browser_lab;
pub mod class;
pub mod clock;
pub mod cookies;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod drawings;
pub mod error;
pub mod exercises;
pub mod forms;
pub mod guide;
pub mod headers;
pub mod html;
pub mod humanize;
pub mod learner;
pub mod lessons;
pub mod logging;
pub mod mode_both;
pub mod nav;
pub mod origin;
pub mod page;
pub mod report;
pub mod respond;
pub mod routes;
pub mod session;
pub mod session_map_keys;
pub mod settings;
pub mod throttle;
pub mod unavailable;

use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// Rocket's figment (`Rocket.toml`, found from any working directory, and `ROCKET_*`), with
/// `DATABASE_URL` taking the place of `databases.session_lab.url` when it is set, and `REDIS_URL`
/// that of `redis_url`.
pub fn figment() -> Figment {
    let mut figment = settings::rocket_figment();
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        figment = figment.merge(("databases.session_lab.url", url));
    }
    if let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) {
        figment = figment.merge(("redis_url", url));
    }
    figment
}

/// The app as `cargo run` starts it.
pub fn rocket() -> Rocket<Build> {
    build(figment())
}

/// The app from any figment: tests merge their own database URL, key and mode into it. Reads as
/// the list of its subsystems, each a stage that brings what it needs.
pub fn build(figment: Figment) -> Rocket<Build> {
    app::build_on(app::with_defaults(figment), None)
}

/// `--mode both`: a server-mode and a cookie-mode app sharing one pool, key and clock, each
/// able to open the other's session (see [`mode_both`]). The binary launches the two; tests dispatch
/// to each with a local client.
///
/// # Errors
/// As [`mode_both::build`].
pub fn build_both(figment: Figment) -> Result<mode_both::Both, String> {
    mode_both::build(figment)
}

/// `--mode all`: server, cookie and redis mode side by side, on the port and the next two, each
/// able to open the others' sessions (see [`mode_both`]).
///
/// # Errors
/// As [`mode_both::build_all`].
pub fn build_all(figment: Figment) -> Result<mode_both::Both, String> {
    mode_both::build_all(figment)
}
