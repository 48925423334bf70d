//! Pure product rules: no I/O, no HTTP or GraphQL types. Everything here is computed from plain data
//! and an explicit `now`, so it is unit-tested without a database.

pub mod access;
pub mod achievements;
pub mod analysis;
pub mod badge;
pub mod criteria;
pub mod dashboard;
pub mod history;
pub mod ids;
pub mod lang;
pub mod messages;
pub mod metrics;
pub mod period;
pub mod persisted;
pub mod recommendations;
pub mod reports;
pub mod status;
pub mod streak;
pub mod text;
pub mod values;
pub mod zone;

use thiserror::Error;

/// A rule a caller broke; each maps to a stable error code at the edge.
#[derive(Debug, Error, PartialEq)]
pub enum RuleError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("cannot move an opportunity from {from} to {to}")]
    InvalidTransition {
        from: status::ProgressStatus,
        to: status::ProgressStatus,
    },
}
