//! Session Lab: one Rocket app, two interchangeable session modes, for learning how web sessions
//! work. `build()` assembles the app from a figment, so the binary and the tests run the same code.

pub mod auth;
pub mod both;
pub mod clock;
pub mod cookies;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod error;
pub mod error_page;
pub mod headers;
pub mod humanize;
pub mod logging;
pub mod outage;
pub mod page;
pub mod routes;
pub mod session;
pub mod settings;
pub mod throttle;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::shield::{Permission, Shield};
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::settings::{Settings, DEFAULT_DATABASE_URL};

/// Rocket's figment (`Rocket.toml`, `ROCKET_*`), with `DATABASE_URL` taking the place of
/// `databases.session_lab.url` when it is set.
pub fn figment() -> Figment {
    let mut figment = rocket::Config::figment();
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        figment = figment.merge(("databases.session_lab.url", url));
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
    build_on(with_defaults(figment), None)
}

/// `--mode both`: a server-mode and a cookie-mode app sharing one pool, key and clock, each
/// able to open the other's session (see [`both`]). The binary launches the two; tests dispatch
/// to each with a local client.
///
/// # Errors
/// As [`both::build`].
pub fn build_both(figment: Figment) -> Result<both::Both, String> {
    both::build(figment)
}

/// The defaults `build` adds to any figment: where the templates are, which database.
pub(crate) fn with_defaults(figment: Figment) -> Figment {
    // Templates live beside the sources, so the app finds them from any working directory.
    figment
        .join((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        ))
        .join(("databases.session_lab.url", DEFAULT_DATABASE_URL))
}

/// As [`build`], on a pool made beforehand when `pool` is given (see [`both::build`]).
pub(crate) fn build_on(figment: Figment, pool: Option<db::LazyPool>) -> Rocket<Build> {
    // Before Rocket installs its own logger, which would log form fields and cookies at debug.
    logging::install(&figment);
    rocket::custom(figment)
        // Rocket's default Shield minus `Permissions-Policy: interest-cohort=()`, which opted
        // out of FLoC, a trial Chrome ended in 2022. Every response header costs Rocket about
        // 5,000 instructions (a case-insensitive SipHash per header operation, then a copy into
        // hyper's map), a sixth of a bare route; nosniff and X-Frame-Options stay.
        .attach(Shield::default().disable::<Permission>())
        .attach(Template::custom(|engines| {
            headers::register(&mut engines.tera)
        }))
        .attach(Settings::stage())
        .attach(headers::stage())
        .attach(db::stage_with(pool))
        .attach(session::stage())
        .attach(auth::stage())
        .attach(throttle::stage())
        .attach(debug_tools())
        .mount("/", routes::routes())
        .register("/", error::catchers())
}

/// The inspector's clock fast-forward and the outage lab's switch, mounted only in the debug
/// profile of a debug build.
fn debug_tools() -> AdHoc {
    AdHoc::on_ignite("Debug tools", |rocket| async {
        if rocket.state::<Settings>().is_some_and(|s| s.fast_forward) {
            rocket
                .mount("/", routes::inspector::debug_routes())
                .mount("/", routes::outage::debug_routes())
        } else {
            rocket
        }
    })
}
