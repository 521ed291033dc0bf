//! What a request asked of each store, for the exchange's drawing: from the [`Summary`]s alone,
//! the session's own load and write named in the store's words (`SELECT` / `UPDATE` of a row,
//! `MGET` / `SET … XX` of a Redis key), and every other round trip the trace counted (the
//! account's, a lab's) counted but not named. One list per store, so a request that reached both
//! PostgreSQL and Redis (a `--mode all` form) draws both.

use crate::session::store::Cache;
use crate::session::summary::{Change, Load, Outcome};
use crate::session::{Refusal, Summary};
use crate::settings::Mode;

/// A store a request can reach, in the order the drawing lays them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Store {
    PostgreSql,
    Redis,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::PostgreSql => "PostgreSQL",
            Store::Redis => "Redis",
        }
    }

    /// What one round trip to it is called, where it is counted rather than named.
    fn unit(self) -> &'static str {
        match self {
            Store::PostgreSql => "statement",
            Store::Redis => "command",
        }
    }

    /// The round trips `s`'s trace counted against this store.
    fn counted(self, s: &Summary) -> u32 {
        match self {
            Store::PostgreSql => s.trips.sql,
            Store::Redis => s.trips.redis,
        }
    }
}

/// One thing a store was asked, and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub asked: &'static str,
    pub answer: &'static str,
}

/// Everything one store was asked by a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub store: Store,
    /// The sessions' own loads and writes, in order.
    pub steps: Vec<Step>,
    /// Round trips counted but not named (not the session's own).
    pub others: u32,
}

impl Asked {
    /// `N other statements` (or commands), for an arrow and for the words.
    pub fn others_said(&self) -> Option<String> {
        let unit = self.store.unit();
        match self.others {
            0 => None,
            1 => Some(format!("1 other {unit}")),
            n => Some(format!("{n} other {unit}s")),
        }
    }

    /// Nothing was asked of it, though the sessions live there.
    pub fn nothing(&self) -> bool {
        self.steps.is_empty() && self.others == 0
    }
}

/// Where `s`'s sessions live, when that is a store: server mode's rows, redis mode's keys (cookie
/// mode's live in the cookie).
fn home(s: &Summary) -> Option<Store> {
    if s.mode == Mode::Redis {
        Some(Store::Redis)
    } else if s.keeps_sessions {
        Some(Store::PostgreSql)
    } else {
        None
    }
}

/// What `summaries` asked of each store they reached (or keep their sessions in), in layout order;
/// empty when none did: the cookie holds the session.
pub fn asked(summaries: &[&Summary]) -> Vec<Asked> {
    let mut stores: Vec<Store> = Vec::new();
    for s in summaries {
        let touched = [Store::PostgreSql, Store::Redis]
            .into_iter()
            .filter(|store| store.counted(s) > 0);
        stores.extend(home(s).into_iter().chain(touched));
    }
    stores.sort();
    stores.dedup();
    stores
        .into_iter()
        .map(|store| {
            let mut steps = Vec::new();
            let (mut named, mut counted) = (0, 0);
            for s in summaries {
                counted += store.counted(s);
                let named_here = cache_steps(store, s).into_iter().chain(
                    (home(s) == Some(store))
                        .then(|| session_steps(store, s))
                        .into_iter()
                        .flatten(),
                );
                for (step, trips) in named_here {
                    named += trips;
                    steps.push(step);
                }
            }
            Asked {
                store,
                steps,
                others: counted.saturating_sub(named),
            }
        })
        .collect()
}

/// Server mode's cache (`session_cache = "redis"`), asked first for the row: its `GET` in the
/// Redis lane, with what came back. (Its refill and write-through count there as other commands.)
fn cache_steps(store: Store, s: &Summary) -> Option<(Step, u32)> {
    if store != Store::Redis || home(s) != Some(Store::PostgreSql) {
        return None;
    }
    let (answer, trips) = match s.trips.cache? {
        Cache::Hit => ("its copy", 1),
        Cache::Miss => ("no copy", 1),
        Cache::Unavailable => ("unreachable", 0),
    };
    Some((
        Step {
            asked: "GET",
            answer,
        },
        trips,
    ))
}

/// The session's own load and write in `store`, each with the round trips it took (none for one
/// that could not reach the store).
fn session_steps(store: Store, s: &Summary) -> Vec<(Step, u32)> {
    let redis = store == Store::Redis;
    let mut steps = Vec::new();
    let unreachable = "unreachable";
    // The store is asked when the handler opened a session whose cookie opened to a key.
    let looked_up = s.cookie_came
        && s.opened
        && !matches!(s.refused, Some(Refusal::Undecryptable | Refusal::Malformed));
    let load = if redis { "MGET" } else { "SELECT" };
    // A cache in front of the table (`session_cache = "redis"`) that had the row: no SELECT ran.
    let from_cache = s.trips.cache == Some(Cache::Hit);
    if looked_up && !from_cache {
        let found = match (s.load, s.refused, redis) {
            (Load::Hit, _, false) => "its row",
            (Load::Hit, _, true) => "its key",
            (_, Some(Refusal::Unknown | Refusal::Evicted), false) => "no row",
            (_, Some(Refusal::Unknown | Refusal::Evicted), true) => "no key",
            (_, Some(Refusal::ExpiredIdle | Refusal::ExpiredAbsolute), false) => "an expired row",
            (_, Some(Refusal::ExpiredIdle | Refusal::ExpiredAbsolute), true) => "an expired key",
            (_, _, false) => "its row",
            (_, _, true) => "its key",
        };
        steps.push((
            Step {
                asked: load,
                answer: found,
            },
            1,
        ));
    } else if s.cookie_came && !s.opened && s.load == Load::Miss {
        let step = Step {
            asked: load,
            answer: unreachable,
        };
        steps.push((step, 0));
    }
    // Redis's commands as `src/session/store/redis.rs` sends them: a write is one `SET` (`NX` for
    // a new key, `XX` over one still there), an ending deletes the key and sets its marker, a
    // new identity does both and sets the new key, in one transaction.
    let (asked, trips) = match (s.change, redis) {
        (None, _) => return steps,
        (Some(Change::Insert), false) => ("INSERT", 1),
        (Some(Change::Update), false) => ("UPDATE", 1),
        (Some(Change::Renew), false) => ("DELETE + INSERT", 1),
        (Some(Change::Refresh), false) => ("UPDATE (times)", 1),
        (Some(Change::Delete), false) => ("DELETE", 1),
        (Some(Change::Insert), true) => ("SET NX", 1),
        (Some(Change::Update), true) => ("SET XX", 1),
        (Some(Change::Renew), true) => ("DEL + SET + SET", 3),
        (Some(Change::Refresh), true) => ("SET XX (TTL)", 1),
        (Some(Change::Delete), true) => ("DEL + SET", 2),
    };
    let answer = match (s.outcome, redis) {
        (Outcome::Kept | Outcome::Pending, _) => "done",
        (Outcome::Gone, false) => "no row: not kept",
        (Outcome::Gone, true) => "no key: not kept",
        (Outcome::Unavailable, _) => unreachable,
        (Outcome::Failed, _) => "failed",
    };
    let trips = if answer == unreachable { 0 } else { trips };
    steps.push((Step { asked, answer }, trips));
    steps
}
