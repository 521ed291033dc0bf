//! OWASP's lockout list of device cookies: devices that used their burst of wrong passwords, and
//! until when they are not trusted. Only a device cookie (issued by a successful login) can enter
//! it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Distrusted devices, keyed by the device cookie's random id, with the end of their distrust.
#[derive(Default)]
pub(super) struct Lockouts {
    until: Mutex<HashMap<String, Instant>>,
}

impl Lockouts {
    /// The list, even if a thread panicked while holding it (its entries are plain deadlines:
    /// none can be left half-written).
    fn list(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `device` is off the list, or its distrust has ended.
    pub(super) fn trusts(&self, device: &str) -> bool {
        self.list()
            .get(device)
            .is_none_or(|until| *until <= Instant::now())
    }

    /// Puts `device` on the list until `until`.
    pub(super) fn distrust(&self, device: &str, until: Instant) {
        self.list().insert(device.to_string(), until);
    }

    /// Forgets the devices whose distrust has ended, so the list does not grow without end.
    pub(super) fn forget_ended(&self) {
        let now = Instant::now();
        self.list().retain(|_, until| *until > now);
    }
}
