//! Session Lab: one Rocket app, two interchangeable session modes, for learning how web sessions
//! work. `build()` assembles the app from a figment, so the binary and the tests run the same code.

pub mod auth;
pub mod clock;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod error;
pub mod page;
pub mod routes;
pub mod session;
pub mod settings;

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::clock::Clock;
use crate::crypto::Keys;
use crate::db::Db;
use crate::session::cookie::CookieStore;
use crate::session::server::ServerStore;
use crate::session::{SessionFairing, SessionLayer, SessionStore};
use crate::settings::{Mode, Settings};

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

/// The app from any figment: tests merge their own database URL, key and mode into it.
pub fn build(figment: Figment) -> Rocket<Build> {
    // Templates live beside the sources, so the app finds them from any working directory.
    let figment = figment.join((
        "template_dir",
        concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
    ));
    rocket::custom(figment)
        .attach(Template::fairing())
        .attach(stage())
        .attach(SessionFairing)
        .attach(AdHoc::on_liftoff("Session cleanup", |rocket| {
            Box::pin(start_cleanup(rocket))
        }))
        .mount("/", routes::routes())
        .register("/", error::catchers())
}

/// Server mode: every `session_cleanup_interval` seconds, delete expired rows in batches, until
/// the app shuts down. Expired rows are never loaded anyway (`expires_at` is checked in SQL); this
/// only keeps them from piling up.
async fn start_cleanup(rocket: &Rocket<rocket::Orbit>) {
    let (Some(settings), Some(db), Some(clock)) = (
        rocket.state::<Settings>(),
        rocket.state::<Db>(),
        rocket.state::<Arc<Clock>>(),
    ) else {
        return;
    };
    if settings.mode != Mode::Server {
        return;
    }
    let pool = db.pool().clone();
    let clock = clock.clone();
    let period = std::time::Duration::from_secs(settings.cleanup_interval);
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        let mut ticks = rocket::tokio::time::interval(period);
        ticks.tick().await;
        loop {
            rocket::tokio::select! {
                _ = ticks.tick() => {}
                _ = &mut shutdown => return,
            }
            match session::server::delete_expired(
                &pool,
                clock.now(),
                session::server::CLEANUP_BATCH,
            )
            .await
            {
                Ok(0) => {}
                Ok(n) => rocket::info!("session cleanup: removed {n} expired sessions"),
                Err(e) => rocket::warn!("session cleanup failed, will retry: {e}"),
            }
        }
    });
}

/// Reads the settings, prepares the database and the session layer, and manages them.
fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Session Lab", |rocket| async move {
        let settings = match Settings::from_figment(rocket.figment()) {
            Ok(settings) => settings,
            Err(e) => {
                eprintln!("session-lab: bad setting: {e}");
                return Err(rocket);
            }
        };
        let keys = match Keys::from_figment(rocket.figment(), &settings.secret_key_fallbacks) {
            Ok(keys) => keys,
            Err(e) => {
                eprintln!("session-lab: bad setting: {e}");
                return Err(rocket);
            }
        };
        let db = match Db::connect_lazy(&settings.database) {
            Ok(db) => db,
            Err(e) => {
                eprintln!("session-lab: bad setting: {e}");
                return Err(rocket);
            }
        };
        match (db.ready().await, settings.mode) {
            (Ok(_), _) => {}
            (Err(e), Mode::Server) => {
                eprintln!("{}", db::unreachable_message(db.url(), &e));
                return Err(rocket);
            }
            (Err(e @ db::DbError::Unavailable(_)), Mode::Cookie) => rocket::warn!(
                "PostgreSQL is not reachable ({e}); cookie mode serves the pages that need no \
                 database and answers the others with 503 until it comes back."
            ),
            (Err(e), Mode::Cookie) => rocket::error!(
                "{} Cookie mode serves the pages that need no database meanwhile.",
                db::unreachable_message(db.url(), &e)
            ),
        }
        auth::warm_up().await;
        let store: Box<dyn SessionStore> = match settings.mode {
            Mode::Server => Box::new(ServerStore::new(db.pool().clone())),
            Mode::Cookie => Box::new(CookieStore),
        };
        let clock = Arc::new(Clock::default());
        let layer = SessionLayer::new(&settings, keys, clock.clone(), store);
        let debug = settings.fast_forward;
        let rocket = rocket
            .manage(layer)
            .manage(clock)
            .manage(db)
            .manage(settings);
        Ok(if debug {
            rocket.mount("/", routes::inspector::debug_routes())
        } else {
            rocket
        })
    })
}
