//! The session layer's one clock, injectable so tests (and the inspector's debug-only
//! fast-forward) move time forward instead of sleeping, and shiftable class-wide by a teacher
//! (`/teacher`) for a demonstration.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

/// Wall-clock time plus an offset that can only grow, plus the teacher's class-wide shift.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
    /// The teacher's class-wide shift: set and stopped as a whole, unlike the offset. Every
    /// browser's deadlines are checked against it while it lasts; what is written meanwhile
    /// carries shifted times, so a row refreshed during a shift keeps a later deadline after it.
    class_shift_seconds: AtomicI64,
}

/// The most the clock may run ahead: a hundred years, far from where date arithmetic overflows.
const LIMIT: i64 = 100 * 366 * 24 * 3600;

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc()
            + Duration::seconds(self.offset().saturating_add(self.class_shift()));
        // PostgreSQL keeps microseconds; rounding here keeps values equal after a round trip.
        now.replace_nanosecond(now.microsecond() * 1000)
            .unwrap_or(now)
    }

    /// Moves the clock forward by `seconds` (negative values are ignored: time does not go back),
    /// at most a hundred years in all, far from where date arithmetic would overflow.
    pub fn advance(&self, seconds: i64) {
        let step = seconds.clamp(0, LIMIT);
        let _ = self
            .offset_seconds
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(step).min(LIMIT))
            });
    }

    /// How far this clock runs ahead of the wall clock, in seconds (the teacher's shift aside).
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Sets the class-wide shift to `seconds` ahead (0 stops it; negative values count as 0).
    pub fn shift_class(&self, seconds: i64) {
        self.class_shift_seconds
            .store(seconds.clamp(0, LIMIT), Ordering::Relaxed);
    }

    /// The class-wide shift now, in seconds; 0 when none runs.
    pub fn class_shift(&self) -> i64 {
        self.class_shift_seconds.load(Ordering::Relaxed)
    }
}

/// A time as pages show it: to the minute, in UTC (`2026-12-14 02:27 UTC`).
pub fn when(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&format).unwrap_or_default()
}
