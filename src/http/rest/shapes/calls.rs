//! The shapes of the calls besides the dashboard: progress, recommendations, badges, report
//! subscriptions, and the error body.

use crate::domain::reports::Lang;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::badge::EarnedBadge;
use crate::domain::dashboard::DashboardData;
use crate::domain::recommendations;
use crate::domain::reports::{Frequency as DomainFrequency, Subscription};

use super::*;

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
        lang: Lang,
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
            new_badges: new_badges.iter().map(|b| Badge::new(b, lang)).collect(),
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
    pub fn new(data: &DashboardData, lang: Lang) -> Self {
        let recommendations = recommendations::recommendations(&data.opportunities)
            .into_iter()
            .map(|r| Recommendation {
                opportunity_id: r.opportunity.opportunity_id.clone(),
                category: r.opportunity.category.into(),
                hours_per_week: r.opportunity.hours_per_week,
                complexity_level: r.opportunity.complexity_level,
                priority_score: r.priority_score,
                reason: r.reason.render(lang),
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
    pub fn new(data: &DashboardData, lang: Lang) -> Self {
        Self {
            analysis_id: data.analysis.id.into(),
            badges: data.badges.iter().map(|b| Badge::new(b, lang)).collect(),
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
    /// In the reader's language (Accept-Language).
    pub detail: String,
    /// The server's own words, when `detail` was written in another language for its reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technical_detail: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub request_id: String,
}
