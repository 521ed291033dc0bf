//! The session layer's one clock: the process's real time, injectable so that tests move it forward
//! instead of sleeping. Nothing in the app moves it: the inspector's fast-forward is a per-browser
//! offset on top of it ([`crate::lab`]), so what is stored, and the cleanup task, keep real time.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

/// Wall-clock time plus an offset that only tests set, and that can only grow.
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

    /// Moves the clock forward by `seconds` (negative values are ignored: time does not go back),
    /// at most a hundred years in all, far from where date arithmetic would overflow.
    pub fn advance(&self, seconds: i64) {
        const LIMIT: i64 = 100 * 366 * 24 * 3600;
        let step = seconds.clamp(0, LIMIT);
        let _ = self
            .offset_seconds
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(step).min(LIMIT))
            });
    }

    /// How far this clock runs ahead of the wall clock, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }
}

/// A time as pages show it: to the minute, in UTC (`2026-12-14 02:27 UTC`).
pub fn when(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&format).unwrap_or_default()
}
