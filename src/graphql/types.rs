//! Output types of the public contract. Each wraps domain data and derives its fields on demand.

use async_graphql::{Enum, Json, SimpleObject, ID};
use chrono::{DateTime, Utc};

use crate::domain::reports::Lang;
use crate::domain::{self, criteria, metrics};

/// The area of the business an opportunity improves.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::analysis::Category")]
pub enum OpportunityCategory {
    DigitalPresence,
    ValueCreation,
    BusinessManagement,
}

/// Where an opportunity stands. IMPLEMENTED → IN_PROGRESS is refused; undo goes to NOT_STARTED.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::status::ProgressStatus")]
pub enum ProgressStatus {
    NotStarted,
    InProgress,
    Implemented,
}

/// How rare a badge is.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::badge::Rarity")]
pub enum BadgeRarity {
    Common,
    Rare,
    Epic,
    Legendary,
}

/// What a badge rewards.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::badge::BadgeCategory")]
pub enum BadgeCategory {
    Progress,
    Consistency,
    Social,
    Milestone,
}

/// Who the analysis is about.
#[derive(SimpleObject, Clone)]
pub struct Identity {
    /// The company's name.
    pub company_name: Option<String>,
    /// Its business sector.
    pub sector: Option<String>,
    /// Its estimated size (e.g. "10-49 employees").
    pub estimated_size: Option<String>,
    /// The analysis tier.
    pub tier: Option<String>,
}

/// Counts per status.
#[derive(SimpleObject, Clone, Copy)]
pub struct ProgressSummary {
    /// Opportunities in the analysis.
    pub total_opportunities: i32,
    /// Opportunities NOT_STARTED.
    pub not_started: i32,
    /// Opportunities IN_PROGRESS.
    pub in_progress: i32,
    /// Opportunities IMPLEMENTED.
    pub implemented: i32,
    /// implemented / total, rounded down, 0..100.
    pub completion_percentage: i32,
}

impl From<metrics::ProgressSummary> for ProgressSummary {
    fn from(s: metrics::ProgressSummary) -> Self {
        Self {
            total_opportunities: s.total,
            not_started: s.not_started,
            in_progress: s.in_progress,
            implemented: s.implemented,
            completion_percentage: s.completion_percentage,
        }
    }
}

/// Hours saved.
#[derive(SimpleObject, Clone, Copy)]
pub struct TimeSavedMetrics {
    /// Hours per week if every opportunity were implemented.
    pub potential_weekly: f64,
    /// Hours per week saved by the IMPLEMENTED opportunities.
    pub implemented_weekly: f64,
    /// Hours per year if every opportunity were implemented.
    pub potential_annual: i32,
    /// Hours per year saved by the IMPLEMENTED opportunities.
    pub implemented_annual: i32,
}

/// Money saved per year at the analysis' hourly rate.
#[derive(SimpleObject, Clone)]
pub struct MoneySavedMetrics {
    /// The hourly rate, when one is known (given with a progress update).
    pub hourly_rate: Option<f64>,
    /// hourlyRate × potential annual hours; null without a rate.
    pub potential_annual: Option<i32>,
    /// hourlyRate × implemented annual hours; null without a rate.
    pub implemented_annual: Option<i32>,
    /// ISO 4217 code (default CAD).
    pub currency: String,
}

/// Time and money saved.
#[derive(SimpleObject, Clone)]
pub struct Metrics {
    /// Hours saved.
    pub time_saved: TimeSavedMetrics,
    /// Money saved.
    pub money_saved: MoneySavedMetrics,
}

