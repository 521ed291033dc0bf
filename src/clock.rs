//! The session layer's one clock, injectable so tests (and the inspector's debug-only
//! fast-forward) move time forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

/// Wall-clock time plus an offset that can only grow.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc() + Duration::seconds(self.offset());
        // PostgreSQL keeps microseconds; rounding here keeps values equal after a round trip.
        now.replace_nanosecond(now.microsecond() * 1000)
            .unwrap_or(now)
    }

    /// Moves the clock forward by `seconds` (negative values are ignored: time does not go back).
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds
            .fetch_add(seconds.max(0), Ordering::Relaxed);
    }

    /// How far this clock runs ahead of the wall clock, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }
}
