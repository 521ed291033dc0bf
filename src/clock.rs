//! The app's one clock: the process's real time, injectable so that tests move it forward instead
//! of sleeping. The session layer reads its wall time (deadlines, cleanup), the throttles its
//! monotonic time (bucket refills, device lockouts). Nothing in the app moves it: the inspector's
//! fast-forward is a per-browser offset on top of it ([`crate::lab`]), so what is stored, and the
//! cleanup task, keep real time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rocket::fairing::AdHoc;
use time::{Duration, OffsetDateTime};

/// Real time plus an offset that only tests set, and that can only grow.
#[derive(Debug)]
pub struct Clock {
    source: Source,
    offset_seconds: AtomicI64,
}

/// Where a [`Clock`]'s time comes from before its offset is added.
#[derive(Debug)]
enum Source {
    /// The system's clocks: real time flows. The monotonic reading counts from `started`, so a
    /// wall clock set back (NTP, a VM resumed) cannot refill a throttle or stretch a lockout.
    System { started: Instant },
    /// Stands at `wall` (and at zero on the monotonic reading) until [`Clock::advance`] moves it:
    /// the tests' clock, on which a throttle refills only when the test says time has passed,
    /// however long a password hash takes on a loaded machine.
    Manual { wall: OffsetDateTime },
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl Clock {
    /// The clock every app runs on: real time, plus the (zero) offset.
    pub fn system() -> Clock {
        Clock {
            source: Source::System {
                started: Instant::now(),
            },
            offset_seconds: AtomicI64::new(0),
        }
    }

    /// A clock that stands still at the current wall time until [`Clock::advance`] moves it. For
    /// tests only: nothing in the app makes one, so real time flows in every build that serves.
    pub fn manual() -> Clock {
        Clock {
            source: Source::Manual {
                wall: OffsetDateTime::now_utc(),
            },
            offset_seconds: AtomicI64::new(0),
        }
    }

    /// The wall time: what is stored and compared with stored deadlines.
    pub fn now(&self) -> OffsetDateTime {
        let base = match self.source {
            Source::System { .. } => OffsetDateTime::now_utc(),
            Source::Manual { wall } => wall,
        };
        let now = base + Duration::seconds(self.offset());
        // PostgreSQL keeps microseconds; rounding here keeps values equal after a round trip.
        now.replace_nanosecond(now.microsecond() * 1000)
            .unwrap_or(now)
    }

    /// Time since this clock was made, offset included: never goes back, whatever the wall clock
    /// does. For measuring intervals (the throttles' buckets and lockouts), not for storing.
    pub fn monotonic(&self) -> std::time::Duration {
        let base = match self.source {
            Source::System { started } => started.elapsed(),
            Source::Manual { .. } => std::time::Duration::ZERO,
        };
        // The offset never drops below zero (see `advance`), so the conversion cannot fail.
        let offset = u64::try_from(self.offset()).unwrap_or(0);
        base.saturating_add(std::time::Duration::from_secs(offset))
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

    /// How far this clock runs ahead of its source, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }
}

/// Manages the app's clock before any stage that reads it (the throttles, the session layer),
/// unless the app was given one: `--mode both` shares one between its two apps, and a test may
/// hand in a [`Clock::manual`] one.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Clock", |rocket| async {
        if rocket.state::<Arc<Clock>>().is_some() {
            return rocket;
        }
        rocket.manage(Arc::new(Clock::system()))
    })
}

/// The app's clock as a request finds it managed: its time now, or the system's when an app was
/// built without the clock's stage.
pub fn now_for(rocket: &rocket::Rocket<rocket::Orbit>) -> OffsetDateTime {
    rocket
        .state::<Arc<Clock>>()
        .map_or_else(OffsetDateTime::now_utc, |c| c.now())
}

/// A time as pages show it: to the minute, in UTC (`2026-12-14 02:27 UTC`).
pub fn when(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_forward_and_only_when_advanced() {
        let clock = Clock::manual();
        let (wall, mono) = (clock.now(), clock.monotonic());
        assert_eq!(clock.now(), wall);
        assert_eq!(clock.monotonic(), mono);
        clock.advance(-5);
        assert_eq!(clock.monotonic(), mono, "time does not go back");
        clock.advance(3);
        assert_eq!(clock.now(), wall + Duration::seconds(3));
        assert_eq!(clock.monotonic(), mono + std::time::Duration::from_secs(3));
    }

    #[test]
    fn the_system_clock_flows_and_carries_the_offset() {
        let clock = Clock::system();
        let before = clock.monotonic();
        clock.advance(60);
        let after = clock.monotonic();
        assert!(after >= before + std::time::Duration::from_secs(60));
        assert!(clock.now() > OffsetDateTime::now_utc() + Duration::seconds(59));
    }
}
