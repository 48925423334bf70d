//! Progress towards each badge, derived from the same criteria that unlock it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::ids::BadgeId;
use super::messages::Message;

use super::badge::BadgeDefinition;
use super::criteria::{Combine, ConditionProgress, Facts, Field, Operator, Threshold};
use super::zone::TimeZone;

/// One badge as an analysis sees it: earned or not, and how far along.
#[derive(Debug, Clone, PartialEq)]
pub struct Achievement<'a> {
    pub badge: &'a BadgeDefinition,
    pub unlocked: bool,
    /// 0..=100; 100 only once unlocked.
    pub progress_percentage: i32,
    /// What to do next, in words; `None` once unlocked.
    pub next_milestone: Option<Message>,
    /// Per-condition detail, as stored in `achievement_progress.details`.
    pub details: Vec<ConditionProgress>,
}

/// At least 1, rounded up: what is left, counted.
fn left(n: f64) -> f64 {
    n.ceil().max(1.0)
}

/// The next step for one unmet condition, e.g. "Implement 2 more opportunities", in words the
/// reader's language gives it.
fn milestone(p: &ConditionProgress, facts: &Facts) -> Message {
    let actual = p.actual.unwrap_or(0.0);
    let Some(target) = p.target else {
        return Message::new("milestone-record");
    };
    let missing = target - actual + if p.operator == Operator::Gt { 1.0 } else { 0.0 };
    let more = |id| Message::new(id).number("count", left(missing));
    match (p.field, p.operator) {
        (Field::FirstImplementationDays, Operator::Lte | Operator::Lt) => {
            let days = (target - facts.days_since_analysis).ceil();
            if p.actual.is_some() || days <= 0.0 {
                Message::new("milestone-window-passed").number("target", target)
            } else {
                Message::new("milestone-within").number("count", left(days))
            }
        }
        (Field::FirstImplementationDays, _) => {
            Message::new("milestone-after").number("target", target)
        }
        (Field::OpportunitiesStarted, _) => more("milestone-start"),
        (Field::OpportunitiesInProgress, _) => more("milestone-in-progress"),
        (Field::OpportunitiesImplemented | Field::OpportunitiesCompleted, _) => {
            more("milestone-implement")
        }
        (Field::HoursSavedWeekly, _) => {
            Message::new("milestone-hours-weekly").decimal("hours", missing.max(0.1), 1)
        }
        (Field::HoursSavedAnnual, _) => more("milestone-hours-annual"),
        (Field::ConsecutiveActiveDays, _) => more("milestone-days"),
        (Field::OpportunitiesTotal, _) => {
            Message::new("milestone-total").number("count", left(target))
        }
    }
}

/// Progress towards one badge.
pub fn achievement<'a>(
    badge: &'a BadgeDefinition,
    unlocked: bool,
    facts: &Facts,
) -> Achievement<'a> {
    let details: Vec<_> = badge
        .criteria
        .conditions
        .iter()
        .map(|c| c.progress(facts))
        .collect();
    if unlocked {
        return Achievement {
            badge,
            unlocked,
            progress_percentage: 100,
            next_milestone: None,
            details,
        };
    }
    let fraction = match badge.criteria.combine {
        Combine::All => {
            details.iter().map(|d| d.fraction).sum::<f64>() / details.len().max(1) as f64
        }
        Combine::Any => details.iter().map(|d| d.fraction).fold(0.0, f64::max),
    };
    let met = badge.criteria.is_met(facts);
    // Locked but met happens only until the next change awards it; never show a full bar before.
    let percentage = ((fraction * 100.0).floor() as i32).clamp(0, if met { 100 } else { 99 });
    let next_milestone = details.iter().find(|d| !d.met).map(|d| milestone(d, facts));
    Achievement {
        badge,
        unlocked,
        progress_percentage: percentage,
        next_milestone,
        details,
    }
}

/// Every badge of the catalog, in catalog order.
pub fn achievements<'a>(
    catalog: &'a [BadgeDefinition],
    earned: &HashSet<BadgeId>,
    facts: &Facts,
) -> Vec<Achievement<'a>> {
    catalog
        .iter()
        .map(|b| achievement(b, earned.contains(&b.id), facts))
        .collect()
}

