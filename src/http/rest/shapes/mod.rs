//! The JSON shapes of the original REST specification (its OpenAPI 3.1 contract and examples),
//! built from the domain's read model. Names and fields are the specification's, so that the
//! generated document can be compared with it schema by schema.

mod calls;

pub use calls::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::analysis::{Category as DomainCategory, Opportunity};
use crate::domain::badge::EarnedBadge;
use crate::domain::dashboard::DashboardData;
use crate::domain::metrics::{self, MoneySaved, TimeSaved};
use crate::domain::reports::Lang;
use crate::domain::status::ProgressStatus;

/// An opportunity's category.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    DigitalPresence,
    ValueCreation,
    BusinessManagement,
}

impl From<DomainCategory> for Category {
    fn from(c: DomainCategory) -> Self {
        match c {
            DomainCategory::DigitalPresence => Self::DigitalPresence,
            DomainCategory::ValueCreation => Self::ValueCreation,
            DomainCategory::BusinessManagement => Self::BusinessManagement,
        }
    }
}

/// Where an opportunity stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    NotStarted,
    InProgress,
    Implemented,
}

impl From<ProgressStatus> for Status {
    fn from(s: ProgressStatus) -> Self {
        match s {
            ProgressStatus::NotStarted => Self::NotStarted,
            ProgressStatus::InProgress => Self::InProgress,
            ProgressStatus::Implemented => Self::Implemented,
        }
    }
}

impl From<Status> for ProgressStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::NotStarted => Self::NotStarted,
            Status::InProgress => Self::InProgress,
            Status::Implemented => Self::Implemented,
        }
    }
}

/// Who the analysis is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Identity {
    pub company_name: Option<String>,
    pub sector: Option<String>,
    pub estimated_size: Option<String>,
    pub tier: Option<String>,
}

/// An opportunity with its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityWithProgress {
    /// Unique within the analysis (usually the category name).
    pub opportunity_id: String,
    pub category: Category,
    pub hours_per_week: f64,
    pub hours_per_year: i32,
    pub problem_teaser: Option<String>,
    #[schema(minimum = 1, maximum = 10)]
    pub complexity_level: i16,
    pub tools_hint: Option<String>,
    pub status: Status,
    pub implemented_at: Option<DateTime<Utc>>,
}

impl From<&Opportunity> for OpportunityWithProgress {
    fn from(o: &Opportunity) -> Self {
        Self {
            opportunity_id: o.opportunity_id.clone(),
            category: o.category.into(),
            hours_per_week: o.hours_per_week,
            hours_per_year: o.hours_per_year,
            problem_teaser: o.problem_teaser.clone(),
            complexity_level: o.complexity_level,
            tools_hint: o.tools_hint.clone(),
            status: o.status.into(),
            implemented_at: o.implemented_at,
        }
    }
}

/// How far the analysis has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressSummary {
    pub total_opportunities: i32,
    pub not_started: i32,
    pub in_progress: i32,
    pub implemented: i32,
    #[schema(minimum = 0, maximum = 100)]
    pub completion_percentage: i32,
}

/// An earned badge.
#[derive(Debug, Serialize, ToSchema)]
pub struct Badge {
    /// The badge's slug in the catalog (data, not a fixed list: first_step, quick_win, …).
    pub badge_type: String,
    pub badge_name: String,
    pub description: String,
    /// An emoji.
    pub icon: Option<String>,
    pub earned_at: DateTime<Utc>,
}

impl Badge {
    /// The award as a reader of `lang` reads it.
    pub fn new(b: &EarnedBadge, lang: Lang) -> Self {
        Self {
            badge_type: b.badge.slug.clone(),
            badge_name: b.badge.name_in(lang).to_owned(),
            description: b.badge.description_in(lang).to_owned(),
            icon: b.badge.icon.clone(),
            earned_at: b.earned_at,
        }
    }
}

/// Hours saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeSavedMetrics {
    /// Total hours a week available to save.
    pub potential_weekly: f64,
    /// Hours a week saved by implemented opportunities.
    pub implemented_weekly: f64,
    pub potential_annual: i64,
    pub implemented_annual: i64,
}

/// Money saved: null without an hourly rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoneySavedMetrics {
    pub hourly_rate: Option<f64>,
    pub potential_annual: Option<i64>,
    pub implemented_annual: Option<i64>,
    pub currency: String,
}

/// Time and money saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Metrics {
    pub time_saved: TimeSavedMetrics,
    pub money_saved: MoneySavedMetrics,
}

impl Metrics {
    fn of(data: &DashboardData) -> Self {
        let a = &data.analysis;
        let m = metrics::metrics(&data.opportunities, a.hourly_rate, &a.currency);
        let TimeSaved {
            potential_weekly,
            implemented_weekly,
            potential_annual,
            implemented_annual,
        } = m.time_saved;
        let MoneySaved {
            hourly_rate,
            potential_annual: money_potential,
            implemented_annual: money_implemented,
            currency,
        } = m.money_saved;
        Self {
            time_saved: TimeSavedMetrics {
                potential_weekly,
                implemented_weekly,
                potential_annual,
                implemented_annual,
            },
            money_saved: MoneySavedMetrics {
                hourly_rate,
                potential_annual: money_potential,
                implemented_annual: money_implemented,
                currency,
            },
        }
    }
}

/// The whole dashboard of one analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardResponse {
    pub analysis_id: Uuid,
    pub identity: Identity,
    pub opportunities: Vec<OpportunityWithProgress>,
    pub progress_summary: ProgressSummary,
    pub badges: Vec<Badge>,
    pub metrics: Metrics,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl DashboardResponse {
    pub fn new(data: &DashboardData, lang: Lang) -> Self {
        let a = &data.analysis;
        let s = metrics::progress_summary(&data.opportunities);
        Self {
            analysis_id: a.id.into(),
            identity: Identity {
                company_name: a.identity.company_name.clone(),
                sector: a.identity.sector.clone(),
                estimated_size: a.identity.estimated_size.clone(),
                tier: a.identity.tier.clone(),
            },
            opportunities: data.opportunities.iter().map(Into::into).collect(),
            progress_summary: ProgressSummary {
                total_opportunities: s.total,
                not_started: s.not_started,
                in_progress: s.in_progress,
                implemented: s.implemented,
                completion_percentage: s.completion_percentage,
            },
            badges: data.badges.iter().map(|b| Badge::new(b, lang)).collect(),
            metrics: Metrics::of(data),
            created_at: a.created_at,
            completed_at: a.completed_at,
        }
    }
}