fn int(v: i64) -> i32 {
    v.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

impl From<metrics::Metrics> for Metrics {
    fn from(m: metrics::Metrics) -> Self {
        let t = m.time_saved;
        Self {
            time_saved: TimeSavedMetrics {
                potential_weekly: t.potential_weekly,
                implemented_weekly: t.implemented_weekly,
                potential_annual: int(t.potential_annual),
                implemented_annual: int(t.implemented_annual),
            },
            money_saved: MoneySavedMetrics {
                hourly_rate: m.money_saved.hourly_rate,
                potential_annual: m.money_saved.potential_annual.map(int),
                implemented_annual: m.money_saved.implemented_annual.map(int),
                currency: m.money_saved.currency,
            },
        }
    }
}

/// An automation opportunity with its progress.
#[derive(SimpleObject, Clone)]
pub struct Opportunity {
    /// Globally unique (analysis and opportunity), stable.
    pub id: ID,
    /// Unique within the analysis; usually the category name.
    pub opportunity_id: String,
    /// The area it improves.
    pub category: OpportunityCategory,
    /// Hours per week it would save.
    pub hours_per_week: f64,
    /// Hours per year it would save.
    pub hours_per_year: i32,
    /// The problem, in a sentence.
    pub problem_teaser: Option<String>,
    /// 1 (trivial) .. 10 (hard).
    pub complexity_level: i32,
    /// Tools that could do it.
    pub tools_hint: Option<String>,
    /// Current status.
    pub status: ProgressStatus,
    /// When it became IMPLEMENTED; null otherwise.
    pub implemented_at: Option<DateTime<Utc>>,
}

impl From<&domain::analysis::Opportunity> for Opportunity {
    fn from(o: &domain::analysis::Opportunity) -> Self {
        Self {
            id: ID(o.id.to_string()),
            opportunity_id: o.opportunity_id.clone(),
            category: o.category.into(),
            hours_per_week: o.hours_per_week,
            hours_per_year: o.hours_per_year,
            problem_teaser: o.problem_teaser.clone(),
            complexity_level: o.complexity_level.into(),
            tools_hint: o.tools_hint.clone(),
            status: o.status.into(),
            implemented_at: o.implemented_at,
        }
    }
}

/// A badge earned by an analysis; never taken back.
#[derive(SimpleObject, Clone)]
pub struct Badge {
    /// The award's id.
    pub id: ID,
    /// The badge's slug (e.g. `first_step`).
    pub badge_type: String,
    /// Display name.
    pub name: String,
    /// What it rewards.
    pub description: String,
    /// An emoji or icon name.
    pub icon: Option<String>,
    /// How rare it is.
    pub rarity: BadgeRarity,
    /// Points it is worth.
    pub points: i32,
    /// When it was earned.
    pub earned_at: DateTime<Utc>,
    /// The catalog version of the badge it was earned under.
    pub version_earned: i32,
}

impl Badge {
    /// The award as a reader of `lang` reads it.
    pub fn new(b: &domain::badge::EarnedBadge, lang: Lang) -> Self {
        Self {
            id: ID(b.id.to_string()),
            badge_type: b.badge.slug.clone(),
            name: b.badge.name_in(lang).to_owned(),
            description: b.badge.description_in(lang).to_owned(),
            icon: b.badge.icon.clone(),
            rarity: b.badge.rarity.into(),
            points: b.badge.points,
            earned_at: b.earned_at,
            version_earned: b.version_earned,
        }
    }
}

/// A badge of the catalog.
#[derive(SimpleObject, Clone)]
pub struct BadgeDefinition {
    /// The badge's id.
    pub id: ID,
    /// Stable machine name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it rewards.
    pub description: String,
    /// An emoji or icon name.
    pub icon: Option<String>,
    /// How rare it is.
    pub rarity: BadgeRarity,
    /// Points it is worth.
    pub points: i32,
    /// What kind of effort it rewards.
    pub category: BadgeCategory,
    /// `{type, match?, conditions: [{field, operator, value}]}`.
    pub unlock_criteria: Json<serde_json::Value>,
    /// Position in the catalog.
    pub display_order: i32,
    /// Bumped on every change of the definition.
    pub version: i32,
}

impl BadgeDefinition {
    /// The badge as a reader of `lang` reads it.
    pub fn new(b: &domain::badge::BadgeDefinition, lang: Lang) -> Self {
        Self {
            id: ID(b.id.to_string()),
            slug: b.slug.clone(),
            name: b.name_in(lang).to_owned(),
            description: b.description_in(lang).to_owned(),
            icon: b.icon.clone(),
            rarity: b.rarity.into(),
            points: b.points,
            category: b.category.into(),
            unlock_criteria: Json(b.criteria.to_json()),
            display_order: b.display_order,
            version: b.version,
        }
    }
}

/// Progress towards one badge.
#[derive(SimpleObject, Clone)]
pub struct Achievement {
    /// The badge.
    pub badge: BadgeDefinition,
    /// Whether the analysis has earned it.
    pub unlocked: bool,
    /// 0..100; 100 once unlocked.
    pub progress_percentage: i32,
    /// The next step in words, e.g. "Implement 2 more opportunities"; null once unlocked.
    pub next_milestone: Option<String>,
    /// Each condition of the badge's rule, judged by the evaluator that awards it.
    pub conditions: Vec<ConditionProgress>,
}

/// One condition of a badge's rule, as the evaluator that awards the badge judges it now.
#[derive(SimpleObject, Clone)]
pub struct ConditionProgress {
    /// The fact it tests, as the rule names it (`hours_saved_weekly`).
    pub field: String,
    /// The comparison, as the rule writes it (`>=`).
    pub operator: String,
    /// The value the fact is compared with (`"all"`: the analysis' number of opportunities; 0 when it has none).
    pub target: f64,
    /// The fact's value now (0 while it has none, such as days to a first implementation not made yet).
    pub current: f64,
    /// Whether the condition holds now.
    pub met: bool,
    /// In the reader's language, e.g. "Heures économisées par semaine : 8 sur 10" or "Hours saved per week: 8 of 10".
    pub label: String,
}

impl ConditionProgress {
    pub fn new(p: &criteria::ConditionProgress, lang: Lang) -> Self {
        Self {
            field: p.field.name().to_owned(),
            operator: p.operator.symbol().to_owned(),
            target: p.target.unwrap_or(0.0),
            current: p.actual.unwrap_or(0.0),
            met: p.met,
            label: criteria::label(p, lang),
        }
    }
}

/// A NOT_STARTED opportunity worth taking on next.
#[derive(SimpleObject, Clone)]
pub struct Recommendation {
    /// The opportunity.
    pub opportunity: Opportunity,
    /// hoursPerWeek / complexityLevel; higher first.
    pub priority_score: f64,
    /// Why, in a sentence.
    pub reason: String,
}
