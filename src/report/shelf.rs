//! The reports waiting for the page a redirect lands on, by token, in this process's memory.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine;
use rand::Rng;

use super::Told;

/// Managed state: the reports waiting for the page a redirect lands on, by token. Bounded in
/// time (`report_keep_seconds`) and in number (`report_max_kept`, the oldest dropped first), so a
/// flood of POSTs that never follow their redirects costs a fixed amount of memory.
pub struct ReportShelf {
    keep: Duration,
    max: usize,
    shelf: std::sync::Mutex<Shelf>,
}

#[derive(Default)]
struct Shelf {
    by_token: HashMap<String, (Instant, Told)>,
    /// Tokens in the order they were kept, which is also their expiry order. A token already
    /// taken stays here until it reaches the front; the queue is held to twice `max`.
    order: VecDeque<(Instant, String)>,
}

impl ReportShelf {
    pub fn new(keep_seconds: u64, max: usize) -> ReportShelf {
        ReportShelf {
            keep: Duration::from_secs(keep_seconds),
            max,
            shelf: std::sync::Mutex::default(),
        }
    }

    /// A new token: 128 random bits, base64url — unguessable, and sealed in its cookie besides.
    pub fn new_token() -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Keeps `told` under `token`, dropping what has expired and, past `report_max_kept`, the
    /// oldest. False when nothing may be kept (`report_max_kept = 0`, or a panic poisoned the
    /// shelf): the landing page then says the report is gone.
    pub fn keep(&self, token: String, told: Told) -> bool {
        if self.max == 0 {
            return false;
        }
        let now = Instant::now();
        let Ok(mut shelf) = self.shelf.lock() else {
            return false;
        };
        let Shelf { by_token, order } = &mut *shelf;
        while let Some((at, old)) = order.front() {
            let expired = now.duration_since(*at) >= self.keep;
            if !expired && by_token.len() < self.max && order.len() < 2 * self.max {
                break;
            }
            by_token.remove(old);
            order.pop_front();
        }
        order.push_back((now, token.clone()));
        by_token.insert(token, (now, told));
        true
    }

    /// Takes the report kept under `token`, once. `None` when it is gone: older than
    /// `report_keep_seconds`, pushed out by newer ones, or kept by another process.
    pub fn take(&self, token: &str) -> Option<Told> {
        let mut shelf = self.shelf.lock().ok()?;
        let (at, told) = shelf.by_token.remove(token)?;
        (at.elapsed() < self.keep).then_some(told)
    }

    /// How many reports are kept now.
    pub fn len(&self) -> usize {
        self.shelf.lock().map_or(0, |s| s.by_token.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
