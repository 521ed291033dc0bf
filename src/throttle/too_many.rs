//! What a throttled request is told: how long to wait (429), or that the shared limits cannot be
//! reached (503), in the sentence its page shows.

use std::time::Duration;

use rocket::http::Status;

use super::shared;

/// Why a request must wait, for its 429 page (or 503, when the shared throttles cannot count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    /// Whole seconds until a retry can succeed (at least 1), for `Retry-After`.
    pub retry_after: u64,
    /// `shared_state = "redis"` and Redis did not answer: nothing could be counted, so nothing
    /// was let through (fail closed: a guess must not go uncounted because the counter is down).
    pub unavailable: bool,
}

/// What a client is told to wait when the shared throttles cannot be reached.
const DOWN_RETRY_AFTER: u64 = 5;

impl TooMany {
    pub(super) fn after(wait: Duration) -> TooMany {
        // Rounded up: a client that waits exactly `Retry-After` must not be refused again.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        TooMany {
            retry_after: secs.max(1),
            unavailable: false,
        }
    }

    pub(super) fn down(e: &shared::Down) -> TooMany {
        rocket::warn!("shared throttles (Redis) unavailable, refusing: {}", e.0);
        TooMany {
            retry_after: DOWN_RETRY_AFTER,
            unavailable: true,
        }
    }

    pub(super) fn of(wait_ms: u64) -> TooMany {
        TooMany::after(Duration::from_millis(wait_ms))
    }

    /// The status the page answers with: 429, or 503 when nothing could be counted.
    pub fn status(&self) -> Status {
        if self.unavailable {
            Status::ServiceUnavailable
        } else {
            Status::TooManyRequests
        }
    }

    /// The sentence the page shows.
    pub fn sentence(&self, what: &str) -> String {
        let s = self.retry_after;
        let plural = if s == 1 { "" } else { "s" };
        if self.unavailable {
            return format!(
                "The shared limits (Redis, shared_state = \"redis\") cannot be reached, so {what} \
                 cannot be counted and none is let through. Try again in {s} second{plural} \
                 (nothing was checked or stored)."
            );
        }
        format!("Too many {what}. Try again in {s} second{plural} (nothing was checked or stored).")
    }
}
