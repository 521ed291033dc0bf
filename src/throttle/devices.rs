//! OWASP's lockout list of device cookies: devices that used their burst of wrong passwords, and
//! until when they are not trusted. Only a device cookie (issued by a successful login) can enter
//! it. Deadlines are on the app's clock's monotonic reading, as the buckets are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::Clock;

/// Distrusted devices, keyed by the device cookie's random id, with the end of their distrust.
pub(super) struct Lockouts {
    until: Mutex<HashMap<String, Duration>>,
    clock: Arc<Clock>,
}

impl Lockouts {
    pub(super) fn new(clock: Arc<Clock>) -> Lockouts {
        Lockouts {
            until: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// The list, even if a thread panicked while holding it (its entries are plain deadlines:
    /// none can be left half-written).
    fn list(&self) -> MutexGuard<'_, HashMap<String, Duration>> {
        self.until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long `device` stays distrusted: `None` when it is off the list or its distrust has
    /// ended.
    pub(super) fn distrusted_for(&self, device: &str) -> Option<Duration> {
        let now = self.clock.monotonic();
        self.list()
            .get(device)
            .filter(|until| **until > now)
            .map(|until| until.saturating_sub(now))
    }

    /// Puts `device` on the list for `how_long` from now.
    pub(super) fn distrust(&self, device: &str, how_long: Duration) {
        let until = self.clock.monotonic().saturating_add(how_long);
        self.list().insert(device.to_string(), until);
    }

    /// Forgets the devices whose distrust has ended, so the list does not grow without end.
    pub(super) fn forget_ended(&self) {
        let now = self.clock.monotonic();
        self.list().retain(|_, until| *until > now);
    }
}
