//! Exercises the server verifies: a catalogue of tasks done in the learner's own browser, a
//! prediction answered before each, hints, and progress kept per learner (not per session).
//!
//! - [`board`]: progress as the pages show it, the cookie's waiting entries laid over the rows.
//! - [`catalogue`]: the exercises, their questions, hints and answers.
//! - [`exercise`]: what one exercise holds.
//! - [`detect`]: how each is recognised from what the learner's own requests did.
//! - [`id`]: the exercises' names, one enum both of the above match on.
//! - [`order`]: the order the pages list them in (the lessons').
//! - [`store`]: progress in PostgreSQL (`learners`, `exercise_progress`).
//! - [`store_lesson`]: the exercises of "Sessions are not permanent storage" (Redis).
//! - [`watch`]: told what the session layer did for each request of a learner that armed an
//!   exercise, records what it solved, and says what that cost in `Progress-Trace`.
//!
//! The learner and its cookie are [`crate::learner`]. Progress never reads or writes the session:
//! `Session-Trace` stays the session's alone.

pub mod board;
pub mod catalogue;
pub mod detect;
pub mod exercise;
pub mod id;
pub mod order;
pub mod store;
pub mod store_lesson;
pub mod watch;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use rocket::Request;

pub use catalogue::{Exercise, EXERCISES};
pub use id::ExerciseId;

/// What progress cost one request, for the `Progress-Trace` header: its SQL statements and the
/// exercises it solved. Kept apart from the session's figures.
#[derive(Default)]
pub struct ProgressTrace {
    queries: AtomicU32,
    solved: Mutex<Vec<ExerciseId>>,
    /// Something about the learner happened (a prediction, a hint, a step): say so even at zero
    /// queries.
    touched: AtomicU32,
}

impl ProgressTrace {
    pub fn of<'r>(req: &'r Request<'_>) -> &'r ProgressTrace {
        req.local_cache(ProgressTrace::default)
    }

    pub fn query(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    pub fn touch(&self) {
        self.touched.fetch_add(1, Ordering::Relaxed);
    }

    pub fn solved(&self, id: ExerciseId) {
        if let Ok(mut s) = self.solved.lock() {
            s.push(id);
        }
        self.touch();
    }

    /// The header's value, or `None` when progress did nothing for this request.
    pub fn header(&self, pending: usize) -> Option<String> {
        if self.touched.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut out = format!("queries={}", self.queries.load(Ordering::Relaxed));
        if let Ok(s) = self.solved.lock() {
            if !s.is_empty() {
                out.push_str("; solved=");
                let names: Vec<&str> = s.iter().map(|id| id.as_str()).collect();
                out.push_str(&names.join(","));
            }
        }
        if pending > 0 {
            out.push_str(&format!("; pending={pending}"));
        }
        Some(out)
    }
}
