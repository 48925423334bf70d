//! The JSON shapes of the original REST specification (its OpenAPI 3.1 contract and examples),
//! built from the domain's read model. Names and fields are the specification's, so that the
//! generated document can be compared with it schema by schema.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::analysis::{Category as DomainCategory, Opportunity};
use crate::domain::badge::EarnedBadge;
use crate::domain::dashboard::DashboardData;
use crate::domain::metrics::{self, MoneySaved, TimeSaved};
use crate::domain::recommendations;
use crate::domain::reports::{Frequency as DomainFrequency, Subscription};
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

impl From<&EarnedBadge> for Badge {
    fn from(b: &EarnedBadge) -> Self {
        Self {
            badge_type: b.badge.slug.clone(),
            badge_name: b.badge.name.clone(),
            description: b.badge.description.clone(),
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
    pub fn new(data: &DashboardData) -> Self {
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
            badges: data.badges.iter().map(Into::into).collect(),
            metrics: Metrics::of(data),
            created_at: a.created_at,
            completed_at: a.completed_at,
        }
    }
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressUpdateRequest {
    /// The opportunity's id in the analysis (as its dashboard lists it).
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub opportunity_id: String,
    pub status: Status,
    /// Optional: the hourly rate money saved is computed with (20..500).
    #[schema(minimum = 20, maximum = 500)]
    pub hourly_rate: Option<f64>,
}

/// What a status change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressUpdateResponse {
    pub analysis_id: Uuid,
    pub opportunity_id: String,
    pub status: Status,
    pub implemented_at: Option<DateTime<Utc>>,
    /// The badges this change earned.
    pub new_badges: Vec<Badge>,
    pub metrics: Metrics,
}

impl ProgressUpdateResponse {
    /// `None` when the opportunity is not in the dashboard the change left.
    pub fn new(
        data: &DashboardData,
        opportunity_id: &str,
        new_badges: &[EarnedBadge],
    ) -> Option<Self> {
        let o = data
            .opportunities
            .iter()
            .find(|o| o.opportunity_id == opportunity_id)?;
        Some(Self {
            analysis_id: data.analysis.id.into(),
            opportunity_id: o.opportunity_id.clone(),
            status: o.status.into(),
            implemented_at: o.implemented_at,
            new_badges: new_badges.iter().map(Into::into).collect(),
            metrics: Metrics::of(data),
        })
    }
}

/// A next step.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recommendation {
    pub opportunity_id: String,
    pub category: Category,
    pub hours_per_week: f64,
    pub complexity_level: i16,
    /// hours_per_week / complexity_level: higher comes first.
    pub priority_score: f64,
    /// Why this is recommended next.
    pub reason: String,
}

/// The not-started opportunities, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationsResponse {
    pub analysis_id: Uuid,
    pub recommendations: Vec<Recommendation>,
}

impl RecommendationsResponse {
    pub fn new(data: &DashboardData) -> Self {
        let recommendations = recommendations::recommendations(&data.opportunities)
            .into_iter()
            .map(|r| Recommendation {
                opportunity_id: r.opportunity.opportunity_id.clone(),
                category: r.opportunity.category.into(),
                hours_per_week: r.opportunity.hours_per_week,
                complexity_level: r.opportunity.complexity_level,
                priority_score: r.priority_score,
                reason: r.reason,
            })
            .collect();
        Self {
            analysis_id: data.analysis.id.into(),
            recommendations,
        }
    }
}

/// The badges earned for an analysis, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BadgesResponse {
    pub analysis_id: Uuid,
    pub badges: Vec<Badge>,
    pub total_badges: usize,
}

impl BadgesResponse {
    pub fn new(data: &DashboardData) -> Self {
        Self {
            analysis_id: data.analysis.id.into(),
            badges: data.badges.iter().map(Into::into).collect(),
            total_badges: data.badges.len(),
        }
    }
}

/// How often reports come.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Weekly,
    Monthly,
}

impl From<Frequency> for DomainFrequency {
    fn from(f: Frequency) -> Self {
        match f {
            Frequency::Weekly => Self::Weekly,
            Frequency::Monthly => Self::Monthly,
        }
    }
}

/// A subscription to email reports. The address gets a confirmation link first; reports
/// start once it is followed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSubscriptionRequest {
    #[schema(format = "email")]
    pub email: String,
    pub frequency: Frequency,
    /// For the money saved in the reports (20..500).
    #[schema(minimum = 20, maximum = 500)]
    pub hourly_rate: Option<f64>,
}

/// A subscription as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailSubscriptionResponse {
    pub subscription_id: Uuid,
    pub analysis_id: Uuid,
    pub email: String,
    pub frequency: Frequency,
    /// False once unsubscribed.
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Subscription> for EmailSubscriptionResponse {
    fn from(s: &Subscription) -> Self {
        Self {
            subscription_id: s.id.into(),
            analysis_id: s.analysis_id.into(),
            email: s.email.clone(),
            frequency: match s.frequency {
                DomainFrequency::Weekly => Frequency::Weekly,
                DomainFrequency::Monthly => Frequency::Monthly,
            },
            active: s.active,
            created_at: s.created_at,
        }
    }
}

/// Every error: a stable code, a human detail, when, and the request id to find it in the logs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    /// NOT_FOUND, OPPORTUNITY_NOT_FOUND, INVALID_TRANSITION, INVALID_INPUT, UNAUTHENTICATED,
    /// FORBIDDEN, RATE_LIMITED, SERVICE_UNAVAILABLE or INTERNAL_SERVER_ERROR.
    pub error: String,
    pub detail: String,
    pub timestamp: DateTime<Utc>,
    pub request_id: String,
}
