//! The Mutation root.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};

use super::errors::{gql, gql_owned};
use super::inputs::{RecordAnalysisInput, UpdateProgressInput};
use super::loaders::{DashboardKey, Loaders};
use super::reports::{EmailSubscription, SubscribeToReportsInput};
use super::types::{Badge, Dashboard, Metrics, Opportunity, ProgressSummary};
use crate::app::Services;
use crate::error::AppError;
use crate::service::{record_analysis, reports, update_progress};

/// The result of `recordAnalysis`.
#[derive(SimpleObject)]
pub struct RecordAnalysisPayload {
    /// The analysis' dashboard (the existing one when `duplicate`).
    pub dashboard: Dashboard,
    /// True when the same normalised URL was recorded in the last 7 days: the existing analysis is returned.
    pub duplicate: bool,
}

/// The result of `updateProgress`.
#[derive(SimpleObject)]
pub struct UpdateProgressPayload {
    /// The opportunity after the change.
    pub opportunity: Opportunity,
    /// Badges earned by this change only.
    #[graphql(complexity = "crate::domain::badge::MAX_BADGES * child_complexity + 1")]
    pub new_badges: Vec<Badge>,
    /// Time and money saved after the change.
    pub metrics: Metrics,
    /// Counts per status after the change.
    pub progress_summary: ProgressSummary,
    /// The whole dashboard after the change.
    pub dashboard: Dashboard,
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// For the analysis pipeline (an admin operation once authentication is on).
    async fn record_analysis(
        &self,
        ctx: &Context<'_>,
        input: RecordAnalysisInput,
    ) -> Result<RecordAnalysisPayload> {
        let services = ctx.data::<Services>()?;
        let now = services.clock.now();
        let recorded = record_analysis::record(services, input.into(), now)
            .await
            .map_err(gql_owned)?;
        let data = ctx
            .data::<Loaders>()?
            .load_one(DashboardKey(recorded.analysis_id))
            .await
            .map_err(gql)?
            .ok_or_else(|| gql_owned(AppError::AnalysisNotFound(recorded.analysis_id)))?;
        Ok(RecordAnalysisPayload {
            dashboard: Dashboard::new(data, now),
            duplicate: recorded.duplicate,
        })
    }

    /// Subscribes an email to weekly or monthly reports (subscribing again updates and reactivates).
    async fn subscribe_to_reports(
        &self,
        ctx: &Context<'_>,
        input: SubscribeToReportsInput,
    ) -> Result<EmailSubscription> {
        let services = ctx.data::<Services>()?;
        let sub = reports::subscribe(services, input.into(), services.clock.now())
            .await
            .map_err(gql_owned)?;
        Ok(EmailSubscription::for_subscriber(sub))
    }

    /// The token comes from the unsubscribe link of a report email.
    async fn unsubscribe_from_reports(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        let services = ctx.data::<Services>()?;
        reports::unsubscribe(services, &token)
            .await
            .map_err(gql_owned)?;
        Ok(true)
    }

    /// Moves one opportunity to a new status; lists the badges this change earned.
    async fn update_progress(
        &self,
        ctx: &Context<'_>,
        input: UpdateProgressInput,
    ) -> Result<UpdateProgressPayload> {
        let services = ctx.data::<Services>()?;
        let now = services.clock.now();
        let opportunity_id = input.opportunity_id.trim().to_owned();
        let outcome = update_progress::apply(services, input.into(), now)
            .await
            .map_err(gql_owned)?;
        let opportunity = outcome
            .dashboard
            .opportunities
            .iter()
            .find(|o| o.opportunity_id == opportunity_id)
            .map(Opportunity::from)
            .ok_or_else(|| gql_owned(AppError::internal("updated opportunity missing")))?;
        let dashboard = Dashboard::new(Arc::new(outcome.dashboard), now);
        Ok(UpdateProgressPayload {
            opportunity,
            new_badges: outcome.new_badges.iter().map(Badge::from).collect(),
            metrics: dashboard.metrics(),
            progress_summary: dashboard.progress_summary(),
            dashboard,
        })
    }
}
