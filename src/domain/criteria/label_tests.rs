//! Conditions in words, and the property that what is shown and what unlocks cannot disagree.

use std::collections::HashSet;

use super::tests::facts;
use super::*;
use crate::domain::achievements::{achievement, newly_earned, tests::badge};
use crate::domain::reports::Lang;
use serde_json::json;

fn one(field: &str, operator: &str, value: serde_json::Value, facts: &Facts) -> ConditionProgress {
    let c: Condition =
        serde_json::from_value(json!({"field": field, "operator": operator, "value": value}))
            .unwrap();
    c.progress(facts)
}

#[test]
fn labels_read_as_each_language_writes() {
    let mut f = facts();
    f.hours_saved_weekly = 8.0;
    let p = one("hours_saved_weekly", ">=", json!(10), &f);
    assert_eq!(label(&p, Lang::En), "Hours saved per week: 8 of 10");
    assert_eq!(
        label(&p, Lang::Fr),
        "Heures économisées par semaine\u{a0}: 8 sur 10"
    );
    f.hours_saved_weekly = 8.5;
    let p = one("hours_saved_weekly", ">=", json!(10), &f);
    assert_eq!(
        label(&p, Lang::Fr),
        "Heures économisées par semaine\u{a0}: 8,5 sur 10"
    );
    let p = one("first_implementation_days", "<=", json!(7), &f);
    assert_eq!(
        label(&p, Lang::En),
        "Days to the first implementation: none yet (at most 7)"
    );
    f.opportunities_implemented = 2;
    let p = one("opportunities_completed", "==", json!("all"), &f);
    assert_eq!(
        label(&p, Lang::En),
        "Opportunities implemented: 2 (exactly 3)"
    );
    f.opportunities_total = 0;
    let p = one("opportunities_completed", "==", json!("all"), &f);
    assert_eq!(
        label(&p, Lang::Fr),
        "Opportunités mises en œuvre\u{a0}: aucune opportunité à compter pour l'instant"
    );
}

/// The names the labels and the API give are the ones the rules are written with.
#[test]
fn names_are_the_rules_own() {
    for field in Field::ALL {
        assert_eq!(serde_json::to_value(field).unwrap(), json!(field.name()));
    }
    for op in [
        Operator::Gte,
        Operator::Gt,
        Operator::Lte,
        Operator::Lt,
        Operator::Eq,
        Operator::Ne,
    ] {
        assert_eq!(serde_json::to_value(op).unwrap(), json!(op.symbol()));
    }
}

/// A small deterministic generator (xorshift): the same cases on every run.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }
}

fn random_facts(r: &mut Cases) -> Facts {
    let total = r.below(6) as i64;
    let implemented = r.below(total as u64 + 1) as i64;
    let in_progress = r.below((total - implemented) as u64 + 1) as i64;
    Facts {
        opportunities_total: total,
        opportunities_started: implemented + in_progress,
        opportunities_in_progress: in_progress,
        opportunities_implemented: implemented,
        hours_saved_weekly: r.below(41) as f64 / 2.0,
        hours_saved_annual: r.below(2000) as i64,
        first_implementation_days: (r.below(2) == 0).then(|| r.below(300) as f64 / 10.0),
        consecutive_active_days: r.below(40) as i64,
        days_since_analysis: r.below(60) as f64,
    }
}

fn random_criteria(r: &mut Cases) -> serde_json::Value {
    let operators = [">=", ">", "<=", "<", "==", "!="];
    let conditions: Vec<_> = (0..1 + r.below(3))
        .map(|_| {
            let field = r.pick(&Field::ALL).name();
            let value = if r.below(5) == 0 {
                json!("all")
            } else {
                json!(r.below(40) as f64 / 2.0)
            };
            json!({"field": field, "operator": r.pick(&operators), "value": value})
        })
        .collect();
    let combine = r.pick(&["all", "any"]);
    json!({"type": "random", "match": combine, "conditions": conditions})
}

/// Over random catalogs and facts: a badge unlocks exactly when its shown conditions say so (all
/// met, or one, by its rule), its bar is full only then, and every label is written out in both
/// languages with the figures the condition holds.
#[test]
fn shown_conditions_and_unlocking_never_disagree() {
    let mut r = Cases(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2_000 {
        let catalog: Vec<_> = (0..1 + r.below(5))
            .map(|_| badge(random_criteria(&mut r)))
            .collect();
        let facts = random_facts(&mut r);
        let unlocks: HashSet<_> = newly_earned(&catalog, &HashSet::new(), &facts)
            .into_iter()
            .map(|b| b.id)
            .collect();
        for b in &catalog {
            let shown = achievement(b, false, &facts);
            let mut met = shown.details.iter().map(|d| d.met);
            let by_conditions = match b.criteria.combine {
                Combine::All => met.all(|m| m),
                Combine::Any => met.any(|m| m),
            };
            assert_eq!(
                by_conditions,
                unlocks.contains(&b.id),
                "{:?} {facts:?}",
                b.criteria
            );
            assert_eq!(shown.details.len(), b.criteria.conditions.len());
            if !by_conditions {
                assert!(shown.progress_percentage < 100);
            }
            for d in &shown.details {
                for lang in [Lang::En, Lang::Fr] {
                    let words = label(d, lang);
                    assert!(!words.contains("condition-"), "{words}");
                    let field = crate::domain::messages::text(
                        lang,
                        &format!("condition-field-{}", d.field.name()),
                    );
                    assert!(words.starts_with(&field), "{words}");
                    if d.target.is_some() {
                        assert!(words.chars().any(|c| c.is_ascii_digit()), "{words}");
                    }
                }
            }
        }
    }
}
