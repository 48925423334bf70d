//! Which NOT_STARTED opportunity to take on next, best first.

use std::cmp::Ordering;

use super::analysis::Opportunity;
use super::messages::Message;
use super::status::ProgressStatus;

/// Complexity at or below which an opportunity counts as a quick win.
const QUICK_WIN_MAX_COMPLEXITY: i16 = 3;
/// Weekly hours at or above which an opportunity counts as high impact.
const HIGH_IMPACT_MIN_HOURS: f64 = 5.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation<'a> {
    pub opportunity: &'a Opportunity,
    pub priority_score: f64,
    pub reason: Message,
}

/// hours per week saved per point of complexity, to two decimals.
pub fn priority_score(o: &Opportunity) -> f64 {
    let complexity = f64::from(o.complexity_level.max(1));
    (o.hours_per_week / complexity * 100.0).round() / 100.0
}

/// Why an opportunity is recommended, as a sentence to write in the reader's language.
fn reason(o: &Opportunity) -> Message {
    let hours = o.hours_per_week;
    let quick = o.complexity_level <= QUICK_WIN_MAX_COMPLEXITY;
    let high = hours >= HIGH_IMPACT_MIN_HOURS;
    let id = match (quick, high) {
        (true, true) => "reason-quick-high",
        (true, false) => "reason-quick",
        (false, true) => "reason-high",
        (false, false) => "reason-steady",
    };
    Message::new(id)
        .number("complexity", f64::from(o.complexity_level))
        .hours("hours", hours)
        .number("count", hours)
}

/// NOT_STARTED opportunities by priority score, highest first; ties go to the lower complexity,
/// then to the opportunity id so the order is stable.
pub fn recommendations(opportunities: &[Opportunity]) -> Vec<Recommendation<'_>> {
    let mut out: Vec<_> = opportunities
        .iter()
        .filter(|o| o.status == ProgressStatus::NotStarted)
        .map(|o| Recommendation {
            opportunity: o,
            priority_score: priority_score(o),
            reason: reason(o),
        })
        .collect();
    out.sort_by(|a, b| {
        b.priority_score
            .partial_cmp(&a.priority_score)
            .unwrap_or(Ordering::Equal)
            .then(
                a.opportunity
                    .complexity_level
                    .cmp(&b.opportunity.complexity_level),
            )
            .then_with(|| {
                a.opportunity
                    .opportunity_id
                    .cmp(&b.opportunity.opportunity_id)
            })
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::metrics::tests::opp;
    use crate::domain::reports::Lang;
    use ProgressStatus::*;

    #[test]
    fn best_score_first_and_only_not_started() {
        let opps = vec![
            opp("digital_presence", 5.0, 260, 7, NotStarted),
            opp("value_creation", 8.0, 416, 5, NotStarted),
            opp("business_management", 2.0, 104, 3, NotStarted),
            opp("done", 40.0, 2000, 1, Implemented),
            opp("started", 40.0, 2000, 1, InProgress),
        ];
        let recs = recommendations(&opps);
        let ids: Vec<_> = recs
            .iter()
            .map(|r| r.opportunity.opportunity_id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["value_creation", "digital_presence", "business_management"]
        );
        assert_eq!(recs[0].priority_score, 1.6);
        assert_eq!(recs[1].priority_score, 0.71);
        let reason = |i: usize, lang| recs[i].reason.render(lang);
        assert!(
            reason(0, Lang::En).starts_with("High impact"),
            "{}",
            reason(0, Lang::En)
        );
        assert!(
            reason(2, Lang::En).starts_with("Quick win"),
            "{}",
            reason(2, Lang::En)
        );
        assert_eq!(
            reason(2, Lang::Fr),
            "Gain rapide : faible complexité (3/10), 2 heures économisées par semaine"
        );
        assert_eq!(
            reason(0, Lang::En),
            "High impact: saves 8 hours per week at complexity 5/10"
        );
    }

    #[test]
    fn ties_go_to_lower_complexity() {
        let opps = vec![
            opp("hard", 8.0, 400, 8, NotStarted),
            opp("easy", 2.0, 100, 2, NotStarted),
        ];
        let recs = recommendations(&opps);
        assert_eq!(recs[0].priority_score, recs[1].priority_score);
        assert_eq!(recs[0].opportunity.opportunity_id, "easy");
    }
}
