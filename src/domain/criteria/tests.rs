//! The criteria engine, case by case.

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
    let f = Facts::compute(
        created,
        crate::domain::zone::TimeZone::default(),
        &opps,
        &activity,
        now,
    );
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
