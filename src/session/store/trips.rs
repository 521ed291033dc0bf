//! What a store's answer cost: the round trips it ran (SQL statements, Redis commands) and what a
//! cache in front of it did — the figures `Session-Trace` reports, carried with each answer.

/// Round trips to a store's backend, the figures `Session-Trace` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Trips {
    /// SQL statements (`queries=`).
    pub sql: u32,
    /// Redis commands (`redis=`).
    pub redis: u32,
    /// With `session_cache = "redis"`: what the cache did for the load (`cache=`).
    pub cache: Option<Cache>,
}

/// What a cache in front of the store did for a load (`Session-Trace: cache=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// Answered from the cache: no SQL.
    Hit,
    /// Not in the cache: read from the database, then put in the cache.
    Miss,
    /// The cache could not be reached: the database alone answered.
    Unavailable,
}

impl Cache {
    pub fn as_str(self) -> &'static str {
        match self {
            Cache::Hit => "hit",
            Cache::Miss => "miss",
            Cache::Unavailable => "unavailable",
        }
    }
}

impl std::ops::AddAssign for Trips {
    fn add_assign(&mut self, other: Trips) {
        self.sql += other.sql;
        self.redis += other.redis;
        // The load's answer is the one to report; a later call that did not ask the cache keeps it.
        self.cache = other.cache.or(self.cache);
    }
}

/// A store's answer and the round trips it took: a store knows what it ran, so it says so.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
    pub trips: Trips,
}

impl<T> Done<T> {
    /// Answered from what the store was given: no round trip.
    pub fn local(value: T) -> Done<T> {
        Done {
            value,
            trips: Trips::default(),
        }
    }

    /// Answered by one SQL statement.
    pub fn sql(value: T) -> Done<T> {
        Done {
            value,
            trips: Trips {
                sql: 1,
                ..Trips::default()
            },
        }
    }
}
