//! The session layer: one `Session` request guard that handlers use, the same in both modes.
//!
//! - [`guard`]: `Session`, what handlers call — lazy load, typed reads, writes sealed at once.
//! - [`layer`]: the shared state and the per-request bookkeeping (what came, what changed, what
//!   must go out).
//! - [`fairing`]: after the handler, the one store write, the cookie and `Session-Trace`.
//! - [`store`]: the `SessionStore` trait and the record both modes share; [`server`] and
//!   [`cookie`] implement it.
//!
//! The mode is decided once, in [`stage`], by choosing the store; nothing else branches on it.

pub mod cleanup;
pub mod cookie;
pub mod fairing;
pub mod guard;
pub mod layer;
pub mod observed;
pub mod report;
pub mod server;
pub mod sibling;
pub mod store;

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;

use crate::clock::Clock;
use crate::cookies::CookieConfig;
use crate::crypto::Keys;
use crate::db::Db;
use crate::settings::{Mode, Revocation, Settings};
use cleanup::Sweep;

pub use fairing::SessionFairing;
pub use guard::{Ended, Session};
pub use layer::{Opened, SessionLayer};
pub use observed::Observed;
pub use report::{Report, ReportShelf, Told};
pub use sibling::{Sibling, SiblingSession, SideBySide};
pub use store::{Deadlines, Record, Refusal, SessionStore, SessionSummary, StoreError};

/// What a handler's use of the session can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The store could not load or list: 503 when PostgreSQL is down.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session would pass a size limit: the page answers 413, nothing changed.
    #[error("{}", what.describe(*bytes, *limit))]
    TooLarge {
        what: SizeLimit,
        bytes: usize,
        limit: usize,
    },
    /// A value is not of the type asked for (or cannot be stored as JSON).
    #[error("session key {key:?} does not hold that type")]
    Type {
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Which size limit a session would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    /// The 4096 bytes a browser keeps for one cookie (name + value).
    Cookie,
    /// `session_max_bytes` of data (the map as JSON) that this server keeps for one session.
    Data,
}

impl SizeLimit {
    /// The refusal in words, for pages and logs.
    pub fn describe(self, bytes: usize, limit: usize) -> String {
        match self {
            SizeLimit::Cookie => format!(
                "the session cookie would be {bytes} bytes, over the {limit} bytes a browser keeps \
                 for one cookie — it would silently drop it, and everything in it"
            ),
            SizeLimit::Data => format!(
                "the session's data would be {bytes} bytes, over the {limit} bytes this server \
                 keeps for one session (session_max_bytes)"
            ),
        }
    }
}

/// The session subsystem: keys, the cookie configuration, the store the mode asks for, the layer
/// and its fairing — and with the server store, its cleanup task. Needs [`Settings::stage`] and
/// (server mode) [`crate::db::stage`] before it.
pub fn stage() -> AdHoc {
    // Attached from inside an ignite fairing, like the database stage's pool, so it runs after
    // that pool is in place (Rocket runs fairings attached during ignite in attachment order).
    AdHoc::on_ignite("Sessions", |rocket| async {
        rocket.attach(AdHoc::try_on_ignite("Session layer", layer_stage))
    })
}

async fn layer_stage(rocket: rocket::Rocket<rocket::Build>) -> rocket::fairing::Result {
    {
        let Some(settings) = rocket.state::<Settings>().cloned() else {
            return Err(rocket);
        };
        let keys = match Keys::from_figment(rocket.figment(), &settings.secret_key_fallbacks) {
            Ok(keys) => keys,
            Err(e) => {
                eprintln!("session-lab: bad setting: {e}");
                return Err(rocket);
            }
        };
        // `--mode both` hands both apps one clock; otherwise each app has its own.
        let shared_clock = rocket.state::<Arc<Clock>>().cloned();
        let clock = shared_clock.clone().unwrap_or_default();
        let mut rocket = rocket;
        let Some((store, cleanup)) = store_for(&settings, Db::fetch(&rocket), &clock) else {
            return Err(rocket);
        };
        if let Some(task) = cleanup {
            rocket = rocket.attach(task);
        }
        // `--mode both`: the other mode's layer too, with the same settings, key and clock, so
        // this app can open and write the sibling's cookie (its cleanup runs in the sibling app).
        if rocket.state::<SideBySide>().is_some() {
            let other = Settings {
                mode: sibling::other_mode(settings.mode),
                ..settings.clone()
            };
            let Some((store, _)) = store_for(&other, Db::fetch(&rocket), &clock) else {
                return Err(rocket);
            };
            let layer = SessionLayer::new(&other, clock.clone(), store);
            rocket = rocket.manage(Sibling::new(layer, CookieConfig::new(&other, keys.clone())));
        }
        rocket = rocket
            .manage(SessionLayer::new(&settings, clock.clone(), store))
            .manage(CookieConfig::new(&settings, keys))
            .manage(report::ReportShelf::new(
                settings.report_keep_seconds,
                settings.report_max_kept,
            ))
            .attach(SessionFairing);
        if shared_clock.is_none() {
            rocket = rocket.manage(clock);
        }
        // Likewise the teacher's class-wide switches, which `Lab::of` reads on every request.
        if rocket.state::<Arc<crate::lab::ClassLabs>>().is_none() {
            rocket = rocket.manage(Arc::new(crate::lab::ClassLabs::default()));
        }
        Ok(rocket)
    }
}

/// The store a mode asks for — the one place the mode is decided — and the cleanup task that
/// store needs, if any. `None` when it needs the database and there is no pool.
fn store_for(
    settings: &Settings,
    db: Option<&Db>,
    clock: &Arc<Clock>,
) -> Option<(Box<dyn SessionStore>, Option<AdHoc>)> {
    let interval = std::time::Duration::from_secs(settings.cleanup_interval);
    let sweep = |sweep, pool: &sqlx::PgPool| {
        Some(cleanup::task(sweep, pool.clone(), clock.clone(), interval))
    };
    Some(match settings.mode {
        Mode::Server => {
            let pool = db?.pool().clone();
            let task = sweep(Sweep::Sessions, &pool);
            (Box::new(server::ServerStore::new(pool)), task)
        }
        Mode::Cookie => {
            let (pool, task) = match settings.cookie_revocation {
                Revocation::Denylist => {
                    let pool = db?.pool().clone();
                    let task = sweep(Sweep::RevokedSessions, &pool);
                    (Some(pool), task)
                }
                _ => (None, None),
            };
            let absolute = time::Duration::seconds(settings.absolute_timeout);
            let store = cookie::CookieStore::new(settings.cookie_revocation, pool, absolute);
            (Box::new(store), task)
        }
    })
}
