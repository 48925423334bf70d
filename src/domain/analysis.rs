//! An analysis of a company website and its opportunities, as the rules see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ids::AnalysisId;
use super::zone::TimeZone;

use super::status::ProgressStatus;

/// The area of the business an opportunity improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    DigitalPresence,
    ValueCreation,
    BusinessManagement,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DigitalPresence => "digital_presence",
            Self::ValueCreation => "value_creation",
            Self::BusinessManagement => "business_management",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "digital_presence" => Some(Self::DigitalPresence),
            "value_creation" => Some(Self::ValueCreation),
            "business_management" => Some(Self::BusinessManagement),
            _ => None,
        }
    }
}

/// Who the analysis is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub company_name: Option<String>,
    pub sector: Option<String>,
    pub estimated_size: Option<String>,
    pub tier: Option<String>,
}

/// One analysis, without its opportunities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub id: AnalysisId,
    pub url: String,
    pub identity: Identity,
    pub hourly_rate: Option<f64>,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Its days are local days there (a dashboard cached before zones had none: the default).
    #[serde(default)]
    pub time_zone: TimeZone,
    /// Its readers' language, unless a request asks for another.
    #[serde(default)]
    pub language: super::reports::Lang,
    /// Goes up by one on every change to the analysis or its progress: caches compare on it.
    pub version: i64,
}

/// One opportunity with its current progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    /// Globally unique and stable.
    pub id: Uuid,
    pub analysis_id: AnalysisId,
    pub opportunity_id: String,
    pub category: Category,
    pub hours_per_week: f64,
    pub hours_per_year: i32,
    pub problem_teaser: Option<String>,
    pub complexity_level: i16,
    pub tools_hint: Option<String>,
    pub status: ProgressStatus,
    pub implemented_at: Option<DateTime<Utc>>,
}

/// A new opportunity as the analysis pipeline reports it (checked before it is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunitySpec {
    pub opportunity_id: String,
    pub category: Category,
    pub hours_per_week: f64,
    pub hours_per_year: i32,
    pub problem_teaser: Option<String>,
    pub complexity_level: i32,
    pub tools_hint: Option<String>,
}
