//! Time and money saved, and the progress summary: derived on every read, never stored as truth.

use serde::{Deserialize, Serialize};

use super::analysis::Opportunity;
use super::status::ProgressStatus;

/// Hours saved, potential (every opportunity) and implemented (IMPLEMENTED ones only).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeSaved {
    pub potential_weekly: f64,
    pub implemented_weekly: f64,
    pub potential_annual: i64,
    pub implemented_annual: i64,
}

/// Money saved per year at the analysis' hourly rate; amounts are `None` while no rate is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoneySaved {
    pub hourly_rate: Option<f64>,
    pub potential_annual: Option<i64>,
    pub implemented_annual: Option<i64>,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub time_saved: TimeSaved,
    pub money_saved: MoneySaved,
}

/// Counts per status and the completion percentage (implemented / total, rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProgressSummary {
    pub total: i32,
    pub not_started: i32,
    pub in_progress: i32,
    pub implemented: i32,
    pub completion_percentage: i32,
}

/// Rounds to hundredths so that sums of floats read as people wrote them (0.1 + 0.2 = 0.3).
/// Never a negative zero: an empty sum of floats is -0.0, which reads "-0" in a report and
/// "-0.0" in JSON (`+ 0.0` turns it into 0.0 and leaves every other value as it is).
pub fn hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0 + 0.0
}

pub fn time_saved(opportunities: &[Opportunity]) -> TimeSaved {
    let implemented = || {
        opportunities
            .iter()
            .filter(|o| o.status == ProgressStatus::Implemented)
    };
    TimeSaved {
        potential_weekly: hundredths(opportunities.iter().map(|o| o.hours_per_week).sum()),
        implemented_weekly: hundredths(implemented().map(|o| o.hours_per_week).sum()),
        potential_annual: opportunities
            .iter()
            .map(|o| i64::from(o.hours_per_year))
            .sum(),
        implemented_annual: implemented().map(|o| i64::from(o.hours_per_year)).sum(),
    }
}

pub fn metrics(opportunities: &[Opportunity], hourly_rate: Option<f64>, currency: &str) -> Metrics {
    let time_saved = time_saved(opportunities);
    let money = |hours: i64| hourly_rate.map(|rate| (rate * hours as f64).round() as i64);
    Metrics {
        money_saved: MoneySaved {
            hourly_rate,
            potential_annual: money(time_saved.potential_annual),
            implemented_annual: money(time_saved.implemented_annual),
            currency: currency.to_owned(),
        },
        time_saved,
    }
}

pub fn progress_summary(opportunities: &[Opportunity]) -> ProgressSummary {
    let mut summary = ProgressSummary::default();
    for o in opportunities {
        summary.total += 1;
        match o.status {
            ProgressStatus::NotStarted => summary.not_started += 1,
            ProgressStatus::InProgress => summary.in_progress += 1,
            ProgressStatus::Implemented => summary.implemented += 1,
        }
    }
    if summary.total > 0 {
        summary.completion_percentage = summary.implemented * 100 / summary.total;
    }
    summary
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::analysis::Category;
    use uuid::Uuid;

    /// An opportunity for tests: hours per week and year, complexity, status.
    pub(crate) fn opp(
        id: &str,
        week: f64,
        year: i32,
        complexity: i16,
        status: ProgressStatus,
    ) -> Opportunity {
        Opportunity {
            id: Uuid::new_v4(),
            analysis_id: Uuid::nil().into(),
            opportunity_id: id.into(),
            category: Category::DigitalPresence,
            hours_per_week: week,
            hours_per_year: year,
            problem_teaser: None,
            complexity_level: complexity,
            tools_hint: None,
            status,
            implemented_at: None,
        }
    }

    /// The product brief's worked example.
    fn example() -> Vec<Opportunity> {
        vec![
            opp("digital_presence", 5.0, 260, 7, ProgressStatus::Implemented),
            opp("value_creation", 8.0, 416, 5, ProgressStatus::NotStarted),
            opp(
                "business_management",
                2.0,
                104,
                3,
                ProgressStatus::InProgress,
            ),
        ]
    }

    #[test]
    fn nothing_implemented_is_a_plain_zero() {
        let t = time_saved(&[]);
        assert!(t.implemented_weekly.is_sign_positive() && t.potential_weekly.is_sign_positive());
        assert_eq!(hundredths(-0.0).to_string(), "0");
        assert_eq!(hundredths(0.1 + 0.2), 0.3);
    }

    #[test]
    fn brief_example_with_rate() {
        let m = metrics(&example(), Some(50.0), "CAD");
        assert_eq!(
            m.time_saved,
            TimeSaved {
                potential_weekly: 15.0,
                implemented_weekly: 5.0,
                potential_annual: 780,
                implemented_annual: 260
            }
        );
        assert_eq!(m.money_saved.potential_annual, Some(39000));
        assert_eq!(m.money_saved.implemented_annual, Some(13000));
        assert_eq!(m.money_saved.currency, "CAD");
    }

    #[test]
    fn money_is_null_without_rate() {
        let m = metrics(&example(), None, "CAD");
        assert_eq!(m.money_saved.hourly_rate, None);
        assert_eq!(m.money_saved.potential_annual, None);
        assert_eq!(m.money_saved.implemented_annual, None);
    }

    #[test]
    fn float_sums_read_cleanly() {
        let opps = vec![
            opp("a", 0.1, 5, 1, ProgressStatus::Implemented),
            opp("b", 0.2, 10, 1, ProgressStatus::Implemented),
        ];
        assert_eq!(time_saved(&opps).implemented_weekly, 0.3);
    }

    #[test]
    fn summary_rounds_down() {
        let s = progress_summary(&example());
        assert_eq!(
            s,
            ProgressSummary {
                total: 3,
                not_started: 1,
                in_progress: 1,
                implemented: 1,
                completion_percentage: 33
            }
        );
        assert_eq!(progress_summary(&[]).completion_percentage, 0);
    }
}
