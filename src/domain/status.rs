//! The progress status of an opportunity and the moves allowed between statuses.

use std::fmt;

use super::RuleError;

/// Where an opportunity stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProgressStatus {
    #[default]
    NotStarted,
    InProgress,
    Implemented,
}

impl ProgressStatus {
    /// The value stored in PostgreSQL (and shown in the GraphQL enum).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "NOT_STARTED",
            Self::InProgress => "IN_PROGRESS",
            Self::Implemented => "IMPLEMENTED",
        }
    }

    /// Parses the stored value; anything else is a corrupt row, so callers treat `None` as internal.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "NOT_STARTED" => Some(Self::NotStarted),
            "IN_PROGRESS" => Some(Self::InProgress),
            "IMPLEMENTED" => Some(Self::Implemented),
            _ => None,
        }
    }
}

impl fmt::Display for ProgressStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a requested status change amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The opportunity already has that status: a successful no-op.
    Unchanged,
    /// An accepted move.
    Move {
        from: ProgressStatus,
        to: ProgressStatus,
    },
}

/// Checks a move against the product's rules. IMPLEMENTED → IN_PROGRESS is the one refused move:
/// undoing an implementation goes back to NOT_STARTED explicitly.
pub fn transition(from: ProgressStatus, to: ProgressStatus) -> Result<Transition, RuleError> {
    use ProgressStatus::*;
    match (from, to) {
        (a, b) if a == b => Ok(Transition::Unchanged),
        (Implemented, InProgress) => Err(RuleError::InvalidTransition { from, to }),
        _ => Ok(Transition::Move { from, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::ProgressStatus::*;
    use super::*;

    #[test]
    fn allowed_moves() {
        for (from, to) in [
            (NotStarted, InProgress),
            (NotStarted, Implemented),
            (InProgress, Implemented),
            (InProgress, NotStarted),
            (Implemented, NotStarted),
        ] {
            assert_eq!(transition(from, to), Ok(Transition::Move { from, to }));
        }
    }

    #[test]
    fn same_status_is_a_no_op() {
        for s in [NotStarted, InProgress, Implemented] {
            assert_eq!(transition(s, s), Ok(Transition::Unchanged));
        }
    }

    #[test]
    fn implemented_cannot_go_back_to_in_progress() {
        assert_eq!(
            transition(Implemented, InProgress),
            Err(RuleError::InvalidTransition {
                from: Implemented,
                to: InProgress
            })
        );
    }

    #[test]
    fn stored_values_round_trip() {
        for s in [NotStarted, InProgress, Implemented] {
            assert_eq!(ProgressStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ProgressStatus::parse("DONE"), None);
    }
}