/// The first instant after `now` at which these achievements may read differently although
/// nothing stored has changed: the next local midnight (streaks count local days), or the moment a
/// first-implementation window's "within N days" counts down or closes. An answer computed at
/// `now` holds until then.
pub fn stable_until(
    catalog: &[BadgeDefinition],
    facts: &Facts,
    created_at: DateTime<Utc>,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let midnight = zone.next_midnight(now);
    if facts.first_implementation_days.is_some() {
        return midnight;
    }
    let windows = catalog
        .iter()
        .flat_map(|b| &b.criteria.conditions)
        .filter(|c| {
            c.field == Field::FirstImplementationDays
                && matches!(c.operator, Operator::Lte | Operator::Lt)
        });
    let mut until = midnight;
    for c in windows {
        let Threshold::Number(target) = c.value else {
            continue;
        };
        let left = (target - facts.days_since_analysis).ceil();
        if left <= 0.0 {
            continue;
        }
        // `left` drops by one when the days since the analysis reach `target - left + 1`;
        // rounded down to the millisecond, so never later than that moment.
        let at_days = target - left + 1.0;
        let at = zone.days_after(created_at, at_days);
        until = until.min(at);
    }
    until
}

/// The badges whose criteria now hold and that the analysis has not earned yet.
pub fn newly_earned<'a>(
    catalog: &'a [BadgeDefinition],
    earned: &HashSet<BadgeId>,
    facts: &Facts,
) -> Vec<&'a BadgeDefinition> {
    catalog
        .iter()
        .filter(|b| b.active && !earned.contains(&b.id) && b.criteria.is_met(facts))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::reports::Lang;

    /// A milestone as an English reader reads it.
    fn words(m: &Option<Message>) -> Option<String> {
        m.as_ref().map(|m| m.render(Lang::En))
    }
    use crate::domain::badge::{BadgeCategory, Rarity};
    use crate::domain::criteria::tests::facts;
    use crate::domain::criteria::UnlockCriteria;
    use serde_json::json;

    pub(crate) fn badge(criteria: serde_json::Value) -> BadgeDefinition {
        BadgeDefinition {
            id: BadgeId::random(),
            slug: "b".into(),
            name: "B".into(),
            description: String::new(),
            icon: None,
            rarity: Rarity::Common,
            points: 1,
            category: BadgeCategory::Progress,
            criteria: UnlockCriteria::from_json(&criteria).unwrap(),
            display_order: 0,
            active: true,
            version: 1,
            translations: Default::default(),
        }
    }

    #[test]
    fn counts_towards_all_opportunities() {
        let b = badge(json!({"type": "completion", "conditions": [
            {"field": "opportunities_completed", "operator": "==", "value": "all"}]}));
        let mut f = facts();
        f.opportunities_implemented = 1;
        let a = achievement(&b, false, &f);
        assert_eq!(a.progress_percentage, 33);
        assert_eq!(
            words(&a.next_milestone).as_deref(),
            Some("Implement 2 more opportunities")
        );
        f.opportunities_implemented = 2;
        assert_eq!(
            words(&achievement(&b, false, &f).next_milestone).as_deref(),
            Some("Implement 1 more opportunity")
        );
    }

    #[test]
    fn unlocked_is_full_and_silent() {
        let b = badge(json!({"type": "t", "conditions": [
            {"field": "opportunities_started", "operator": ">=", "value": 1}]}));
        let a = achievement(&b, true, &facts());
        assert_eq!((a.progress_percentage, a.next_milestone), (100, None));
    }

    #[test]
    fn hours_and_streak_wording() {
        let hours = badge(json!({"type": "t", "conditions": [
            {"field": "hours_saved_weekly", "operator": ">=", "value": 10}]}));
        let streak = badge(json!({"type": "t", "conditions": [
            {"field": "consecutive_active_days", "operator": ">=", "value": 7}]}));
        let mut f = facts();
        f.hours_saved_weekly = 7.0;
        f.consecutive_active_days = 6;
        let a = achievement(&hours, false, &f);
        assert_eq!(a.progress_percentage, 70);
        assert_eq!(
            words(&a.next_milestone).as_deref(),
            Some("Save 3.0 more hours per week")
        );
        let a = achievement(&streak, false, &f);
        assert_eq!(a.progress_percentage, 85);
        assert_eq!(
            words(&a.next_milestone).as_deref(),
            Some("Make progress on 1 more day in a row")
        );
    }

    #[test]
    fn time_window_counts_down_then_closes() {
        let b = badge(json!({"type": "time_based", "conditions": [
            {"field": "first_implementation_days", "operator": "<=", "value": 7}]}));
        let mut f = facts();
        f.days_since_analysis = 2.5;
        let a = achievement(&b, false, &f);
        assert_eq!(a.progress_percentage, 0);
        assert_eq!(
            words(&a.next_milestone).as_deref(),
            Some("Implement an opportunity within 5 days")
        );
        f.days_since_analysis = 9.0;
        assert!(achievement(&b, false, &f)
            .next_milestone
            .unwrap()
            .render(Lang::En)
            .contains("has passed"));
    }

    #[test]
    fn newly_earned_skips_earned_and_inactive() {
        let mut a = badge(json!({"type": "t", "conditions": [
            {"field": "opportunities_total", "operator": ">=", "value": 1}]}));
        let b = a.clone();
        let mut c = a.clone();
        a.id = BadgeId::random();
        c.id = BadgeId::random();
        c.active = false;
        let catalog = vec![a.clone(), b.clone(), c];
        let earned = HashSet::from([b.id]);
        let new = newly_earned(&catalog, &earned, &facts());
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].id, a.id);
    }

    /// An analysis made at `created`, active on its first two days, with nothing implemented,
    /// as seen at `now`.
    fn facts_at(created: DateTime<Utc>, now: DateTime<Utc>) -> Facts {
        let first = created.date_naive();
        let activity = crate::domain::streak::ActivitySummary {
            days: vec![first, first.succ_opt().unwrap()],
            first_implemented_at: None,
        };
        Facts::compute(
            created,
            crate::domain::zone::TimeZone::default(),
            &[],
            &activity,
            now,
        )
    }

    fn said_at(
        catalog: &[BadgeDefinition],
        created: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<(i32, Option<String>)> {
        achievements(catalog, &HashSet::new(), &facts_at(created, now))
            .into_iter()
            .map(|a| (a.progress_percentage, words(&a.next_milestone)))
            .collect()
    }

    #[test]
    fn an_answer_holds_until_stable_until_and_no_longer() {
        use chrono::TimeZone;
        let window = badge(json!({"type": "t", "conditions": [
            {"field": "first_implementation_days", "operator": "<=", "value": 7}]}));
        let streak = badge(json!({"type": "t", "conditions": [
            {"field": "consecutive_active_days", "operator": ">=", "value": 7}]}));
        let catalog = vec![window, streak];
        let created = Utc.with_ymd_and_hms(2026, 3, 1, 15, 30, 0).unwrap();
        let mut now = created + chrono::Duration::minutes(1);
        let end = created + chrono::Duration::days(9);
        let mut changes = 0;
        while now < end {
            let until = stable_until(
                &catalog,
                &facts_at(created, now),
                created,
                crate::domain::zone::TimeZone::default(),
                now,
            );
            assert!(until > now, "{now}");
            let answer = said_at(&catalog, created, now);
            for step in [1, 60_000, 3_600_000] {
                let t = now + chrono::Duration::milliseconds(step);
                if t < until {
                    assert_eq!(said_at(&catalog, created, t), answer, "{now} → {t}");
                }
            }
            let last = until - chrono::Duration::milliseconds(1);
            assert_eq!(said_at(&catalog, created, last), answer, "until {until}");
            if said_at(&catalog, created, until) != answer {
                changes += 1;
            }
            now = until;
        }
        // the window counts down from 7 days to closed, and the streak ends once
        assert!(changes >= 8, "{changes}");
    }
}
