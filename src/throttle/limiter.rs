//! One keyed limiter: `governor`'s GCRA buckets on the app's [`Clock`], and what it made of one
//! attempt.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;

/// The app's clock as `governor` reads it: its monotonic reading, a `Duration` since the clock was
/// made (`governor` measures only differences). A test's manual clock therefore refills a bucket
/// only when the test moves it, however long the requests in between take.
#[derive(Clone)]
pub(super) struct Ticks(pub(super) Arc<Clock>);

impl governor::clock::Clock for Ticks {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.0.monotonic()
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, Ticks, StateInformationMiddleware>;

/// One keyed limiter and the burst it was built with (to tell how much of it is used).
pub(super) struct Limiter<K: std::hash::Hash + Eq + Clone> {
    buckets: Keyed<K>,
    pub(super) burst: u32,
    /// One token comes back per this many milliseconds (what a shared bucket is told).
    pub(super) period_ms: u64,
    ticks: Ticks,
}

/// What a limiter made of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Let through; this many of the burst are used, this one included.
    Go { used: u32 },
    /// Refused: the next attempt is allowed after this long.
    Wait(Duration),
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    pub(super) fn new(burst: u32, interval_secs: u64, clock: &Arc<Clock>) -> Limiter<K> {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(interval_secs.max(1));
        // `with_period` is `None` only for a zero period, which `max(1)` rules out.
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let ticks = Ticks(clock.clone());
        Limiter {
            buckets: RateLimiter::dashmap_with_clock(quota, ticks.clone())
                .with_middleware::<StateInformationMiddleware>(),
            burst: burst.get(),
            period_ms: u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
            ticks,
        }
    }

    pub(super) fn check(&self, key: &K) -> Verdict {
        match self.buckets.check_key(key) {
            Ok(state) => Verdict::Go {
                used: self.burst.saturating_sub(state.remaining_burst_capacity()),
            },
            Err(not_until) => {
                Verdict::Wait(not_until.wait_time_from(governor::clock::Clock::now(&self.ticks)))
            }
        }
    }

    /// Forgets keys whose buckets are full again: without it every name and address ever seen
    /// would stay in memory.
    pub(super) fn forget_idle(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}
