//! The order the pages list the exercises in: the lessons' order, as the home page teaches them
//! ([`super::catalogue::lessons`]), so the list reads as the course does — the catalogue's own
//! order is only the order they were written in.

use super::catalogue::lessons;
use super::Exercise;

/// Every exercise, in lesson order (within one lesson, in the catalogue's order).
pub fn in_lesson_order() -> Vec<&'static Exercise> {
    lessons()
        .into_iter()
        .flat_map(|(_, _, list)| list)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises::EXERCISES;

    #[test]
    fn every_exercise_is_listed_once_and_lessons_stay_together() {
        let list = in_lesson_order();
        assert_eq!(list.len(), EXERCISES.len());
        let lessons: Vec<&str> = list.iter().map(|e| e.lesson).collect();
        let mut seen: Vec<&str> = Vec::new();
        for l in lessons {
            if seen.last() != Some(&l) {
                assert!(!seen.contains(&l), "{l} comes back after another lesson");
                seen.push(l);
            }
        }
    }
}
