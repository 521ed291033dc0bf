//! The exercises' names: one enum, so the catalogue (what each asks) and the detector (how each is
//! recognised) are tied by the compiler — a new exercise that one of them forgets does not build.
//! The kebab-case spellings are the contract (docs/SPEC.md, "Exercises"): they are what the pages,
//! `/exercises.json`, the learner cookie and the `exercise_progress` rows carry.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One exercise, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExerciseId {
    FirstValue,
    DeleteCookie,
    Tamper,
    Overflow,
    RowGrows,
    ReplayAfterLogout,
    EndElsewhere,
    Expire,
    Outage,
    ForgePlain,
    Evicted,
    Dump,
}

impl ExerciseId {
    /// Every exercise, in the catalogue's order.
    pub const ALL: [ExerciseId; 12] = [
        ExerciseId::FirstValue,
        ExerciseId::DeleteCookie,
        ExerciseId::Tamper,
        ExerciseId::Overflow,
        ExerciseId::RowGrows,
        ExerciseId::ReplayAfterLogout,
        ExerciseId::EndElsewhere,
        ExerciseId::Expire,
        ExerciseId::Outage,
        ExerciseId::ForgePlain,
        ExerciseId::Evicted,
        ExerciseId::Dump,
    ];

    /// The name as the contract spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseId::FirstValue => "first-value",
            ExerciseId::DeleteCookie => "delete-cookie",
            ExerciseId::Tamper => "tamper",
            ExerciseId::Overflow => "overflow",
            ExerciseId::RowGrows => "row-grows",
            ExerciseId::ReplayAfterLogout => "replay-after-logout",
            ExerciseId::EndElsewhere => "end-elsewhere",
            ExerciseId::Expire => "expire",
            ExerciseId::Outage => "outage",
            ExerciseId::ForgePlain => "forge-plain",
            ExerciseId::Evicted => "evicted",
            ExerciseId::Dump => "dump",
        }
    }

    /// The exercise a name (from a form, a link, a cookie or a row) means, if any.
    pub fn parse(name: &str) -> Option<ExerciseId> {
        ExerciseId::ALL.into_iter().find(|id| id.as_str() == name)
    }
}

impl fmt::Display for ExerciseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_itself_and_as_serde_writes_it() {
        for id in ExerciseId::ALL {
            assert_eq!(ExerciseId::parse(id.as_str()), Some(id));
            let json = serde_json::to_string(&id).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
        }
        assert_eq!(ExerciseId::parse("First-Value"), None);
        assert_eq!(ExerciseId::parse(""), None);
    }

    #[test]
    fn the_contract_ids_are_all_there_in_order() {
        let names: Vec<&str> = ExerciseId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(
            names,
            [
                "first-value",
                "delete-cookie",
                "tamper",
                "overflow",
                "row-grows",
                "replay-after-logout",
                "end-elsewhere",
                "expire",
                "outage",
                "forge-plain",
                "evicted",
                "dump"
            ]
        );
    }

    /// The catalogue and the detector both match on this enum; this ties the catalogue's list to
    /// it too: each id has exactly one exercise, in the same order.
    #[test]
    fn every_id_has_exactly_one_exercise_in_the_ids_order() {
        let ids: Vec<ExerciseId> = crate::exercises::EXERCISES.iter().map(|e| e.id).collect();
        assert_eq!(ids, ExerciseId::ALL);
        for id in ExerciseId::ALL {
            let found = crate::exercises::catalogue::find(id);
            assert!(found.is_some_and(|e| e.id == id), "{id}");
        }
    }
}
