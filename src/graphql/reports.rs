//! Report subscriptions and document links in the schema.

use async_graphql::{Enum, InputObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::reports::Subscription;
use crate::service::reports::SubscribeSpec;

/// How often reports go out.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::reports::Frequency")]
pub enum ReportFrequency {
    /// Mondays at 09:00 UTC.
    Weekly,
    /// The 1st of the month at 09:00 UTC.
    Monthly,
}

/// The language of the reports.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[graphql(remote = "crate::domain::reports::Lang")]
pub enum ReportLanguage {
    #[default]
    Fr,
    En,
}

/// A downloadable report's format.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::reports::DocumentFormat")]
pub enum ReportFormat {
    Pdf,
    Html,
}

/// A section of the downloadable report.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::reports::Section")]
pub enum ReportSection {
    Summary,
    Badges,
    Metrics,
    Opportunities,
}

/// A subscription to email reports.
#[derive(InputObject)]
pub struct SubscribeToReportsInput {
    /// The analysis to report on.
    pub analysis_id: Uuid,
    /// Where to send the reports.
    pub email: String,
    /// Weekly or monthly.
    pub frequency: ReportFrequency,
    /// 20..500: the money saved in the reports uses it.
    pub hourly_rate: Option<f64>,
    /// The analysis' language by default.
    pub language: Option<ReportLanguage>,
}

impl From<SubscribeToReportsInput> for SubscribeSpec {
    fn from(i: SubscribeToReportsInput) -> Self {
        Self {
            analysis_id: i.analysis_id.into(),
            email: i.email,
            frequency: i.frequency.into(),
            hourly_rate: i.hourly_rate,
            lang: i.language.map(Into::into),
        }
    }
}

/// A report subscription.
#[derive(SimpleObject)]
pub struct EmailSubscription {
    /// The subscription's id.
    pub id: ID,
    /// The analysis reported on.
    pub analysis_id: Uuid,
    /// Masked (u***@example.com) everywhere but to the subscriber's own request.
    pub email: String,
    /// Weekly or monthly.
    pub frequency: ReportFrequency,
    /// False once unsubscribed.
    pub active: bool,
    /// True once the address confirmed from the link emailed to it; reports go only to confirmed addresses.
    pub confirmed: bool,
    /// When it was first made.
    pub created_at: DateTime<Utc>,
}

impl EmailSubscription {
    /// As anyone else sees it: the address masked (u***@example.com).
    pub fn masked(s: Subscription) -> Self {
        let email = crate::domain::reports::mask(&s.email);
        Self {
            email,
            ..Self::for_subscriber(s)
        }
    }

    /// As the request that made it sees it: the address in full.
    pub fn for_subscriber(s: Subscription) -> Self {
        Self {
            id: ID(s.id.to_string()),
            analysis_id: s.analysis_id.get(),
            email: s.email,
            frequency: s.frequency.into(),
            active: s.active,
            confirmed: s.confirmed_at.is_some(),
            created_at: s.created_at,
        }
    }
}
