//! Session Lab: one Rocket app, two interchangeable session modes, for learning how web sessions
//! work. `build()` assembles the app from a figment, so the binary and the tests run the same code.

pub mod auth;
pub mod both;
pub mod class;
pub mod clock;
pub mod cookies;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod error;
pub mod error_page;
pub mod exercises;
pub mod headers;
pub mod html;
pub mod humanize;
pub mod learner;
pub mod lessons;
pub mod logging;
pub mod outage;
pub mod page;
pub mod routes;
pub mod session;
pub mod settings;
pub mod throttle;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::shield::{Frame, NoSniff, Shield};
use rocket::{Build, Rocket};

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

/// The defaults `build` adds to any figment: where the templates are, which database, and in the
/// debug profile a random `secret_key` when none is set.
pub(crate) fn with_defaults(figment: Figment) -> Figment {
    let figment = with_debug_key(figment);
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
        // Named rather than Rocket's defaults: nosniff and X-Frame-Options (for browsers older
        // than the CSP's frame-ancestors), without `Permissions-Policy: interest-cohort=()`,
        // which opted out of FLoC, a trial Chrome ended in 2022. The other security headers are
        // `headers::stage()`'s. Every response header costs Rocket about 5,000 instructions (a
        // case-insensitive SipHash per header operation, then a copy into hyper's map), a sixth
        // of a bare route, so each is sent once.
        .attach(
            Shield::new()
                .enable(NoSniff::Enable)
                .enable(Frame::SameOrigin),
        )
        .attach(html::stage())
        .attach(Settings::stage())
        .attach(headers::stage())
        .attach(db::stage_with(pool))
        .attach(session::stage())
        // After the session's stage, so its fairing runs after the session fairing.
        .attach(exercises::stage())
        .attach(auth::stage())
        .attach(throttle::stage())
        .attach(debug_tools())
        .attach(key_notice())
        .mount("/", routes::routes())
        .register("/", error::catchers())
}

/// Set in the figment by [`with_debug_key`] when it made the key up, for [`key_notice`].
const RANDOM_KEY_MARK: &str = "session_lab_random_secret_key";

/// In the debug profile without a `secret_key` (or with Rocket's all-zero default), a random key
/// for this run. Rocket would otherwise warn in three lines that "secrets" lack a stable key and
/// the cookie sealing would add a fourth, which a newcomer may read as errors; [`key_notice`]
/// says it in one. Outside the debug profile nothing changes: Rocket refuses to launch without a
/// key. A key that is present but unreadable is left for the settings to report. `--mode both`
/// builds its two apps from one figment, so they share this key.
fn with_debug_key(figment: Figment) -> Figment {
    let debug = *figment.profile() == rocket::Config::DEBUG_PROFILE;
    let missing = figment.find_value("secret_key").is_err()
        || figment
            .extract_inner::<rocket::config::SecretKey>("secret_key")
            .is_ok_and(|k| k.is_zero());
    if !(debug && missing) {
        return figment;
    }
    figment
        .merge(("secret_key", crypto::random_bytes(64)))
        .merge((RANDOM_KEY_MARK, true))
}

/// The one line about a made-up key, once per process (`--mode both` ignites two apps).
fn key_notice() -> AdHoc {
    AdHoc::on_ignite("Secret key", |rocket| async {
        static ONCE: std::sync::Once = std::sync::Once::new();
        if rocket
            .figment()
            .extract_inner::<bool>(RANDOM_KEY_MARK)
            .unwrap_or(false)
        {
            ONCE.call_once(|| {
                rocket::warn!(
                    "No secret_key set: this run seals cookies with a random key, so sessions end \
                     when the app stops (set ROCKET_SECRET_KEY to `head -c64 /dev/urandom | base64 \
                     -w0` to keep them)."
                )
            });
        }
        rocket
    })
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
