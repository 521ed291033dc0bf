//! What one exercise is: its question, choices, task, hints and answer, and the modes it is done
//! in. The catalogue ([`super::catalogue`]) and the third store's lesson
//! ([`super::store_lesson`]) both fill it in.

use super::ExerciseId;
use crate::settings::Mode;

/// One exercise, as the page shows it.
pub struct Exercise {
    pub id: ExerciseId,
    pub title: &'static str,
    /// The lesson it belongs to: its name on the score board, and the page it is done on.
    pub lesson: &'static str,
    pub lesson_path: &'static str,
    /// The README section that explains it.
    pub readme: &'static str,
    pub modes: &'static [Mode],
    /// The prediction, answered before acting.
    pub question: &'static str,
    pub choices: &'static [&'static str],
    /// The right choice in server mode and in cookie mode (the same question can have a
    /// different answer in each).
    pub right: [usize; 2],
    /// What to do once the prediction is in.
    pub task: &'static str,
    /// Shown one at a time, on request.
    pub hints: [&'static str; 2],
    /// The steps in full: after solving, or after both hints.
    pub answer: &'static str,
    /// Why it happens, shown beside the prediction once solved.
    pub explanation: &'static str,
}

impl Exercise {
    pub fn applies_to(&self, mode: Mode) -> bool {
        self.modes.contains(&mode)
    }

    /// The right choice in `mode`.
    pub fn right_choice(&self, mode: Mode) -> usize {
        match mode {
            // Redis mode keeps its sessions on the server too.
            Mode::Server | Mode::Redis => self.right[0],
            Mode::Cookie => self.right[1],
        }
    }

    pub fn mode_names(&self) -> Vec<&'static str> {
        self.modes.iter().map(|m| m.as_str()).collect()
    }
}
