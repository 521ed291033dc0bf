//! The hash queue: password hashes run on the blocking pool, no more at once than there are
//! cores, and no more waiting than `hash_queue` — past it a request is turned away at once (503).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use super::password::{dummy_hash, hash_blocking, verify_blocking};

/// Password hashes asked for and finished since start. They let a test see that hashing runs off
/// the async workers: a page can be answered between a hash's start and its end. Built only with
/// the `hash-counts` feature, which only the tests turn on.
#[cfg(feature = "hash-counts")]
pub mod hash_counts {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static STARTED: AtomicUsize = AtomicUsize::new(0);
    pub static FINISHED: AtomicUsize = AtomicUsize::new(0);

    pub fn started() -> usize {
        STARTED.load(Ordering::SeqCst)
    }

    pub fn finished() -> usize {
        FINISHED.load(Ordering::SeqCst)
    }

    /// Runs `work`, counting it.
    pub(crate) fn count<T>(work: impl FnOnce() -> T) -> T {
        let out = work();
        FINISHED.fetch_add(1, Ordering::SeqCst);
        out
    }

    pub(crate) fn start() {
        STARTED.fetch_add(1, Ordering::SeqCst);
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// How many password hashes may wait for a core (managed state, from `hash_queue`). Past it a
/// request is turned away at once: hashes are served first come, first served, so a queue
/// without a bound lets a flood of bad logins make every real one wait for all of them
/// (800 of them made a real login wait 14 s). Shedding keeps the wait of whoever gets in short.
///
/// A second lane (`hash_queue_devices` places) takes only logins that carry a trusted device
/// cookie, so a flood of anonymous attempts cannot shut out a browser that logged in before.
/// A handle: `--mode both` gives its two apps clones of one queue.
#[derive(Clone)]
pub struct HashQueue {
    /// One permit per core (running) plus one per allowed waiter; `try_acquire` never waits.
    admitted: Arc<tokio::sync::Semaphore>,
    /// The places only trusted devices may take.
    devices: Arc<tokio::sync::Semaphore>,
    /// The device cookies (random ids) whose attempt holds a place now: one each.
    in_flight: Arc<Mutex<HashSet<String>>>,
}

impl HashQueue {
    pub fn new(waiting: usize, for_devices: usize) -> HashQueue {
        let permits = cores()
            .saturating_add(waiting)
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        HashQueue {
            admitted: Arc::new(tokio::sync::Semaphore::new(permits)),
            devices: Arc::new(tokio::sync::Semaphore::new(
                for_devices.min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            in_flight: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The queue the settings describe (`hash_queue`, `hash_queue_devices`).
    pub fn from_settings(s: &crate::settings::Settings) -> HashQueue {
        HashQueue::new(s.hash_queue, s.hash_queue_devices)
    }

    /// For the command line, which hashes one password and has no one to turn away.
    pub fn unbounded() -> HashQueue {
        HashQueue::new(usize::MAX, 0)
    }

    /// A place in the queue, or [`HashError::Busy`] at once. A login takes it before anything
    /// else — before the throttle, so a shed attempt spends none of its name's or address's
    /// tokens, and before the lookup, so it costs no query either (a flood's lookups would
    /// otherwise queue for the pool's connections in front of the real login's).
    ///
    /// # Errors
    /// [`HashError::Busy`] when `hash_queue` requests already wait.
    pub fn admit(&self) -> Result<Admitted<'_>, HashError> {
        self.admitted
            .try_acquire()
            .map(|permit| Admitted {
                _permit: permit,
                device: None,
            })
            .map_err(|_| HashError::Busy)
    }

    /// A place for a login with a device cookie (its random id `device`): one of the places
    /// kept for devices, else one of everyone's — and at most one per device at a time, so a
    /// script sending one device cookie over 48 connections holds one place, not the lane.
    ///
    /// # Errors
    /// [`HashError::Busy`] when this device already holds a place, or both lanes are full.
    pub fn admit_device(&self, device: &str) -> Result<Admitted<'_>, HashError> {
        if !lock(&self.in_flight).insert(device.to_string()) {
            return Err(HashError::Busy);
        }
        let permit = match self.devices.try_acquire() {
            Ok(permit) => Ok(permit),
            Err(_) => self.admitted.try_acquire(),
        };
        match permit {
            Ok(permit) => Ok(Admitted {
                _permit: permit,
                device: Some((&self.in_flight, device.to_string())),
            }),
            Err(_) => {
                lock(&self.in_flight).remove(device);
                Err(HashError::Busy)
            }
        }
    }
}

/// The set, even if a thread panicked while holding it (its entries are whole strings).
fn lock(set: &Mutex<HashSet<String>>) -> MutexGuard<'_, HashSet<String>> {
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A place in the [`HashQueue`], given back when its hash is done (the permit is held, not read),
/// and with it the device's claim to its one place.
pub struct Admitted<'q> {
    _permit: tokio::sync::SemaphorePermit<'q>,
    device: Option<(&'q Mutex<HashSet<String>>, String)>,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if let Some((set, device)) = self.device.take() {
            lock(set).remove(&device);
        }
    }
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full: answer 503 with `Retry-After` rather than wait.
    #[error("too many passwords are being checked; try again shortly")]
    Busy,
    #[error("the hashing task failed: {0}")]
    Failed(String),
}

/// Runs one argon2 computation on the blocking pool, so Rocket's async workers keep serving
/// other requests — but no more at once than there are cores. Each computation holds 19 MiB:
/// unbounded, 32 concurrent logins held gigabytes, and beyond one per core they only queue for
/// the CPU anyway. The core slots are the process's (two apps in one process share the CPU);
/// admission is the app's.
async fn hash_off_the_workers<T: Send + 'static>(
    _admitted: Admitted<'_>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    #[cfg(feature = "hash-counts")]
    hash_counts::start();
    let slots = SLOTS.get_or_init(|| tokio::sync::Semaphore::new(cores()));
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?;
    #[cfg(feature = "hash-counts")]
    let work = move || hash_counts::count(work);
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Hashes a new password.
///
/// # Errors
/// [`HashError::Busy`] when the queue is full; the hasher's error (it has none for valid
/// input) as [`HashError::Failed`].
pub async fn hash_password(queue: &HashQueue, password: String) -> Result<String, HashError> {
    hash_admitted(queue.admit()?, password).await
}

/// Hashes a new password in the place `admitted` holds in the queue (a signup takes its place
/// before its throttle, as a login does).
///
/// # Errors
/// As [`hash_password`], but never [`HashError::Busy`].
pub async fn hash_admitted(admitted: Admitted<'_>, password: String) -> Result<String, HashError> {
    hash_off_the_workers(admitted, move || hash_blocking(&password))
        .await?
        .map_err(HashError::Failed)
}

/// Checks `password` against `phc`, or against the dummy hash when there is no user, in the
/// place `admitted` holds in the queue ([`HashQueue::admit`]).
pub async fn verify_password(
    admitted: Admitted<'_>,
    password: String,
    phc: Option<String>,
) -> bool {
    let checked = hash_off_the_workers(admitted, move || {
        let found = phc.is_some();
        let ok = verify_blocking(&password, phc.as_deref().unwrap_or_else(|| dummy_hash()));
        found && ok
    })
    .await;
    checked.unwrap_or_else(|why| {
        rocket::error!("password check failed: {why}");
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_device_holds_one_place_at_a_time_and_gets_it_back_when_done() {
        let queue = HashQueue::new(8, 4);
        let first = queue.admit_device("d1").expect("a place");
        assert!(
            matches!(queue.admit_device("d1"), Err(HashError::Busy)),
            "a second connection with the same device cookie is shed"
        );
        let other = queue
            .admit_device("d2")
            .expect("another device has its own");
        drop(first);
        let again = queue.admit_device("d1").expect("its place is back");
        drop((other, again));
        // A device turned away for want of any place leaves no claim behind.
        let full = HashQueue::new(0, 0);
        let held: Vec<_> = std::iter::from_fn(|| full.admit().ok()).collect();
        assert!(matches!(full.admit_device("d3"), Err(HashError::Busy)));
        drop(held);
        assert!(full.admit_device("d3").is_ok());
    }
}
