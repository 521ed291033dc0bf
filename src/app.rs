//! The app's assembly: the stages every app is built from, and the defaults added to any
//! figment. [`crate::build`] and `--mode both` ([`crate::both`]) both build through here, so
//! neither needs the other.

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::shield::{Frame, NoSniff, Shield};
use rocket::{Build, Rocket};

use crate::settings::{Settings, DEFAULT_DATABASE_URL};
use crate::{
    auth, clock, crypto, db, error, exercises, headers, html, logging, routes, session, throttle,
};

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
        // Before the session layer and the throttles, which both run on it.
        .attach(clock::stage())
        .attach(session::stage())
        // After the session's stage, so its fairing runs after the session fairing.
        .attach(exercises::stage())
        .attach(auth::stage())
        .attach(throttle::stage())
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
