//! The session layer: one `Session` request guard that handlers use, whatever store keeps the
//! sessions. Read it in this order:
//!
//! - [`guard`]: `Session`, what handlers call — lazy load (`load.rs`), typed reads, writes sealed
//!   at once (`change.rs`); [`by_user`] and [`cookie_edits`] add the index (a user's sessions,
//!   the class's) and what devtools does to a cookie.
//! - [`record`]: the session as every part sees it, its deadlines, why a cookie is refused.
//! - [`store`]: the `SessionStore` trait — load, save, touch and delete records by key — one file
//!   per store, and the decorators around any store (the outage lab, the round-trip count).
//! - [`layer`]: the shared state (the store, the clock, the timeouts) and the steps every request
//!   shares: opening a cookie, the deadlines, sealing a key into the session cookie (through the
//!   cookie controller, [`crate::cookies`]).
//! - [`state`]: one request's bookkeeping, and from it the one write the request makes.
//! - [`finish`]: after the handler, that write, the session cookie queued for the one cookie
//!   writer, and the [`Summary`] the layer publishes — to `Session-Trace`, and to the features
//!   that react to it (reports, exercises), which the app's response step hands it to.
//!
//! The mode is decided once, in [`stage`], by choosing the store; nothing else branches on it. The
//! layer imports nothing of the features above it: what a browser's labs ask of it comes in as
//! [`Conditions`], through a function the app hands to [`stage`].

pub mod by_user;
mod change;
pub mod cleanup;
pub mod cookie_edits;
pub mod finish;
pub mod guard;
pub mod layer;
mod load;
pub mod record;
pub mod sibling;
pub mod state;
pub mod store;
pub mod summary;

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;

use crate::clock::Clock;
use crate::cookies::CookieConfig;
use crate::crypto::Keys;
use crate::db::Db;
use crate::settings::{Mode, Revocation, SessionCache, Settings};

pub use by_user::Ended;
pub use guard::Session;
pub use layer::{Conditions, ConditionsOf, Opened, SessionLayer};
pub use record::{Deadlines, Record, Refusal};
pub use sibling::{Sibling, SiblingSession, Siblings, SideBySide};
pub use store::cookie::decode_payload;
pub use store::{KeptSession, SessionStore, SessionSummary, StoreError, Unavailable};
pub use summary::Summary;

/// The old path of cookie mode's store, kept for the fuzz target (`fuzz/`), which calls
/// `session::cookie::decode_payload`.
pub mod cookie {
    pub use super::store::cookie::decode_payload;
}

/// What a handler's use of the session can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The store could not load or list: 503 when it cannot be reached.
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

/// The session subsystem: keys, the cookie configuration, the store the mode asks for and its
/// layer — and for a store that keeps what expires, its cleanup task. `conditions` tells the layer
/// what each request's browser asks of it (the labs' clock offset and outage). Needs
/// [`Settings::stage`] and (for a store in the database) [`crate::db::stage`] before it.
pub fn stage(conditions: ConditionsOf) -> AdHoc {
    // Attached from inside an ignite fairing, like the database stage's pool, so it runs after
    // that pool is in place (Rocket runs fairings attached during ignite in attachment order).
    AdHoc::on_ignite("Sessions", move |rocket| async move {
        rocket.attach(AdHoc::try_on_ignite("Session layer", move |rocket| {
            layer_stage(rocket, conditions)
        }))
    })
}

async fn layer_stage(
    rocket: rocket::Rocket<rocket::Build>,
    conditions: ConditionsOf,
) -> rocket::fairing::Result {
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
    // The app's one clock (`clock::stage`; `--mode both` hands both apps the same).
    let Some(clock) = rocket.state::<Arc<Clock>>().cloned() else {
        eprintln!("session-lab: the session layer needs the clock's stage before it");
        return Err(rocket);
    };
    let Some(store) = store_for(&settings, Db::fetch(&rocket)) else {
        return Err(rocket);
    };
    let mut rocket = rocket;
    if store.sweeps() {
        let interval = std::time::Duration::from_secs(settings.cleanup_interval);
        rocket = rocket.attach(cleanup::task(store.clone(), clock.clone(), interval));
    }
    // `--mode both` and `all`: the other modes' layers too, with the same settings, key and
    // clock, so this app can open and write the siblings' cookies (their cleanup runs in their
    // own apps).
    if let Some(sides) = rocket.state::<SideBySide>().copied() {
        let mut layers = Vec::new();
        for mode in sides.others(settings.mode) {
            let other = Settings {
                mode,
                ..settings.clone()
            };
            let Some(store) = store_for(&other, Db::fetch(&rocket)) else {
                return Err(rocket);
            };
            layers.push(SessionLayer::new(&other, clock.clone(), store, conditions));
        }
        rocket = rocket.manage(Sibling::new(layers));
    }
    rocket = rocket
        .manage(SessionLayer::new(
            &settings,
            clock.clone(),
            store,
            conditions,
        ))
        .manage(CookieConfig::new(&settings, keys));
    Ok(rocket)
}

/// The store a mode asks for — the one place the mode is decided. `None` when it needs the
/// database and there is no pool.
fn store_for(settings: &Settings, db: Option<&Db>) -> Option<Arc<dyn SessionStore>> {
    Some(match settings.mode {
        Mode::Server => match settings.session_cache {
            SessionCache::None => Arc::new(store::server::ServerStore::new(db?.pool().clone())),
            SessionCache::Redis => {
                let prefix = format!("{}cache:", settings.redis_prefix);
                let cache = redis_store(settings, &prefix)?;
                let idle = time::Duration::seconds(settings.idle_timeout);
                let absolute = time::Duration::seconds(settings.absolute_timeout);
                Arc::new(store::cached::Cached::new(
                    db?.pool().clone(),
                    cache,
                    idle,
                    absolute,
                ))
            }
        },
        Mode::Cookie => {
            let pool = match settings.cookie_revocation {
                Revocation::Denylist => Some(db?.pool().clone()),
                _ => None,
            };
            let absolute = time::Duration::seconds(settings.absolute_timeout);
            Arc::new(store::cookie::CookieStore::new(
                settings.cookie_revocation,
                pool,
                absolute,
            ))
        }
        Mode::Redis => Arc::new(redis_store(settings, &settings.redis_prefix)?),
    })
}

/// A Redis store on `redis_url` under `prefix`; `None` (said) for a URL redis-rs cannot read.
fn redis_store(settings: &Settings, prefix: &str) -> Option<store::redis::RedisStore> {
    let idle = time::Duration::seconds(settings.idle_timeout);
    store::redis::RedisStore::new(&settings.redis_url, prefix, idle)
        .map_err(|e| eprintln!("session-lab: bad setting: redis_url: {e}"))
        .ok()
}
