//! A learner's progress as the pages show it: the stored rows, with what the learner cookie still
//! keeps for the database laid over them — and the one place that stores progress a page made (a
//! prediction, a hint), or keeps it in the cookie when the database cannot take it.

use std::collections::HashMap;

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::store::{self, Progress};
use super::{catalogue, Exercise, ExerciseId, ProgressTrace, EXERCISES};
use crate::learner::{Learner, Pending};
use crate::settings::Mode;

/// A learner's progress in every exercise and mode.
pub struct Board {
    rows: HashMap<(ExerciseId, Mode), Progress>,
    /// The database could not be reached: what is shown is what the cookie kept.
    pub offline: bool,
}

impl Board {
    pub fn get(&self, id: ExerciseId, mode: Mode) -> Option<&Progress> {
        self.rows.get(&(id, mode))
    }

    /// Modes `id` was solved in.
    pub fn solved_in(&self, id: ExerciseId) -> Vec<&'static str> {
        Mode::ALL
            .into_iter()
            .filter(|m| self.get(id, *m).is_some_and(|p| p.solved_at.is_some()))
            .map(Mode::as_str)
            .collect()
    }

    /// Exercises of `list` solved in any mode: each counts once.
    pub fn solved_count(&self, list: &[&Exercise]) -> usize {
        list.iter()
            .filter(|e| !self.solved_in(e.id).is_empty())
            .count()
    }

    /// What a pending entry adds, as the store would add it.
    fn apply(&mut self, p: &Pending) {
        let row = self
            .rows
            .entry((p.exercise, p.mode))
            .or_insert_with(|| Progress::empty(p.exercise, p.mode));
        if row.solved_at.is_none() && p.prediction.is_some() {
            row.prediction = p.prediction;
        }
        row.hints = row.hints.saturating_add(i16::from(p.hint));
        if row.solved_at.is_none() && p.evidence.is_some() {
            row.solved_at = OffsetDateTime::from_unix_timestamp(p.at).ok();
            row.evidence.clone_from(&p.evidence);
        }
    }
}

/// Stores what the cookie kept meanwhile, then reads the learner's progress (one statement). No
/// learner: an empty board, and no statement at all.
pub async fn board(learner: &Learner<'_>) -> Board {
    let mut board = Board {
        rows: HashMap::new(),
        offline: false,
    };
    let Some(state) = learner.cell().get() else {
        return board;
    };
    let req = learner.request();
    let trace = ProgressTrace::of(req);
    let mut waiting = Vec::new();
    match store::pool(req.rocket()).await {
        Ok(pool) => {
            for p in &state.pending {
                if store::record(pool, &state.id, p, trace).await.is_err() {
                    waiting.push(p.clone());
                }
            }
            match store::load(pool, &state.id, trace).await {
                Ok(rows) => {
                    for r in rows {
                        board.rows.insert((r.exercise, r.mode), r);
                    }
                }
                Err(_) => board.offline = true,
            }
            if waiting.len() < state.pending.len() {
                let still = waiting.clone();
                learner.cell().update_existing(|s| s.pending = still);
            }
        }
        Err(_) => {
            board.offline = true;
            waiting = state.pending;
        }
    }
    // Not stored yet: shown from the cookie.
    for p in &waiting {
        board.apply(p);
    }
    board
}

/// The home page's score board: solved / total, overall and per lesson. A browser that is no
/// learner yet sees zeros, at no cost.
pub async fn score_board(learner: &Learner<'_>) -> Value {
    let board = board(learner).await;
    // Out of what this mode can do: server mode cannot overflow a cookie (issue 22: "of 10"
    // where 9 apply).
    let mode = crate::cookies::Jar::of(learner.request()).map(|jar| jar.mode());
    let doable = |list: Vec<&'static Exercise>| -> Vec<&'static Exercise> {
        list.into_iter()
            .filter(|e| mode.is_none_or(|m| e.applies_to(m)))
            .collect()
    };
    let lessons: Vec<Value> = catalogue::lessons()
        .into_iter()
        .map(|(name, path, list)| (name, path, doable(list)))
        .filter(|(_, _, list)| !list.is_empty())
        .map(|(name, path, list)| {
            json!({
                "name": name,
                "path": path,
                "solved": board.solved_count(&list),
                "total": list.len(),
            })
        })
        .collect();
    let all = doable(EXERCISES.iter().collect());
    json!({
        "solved": board.solved_count(&all),
        "total": all.len(),
        "lessons": lessons,
        "learner": learner.cell().exists(),
        "learner_cookie": crate::cookies::Jar::of(learner.request())
            .map(|jar| jar.name(crate::cookies::Kind::Learner)),
        "offline": board.offline,
    })
}

/// Stores `p` for the learner (if the browser is one), or keeps it in the learner cookie when the
/// database cannot take it.
pub async fn keep(learner: &Learner<'_>, p: Pending) {
    let Some(state) = learner.cell().get() else {
        return;
    };
    let req = learner.request();
    let trace = ProgressTrace::of(req);
    trace.touch();
    let stored = match store::pool(req.rocket()).await {
        Ok(pool) => store::record(pool, &state.id, &p, trace).await.is_ok(),
        Err(_) => false,
    };
    if !stored {
        learner.cell().update_existing(|s| s.keep_pending(p));
    }
}
