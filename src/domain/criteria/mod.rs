//! The generic badge rule engine: unlock criteria are JSON conditions `{field, operator, value}`
//! over a fixed set of facts about an analysis. A new badge is a new row of data, not new code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::analysis::Opportunity;
use super::metrics::{progress_summary, time_saved};
use super::streak::{current_streak, ActivitySummary};
use super::zone::TimeZone;

/// A fact the criteria can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    OpportunitiesTotal,
    /// IN_PROGRESS or IMPLEMENTED.
    OpportunitiesStarted,
    OpportunitiesInProgress,
    OpportunitiesImplemented,
    /// Alias kept from the original specification: the same as `opportunities_implemented`.
    OpportunitiesCompleted,
    HoursSavedWeekly,
    HoursSavedAnnual,
    /// Days from the analysis' creation to its first implementation; absent until one happens.
    FirstImplementationDays,
    /// Consecutive UTC days with activity, ending today (or yesterday).
    ConsecutiveActiveDays,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::OpportunitiesTotal,
        Field::OpportunitiesStarted,
        Field::OpportunitiesInProgress,
        Field::OpportunitiesImplemented,
        Field::OpportunitiesCompleted,
        Field::HoursSavedWeekly,
        Field::HoursSavedAnnual,
        Field::FirstImplementationDays,
        Field::ConsecutiveActiveDays,
    ];
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    #[serde(rename = ">=")]
    Gte,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Lte,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

/// The word `"all"`: as many as the analysis has opportunities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllWord {
    #[serde(rename = "all")]
    All,
}

/// What a fact is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Threshold {
    Number(f64),
    All(AllWord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: Field,
    pub operator: Operator,
    pub value: Threshold,
}

/// Whether every condition must hold, or any one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    #[default]
    All,
    Any,
}

/// A badge's unlock criteria as stored in `badge_metadata.unlock_criteria`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockCriteria {
    /// A label for people reading the catalog (`progress_milestone`, `streak`, ...); rules ignore it.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "match", default, skip_serializing_if = "is_default")]
    pub combine: Combine,
    pub conditions: Vec<Condition>,
}

fn is_default(c: &Combine) -> bool {
    *c == Combine::All
}

impl UnlockCriteria {
    /// Parses and checks criteria JSON; the error names what is wrong.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let criteria: Self = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        if criteria.conditions.is_empty() {
            return Err("unlock criteria need at least one condition".into());
        }
        Ok(criteria)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("criteria serialise")
    }
}

/// Everything the criteria can test, computed for one analysis at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub opportunities_total: i64,
    pub opportunities_started: i64,
    pub opportunities_in_progress: i64,
    pub opportunities_implemented: i64,
    pub hours_saved_weekly: f64,
    pub hours_saved_annual: i64,
    pub first_implementation_days: Option<f64>,
    pub consecutive_active_days: i64,
    /// Not a criteria field: lets milestones say how long a time window has left.
    pub days_since_analysis: f64,
}

impl Facts {
    pub fn compute(
        analysis_created_at: DateTime<Utc>,
        zone: TimeZone,
        opportunities: &[Opportunity],
        activity: &ActivitySummary,
        now: DateTime<Utc>,
    ) -> Self {
        let summary = progress_summary(opportunities);
        let time = time_saved(opportunities);
        Self {
            opportunities_total: summary.total.into(),
            opportunities_started: (summary.in_progress + summary.implemented).into(),
            opportunities_in_progress: summary.in_progress.into(),
            opportunities_implemented: summary.implemented.into(),
            hours_saved_weekly: time.implemented_weekly,
            hours_saved_annual: time.implemented_annual,
            first_implementation_days: activity
                .first_implemented_at
                .map(|at| zone.days_between(analysis_created_at, at)),
            consecutive_active_days: current_streak(&activity.days, zone.day_of(now)).into(),
            days_since_analysis: zone.days_between(analysis_created_at, now),
        }
    }

    /// The fields that read differently in `after`. `"all"` thresholds read the total, which
    /// is a field of its own.
    pub fn changed(&self, after: &Facts) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|f| self.get(*f) != after.get(*f))
            .collect()
    }

    pub fn get(&self, field: Field) -> Option<f64> {
        Some(match field {
            Field::OpportunitiesTotal => self.opportunities_total as f64,
            Field::OpportunitiesStarted => self.opportunities_started as f64,
            Field::OpportunitiesInProgress => self.opportunities_in_progress as f64,
            Field::OpportunitiesImplemented | Field::OpportunitiesCompleted => {
                self.opportunities_implemented as f64
            }
            Field::HoursSavedWeekly => self.hours_saved_weekly,
            Field::HoursSavedAnnual => self.hours_saved_annual as f64,
            Field::FirstImplementationDays => return self.first_implementation_days,
            Field::ConsecutiveActiveDays => self.consecutive_active_days as f64,
        })
    }

    /// The threshold as a number; `"all"` needs at least one opportunity to mean anything.
    fn target(&self, threshold: Threshold) -> Option<f64> {
        match threshold {
            Threshold::Number(n) => Some(n),
            Threshold::All(_) if self.opportunities_total > 0 => {
                Some(self.opportunities_total as f64)
            }
            Threshold::All(_) => None,
        }
    }
}

impl Operator {
    fn holds(self, actual: f64, target: f64) -> bool {
        const EPS: f64 = 1e-9;
        match self {
            Self::Gte => actual >= target - EPS,
            Self::Gt => actual > target + EPS,
            Self::Lte => actual <= target + EPS,
            Self::Lt => actual < target - EPS,
            Self::Eq => (actual - target).abs() <= EPS,
            Self::Ne => (actual - target).abs() > EPS,
        }
    }
}

/// How far one condition is from holding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionProgress {
    pub field: Field,
    pub operator: Operator,
    pub target: Option<f64>,
    pub actual: Option<f64>,
    pub met: bool,
    /// 0.0..=1.0
    #[serde(skip)]
    pub fraction: f64,
}

impl Condition {
    pub fn progress(&self, facts: &Facts) -> ConditionProgress {
        let actual = facts.get(self.field);
        let target = facts.target(self.value);
        let met = matches!((actual, target), (Some(a), Some(t)) if self.operator.holds(a, t));
        let fraction = match (met, self.operator, actual, target) {
            (true, ..) => 1.0,
            // Counting up towards a target: partial credit, never a full bar while unmet.
            (false, Operator::Gte | Operator::Gt | Operator::Eq, Some(a), Some(t)) if t > 0.0 => {
                (a / t).clamp(0.0, 0.99)
            }
            _ => 0.0,
        };
        ConditionProgress {
            field: self.field,
            operator: self.operator,
            target,
            actual,
            met,
            fraction,
        }
    }
}

impl UnlockCriteria {
    /// Whether a condition reads one of `fields` (an `"all"` threshold reads the total too).
    pub fn reads_any(&self, fields: &[Field]) -> bool {
        self.conditions.iter().any(|c| {
            fields.contains(&c.field)
                || (matches!(c.value, Threshold::All(_))
                    && fields.contains(&Field::OpportunitiesTotal))
        })
    }

    pub fn is_met(&self, facts: &Facts) -> bool {
        let mut results = self.conditions.iter().map(|c| c.progress(facts).met);
        match self.combine {
            Combine::All => results.all(|m| m),
            Combine::Any => results.any(|m| m),
        }
    }
}

mod label;
pub use label::label;

#[cfg(test)]
mod label_tests;
#[cfg(test)]
pub(crate) mod tests;
