//! One keyed limiter: `governor`'s GCRA buckets, and what it made of one attempt.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// One keyed limiter and the burst it was built with (to tell how much of it is used).
pub(super) struct Limiter<K: std::hash::Hash + Eq + Clone> {
    buckets: Keyed<K>,
    pub(super) burst: u32,
    clock: DefaultClock,
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
    pub(super) fn new(burst: u32, interval_secs: u64) -> Limiter<K> {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(interval_secs.max(1));
        // `with_period` is `None` only for a zero period, which `max(1)` rules out.
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        Limiter {
            buckets: RateLimiter::dashmap_with_clock(quota, clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            burst: burst.get(),
            clock,
        }
    }

    pub(super) fn check(&self, key: &K) -> Verdict {
        match self.buckets.check_key(key) {
            Ok(state) => Verdict::Go {
                used: self.burst.saturating_sub(state.remaining_burst_capacity()),
            },
            Err(not_until) => Verdict::Wait(not_until.wait_time_from(self.clock.now())),
        }
    }

    /// Forgets keys whose buckets are full again: without it every name and address ever seen
    /// would stay in memory.
    pub(super) fn forget_idle(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}
