//! A condition of a badge's rule in the reader's words, from the progress the evaluator computed:
//! "Hours saved per week: 8 of 10", "Heures économisées par semaine : 8 sur 10".

use super::{ConditionProgress, Field, Operator};
use crate::domain::messages::{self, Message};
use crate::domain::reports::Lang;

impl Field {
    /// The name criteria JSON uses (`hours_saved_weekly`).
    pub fn name(self) -> &'static str {
        match self {
            Self::OpportunitiesTotal => "opportunities_total",
            Self::OpportunitiesStarted => "opportunities_started",
            Self::OpportunitiesInProgress => "opportunities_in_progress",
            Self::OpportunitiesImplemented => "opportunities_implemented",
            Self::OpportunitiesCompleted => "opportunities_completed",
            Self::HoursSavedWeekly => "hours_saved_weekly",
            Self::HoursSavedAnnual => "hours_saved_annual",
            Self::FirstImplementationDays => "first_implementation_days",
            Self::ConsecutiveActiveDays => "consecutive_active_days",
        }
    }
}

impl Operator {
    /// As criteria JSON writes it (`>=`).
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Gte => ">=",
            Self::Gt => ">",
            Self::Lte => "<=",
            Self::Lt => "<",
            Self::Eq => "==",
            Self::Ne => "!=",
        }
    }

    /// The selector the messages choose their wording by.
    fn word(self) -> &'static str {
        match self {
            Self::Gte => "gte",
            Self::Gt => "gt",
            Self::Lte => "lte",
            Self::Lt => "lt",
            Self::Eq => "eq",
            Self::Ne => "ne",
        }
    }
}

/// The condition in `lang`: its fact's name, the language's colon, where it stands against the
/// target.
pub fn label(p: &ConditionProgress, lang: Lang) -> String {
    let field = messages::text(lang, &format!("condition-field-{}", p.field.name()));
    let colon = messages::text(lang, "report-colon");
    let standing = match (p.actual, p.target) {
        (Some(current), Some(target)) => Message::new("condition-value")
            .text("op", p.operator.word())
            .hours("current", current)
            .hours("target", target),
        (None, Some(target)) => Message::new("condition-none-yet")
            .text("op", p.operator.word())
            .hours("target", target),
        (_, None) => Message::new("condition-no-target"),
    };
    format!("{field}{colon} {}", standing.render(lang))
}
