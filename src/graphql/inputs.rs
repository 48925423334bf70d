//! Input types of the public contract, converted to service inputs.

use async_graphql::InputObject;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::types::{OpportunityCategory, ProgressStatus};
use crate::domain::analysis::Identity;
use crate::domain::analysis::OpportunitySpec;
use crate::service::record_analysis::AnalysisSpec;
use crate::service::update_progress::ProgressChange;

/// A status change.
#[derive(InputObject)]
pub struct UpdateProgressInput {
    /// The analysis.
    pub analysis_id: Uuid,
    /// The opportunity's id within the analysis (e.g. `digital_presence`).
    pub opportunity_id: String,
    /// The new status.
    pub status: ProgressStatus,
    /// 20..500; remembered on the analysis for money metrics.
    pub hourly_rate: Option<f64>,
}

impl From<UpdateProgressInput> for ProgressChange {
    fn from(i: UpdateProgressInput) -> Self {
        Self {
            analysis_id: i.analysis_id.into(),
            opportunity_id: i.opportunity_id,
            status: i.status.into(),
            hourly_rate: i.hourly_rate,
            actor: None,
        }
    }
}

/// Who the analysis is about.
#[derive(InputObject)]
pub struct IdentityInput {
    /// The company's name.
    pub company_name: Option<String>,
    /// Its business sector.
    pub sector: Option<String>,
    /// Its estimated size.
    pub estimated_size: Option<String>,
    /// The analysis tier.
    pub tier: Option<String>,
    /// IANA time zone; default America/Toronto.
    pub time_zone: Option<String>,
    /// Default FR.
    pub language: Option<super::reports::ReportLanguage>,
}

/// One opportunity found by the analysis.
#[derive(InputObject)]
pub struct OpportunityInput {
    /// Unique within the analysis, 1..100 characters.
    pub opportunity_id: String,
    /// The area it improves.
    pub category: OpportunityCategory,
    /// 0..168.
    pub hours_per_week: f64,
    /// 0..8784.
    pub hours_per_year: i32,
    /// The problem, in a sentence.
    pub problem_teaser: Option<String>,
    /// 1..10.
    pub complexity_level: i32,
    /// Tools that could do it.
    pub tools_hint: Option<String>,
}

/// An analysis as the pipeline produced it.
#[derive(InputObject)]
pub struct RecordAnalysisInput {
    /// The company website.
    pub url: String,
    /// Who it is about.
    pub identity: IdentityInput,
    /// 1..50 opportunities.
    pub opportunities: Vec<OpportunityInput>,
    /// Defaults to now; lets the analysis pipeline import older analyses.
    pub created_at: Option<DateTime<Utc>>,
    /// When the analysis finished.
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<RecordAnalysisInput> for AnalysisSpec {
    fn from(i: RecordAnalysisInput) -> Self {
        Self {
            url: i.url,
            identity: Identity {
                company_name: i.identity.company_name,
                sector: i.identity.sector,
                estimated_size: i.identity.estimated_size,
                tier: i.identity.tier,
            },
            opportunities: i
                .opportunities
                .into_iter()
                .map(|o| OpportunitySpec {
                    opportunity_id: o.opportunity_id,
                    category: o.category.into(),
                    hours_per_week: o.hours_per_week,
                    hours_per_year: o.hours_per_year,
                    problem_teaser: o.problem_teaser,
                    complexity_level: o.complexity_level,
                    tools_hint: o.tools_hint,
                })
                .collect(),
            created_at: i.created_at,
            completed_at: i.completed_at,
            time_zone: i.identity.time_zone,
            language: i.identity.language.map(Into::into),
            id: None,
        }
    }
}
