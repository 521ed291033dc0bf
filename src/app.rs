//! The app's assembly: the stages every app is built from, and the defaults added to any
//! figment. [`crate::build`] and `--mode both` ([`crate::both`]) both build through here, so
//! neither needs the other.

use rocket::figment::Figment;
use rocket::shield::{Frame, NoSniff, Shield};
use rocket::{Build, Rocket};

use crate::settings::{key_file, Settings, DEFAULT_DATABASE_URL};
use crate::{
    auth, browser_lab, class, clock, db, error, headers, html, logging, report, respond, routes,
    session, throttle,
};

/// The defaults `build` adds to any figment: where the templates are, which database, and in the
/// debug profile the kept `secret_key` when none is set ([`key_file`]).
pub(crate) fn with_defaults(figment: Figment) -> Figment {
    let figment = key_file::with_debug_key(figment);
    // Templates live beside the sources, so the app finds them from any working directory.
    figment
        .join((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        ))
        .join(("databases.session_lab.url", DEFAULT_DATABASE_URL))
}

/// As [`build`], on a pool made beforehand when `pool` is given (see [`mode_both::build`]).
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
        // Before the session layer, the throttles and the reports, which all run on it.
        .attach(clock::stage())
        .attach(browser_lab::stage())
        // `shared_state = "redis"`: the class switches pulled from, and pushed to, Redis.
        .attach(class::stage())
        // The labs tell the session layer what each browser asks of it (its clock, its outage).
        .attach(session::stage(browser_lab::conditions))
        .attach(report::stage())
        .attach(auth::stage())
        .attach(throttle::stage())
        // After every handler: the session's write, what reacts to it, the one cookie writer.
        .attach(respond::ResponseStep)
        .attach(key_file::notice())
        .mount("/", routes::routes())
        .register("/", error::catchers())
}
