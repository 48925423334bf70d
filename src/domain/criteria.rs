//! The generic badge rule engine: unlock criteria are JSON conditions `{field, operator, value}`
//! over a fixed set of facts about an analysis. A new badge is a new row of data, not new code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::analysis::Opportunity;
use super::metrics::{progress_summary, time_saved};
use super::streak::{current_streak, ActivitySummary};

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

fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

impl Facts {
    pub fn compute(
        analysis_created_at: DateTime<Utc>,
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
                .map(|at| days_between(analysis_created_at, at)),
            consecutive_active_days: current_streak(&activity.days, now.date_naive()).into(),
            days_since_analysis: days_between(analysis_created_at, now),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::metrics::tests::opp;
    use crate::domain::status::ProgressStatus::*;
    use chrono::TimeZone;
    use serde_json::json;

    pub(crate) fn facts() -> Facts {
        Facts {
            opportunities_total: 3,
            opportunities_started: 0,
            opportunities_in_progress: 0,
            opportunities_implemented: 0,
            hours_saved_weekly: 0.0,
            hours_saved_annual: 0,
            first_implementation_days: None,
            consecutive_active_days: 0,
            days_since_analysis: 0.0,
        }
    }

    fn criteria(v: serde_json::Value) -> UnlockCriteria {
        UnlockCriteria::from_json(&v).unwrap()
    }

    #[test]
    fn parses_the_specification_format() {
        let c = criteria(json!({"type": "completion", "conditions": [
            {"field": "opportunities_completed", "operator": "==", "value": "all"}]}));
        assert_eq!(c.conditions[0].value, Threshold::All(AllWord::All));
        assert_eq!(UnlockCriteria::from_json(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn rejects_unknown_fields_operators_and_empty_rules() {
        for bad in [
            json!({"type": "x", "conditions": [{"field": "karma", "operator": ">=", "value": 1}]}),
            json!({"type": "x", "conditions": [{"field": "hours_saved_weekly", "operator": "~", "value": 1}]}),
            json!({"type": "x", "conditions": [{"field": "hours_saved_weekly", "operator": ">=", "value": "many"}]}),
            json!({"type": "x", "conditions": []}),
            json!({"type": "x", "conditions": [], "extra": 1}),
        ] {
            assert!(UnlockCriteria::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn operators_compare_as_written() {
        let mut f = facts();
        f.hours_saved_weekly = 10.0;
        let check = |op: &str, v: f64| {
            criteria(json!({"type": "t", "conditions": [
                {"field": "hours_saved_weekly", "operator": op, "value": v}]}))
            .is_met(&f)
        };
        assert!(check(">=", 10.0) && !check(">=", 10.5));
        assert!(check(">", 9.9) && !check(">", 10.0));
        assert!(check("<=", 10.0) && !check("<=", 9.0));
        assert!(check("<", 11.0) && !check("<", 10.0));
        assert!(check("==", 10.0) && !check("==", 3.0));
        assert!(check("!=", 3.0) && !check("!=", 10.0));
    }

    #[test]
    fn all_means_every_opportunity_and_needs_some() {
        let c = criteria(json!({"type": "completion", "conditions": [
            {"field": "opportunities_implemented", "operator": "==", "value": "all"}]}));
        let mut f = facts();
        f.opportunities_implemented = 2;
        assert!(!c.is_met(&f));
        f.opportunities_implemented = 3;
        assert!(c.is_met(&f));
        f.opportunities_total = 0;
        f.opportunities_implemented = 0;
        assert!(!c.is_met(&f));
    }

    #[test]
    fn absent_fact_never_matches() {
        let c = criteria(json!({"type": "time_based", "conditions": [
            {"field": "first_implementation_days", "operator": "<=", "value": 7}]}));
        assert!(!c.is_met(&facts()));
    }

    #[test]
    fn any_and_all_combine() {
        let both = json!([
            {"field": "opportunities_started", "operator": ">=", "value": 1},
            {"field": "hours_saved_weekly", "operator": ">=", "value": 10}]);
        let mut f = facts();
        f.opportunities_started = 1;
        assert!(!criteria(json!({"type": "t", "conditions": both})).is_met(&f));
        assert!(criteria(json!({"type": "t", "match": "any", "conditions": both})).is_met(&f));
    }

    #[test]
    fn facts_from_opportunities_and_activity() {
        let created = Utc.with_ymd_and_hms(2026, 1, 28, 12, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 2, 3, 8, 0, 0).unwrap();
        let opps = vec![
            opp("a", 5.0, 260, 7, Implemented),
            opp("b", 8.0, 416, 5, InProgress),
            opp("c", 2.0, 104, 3, NotStarted),
        ];
        let activity = ActivitySummary {
            days: (0..7)
                .map(|i| created.date_naive() + chrono::Days::new(i))
                .collect(),
            first_implemented_at: Some(created + chrono::Duration::days(6)),
        };
        let f = Facts::compute(created, &opps, &activity, now);
        assert_eq!(f.opportunities_started, 2);
        assert_eq!(f.opportunities_implemented, 1);
        assert_eq!(f.hours_saved_weekly, 5.0);
        assert_eq!(f.first_implementation_days, Some(6.0));
        assert_eq!(f.consecutive_active_days, 7);
    }

    #[test]
    fn a_change_names_the_facts_it_moved_and_the_criteria_that_read_them() {
        let before = facts();
        let mut after = facts();
        after.opportunities_in_progress += 1;
        after.opportunities_started += 1;
        after.days_since_analysis += 1.0; // not a criteria field
        assert_eq!(
            before.changed(&after),
            [Field::OpportunitiesStarted, Field::OpportunitiesInProgress]
        );
        let started = criteria(json!({"type": "t", "conditions": [
            {"field": "opportunities_started", "operator": ">=", "value": 1}]}));
        let hours = criteria(json!({"type": "t", "conditions": [
            {"field": "hours_saved_weekly", "operator": ">=", "value": 10}]}));
        let all = criteria(json!({"type": "t", "conditions": [
            {"field": "opportunities_implemented", "operator": "==", "value": "all"}]}));
        let moved = before.changed(&after);
        assert!(started.reads_any(&moved));
        assert!(!hours.reads_any(&moved));
        assert!(!all.reads_any(&moved));
        assert!(
            all.reads_any(&[Field::OpportunitiesTotal]),
            "\"all\" reads the total"
        );
    }
}
