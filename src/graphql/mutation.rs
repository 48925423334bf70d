//! The Mutation root.

use std::sync::Arc;

use async_graphql::ErrorExtensions as _;
use async_graphql::ResultExt as _;
use async_graphql::{Context, Object, Result, SimpleObject};

use super::access;
use super::dashboard::Dashboard;
use super::inputs::{RecordAnalysisInput, UpdateProgressInput};
use super::loaders::{DashboardKey, Loaders};
use super::reads::Now;
use super::reports::{EmailSubscription, SubscribeToReportsInput};
use super::types::{Badge, Metrics, Opportunity, ProgressSummary};
use crate::domain::values::Subject;
use crate::domain::zone::TimeZone;
use crate::error::AppError;
use crate::service::settings::{self, Setting};
use crate::service::Services;
use crate::service::{auth, record_analysis, reports, update_progress};

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
    /// For the analysis pipeline (admin).
    async fn record_analysis(
        &self,
        ctx: &Context<'_>,
        input: RecordAnalysisInput,
    ) -> Result<RecordAnalysisPayload> {
        access::admin(ctx)?;
        let services = ctx.data::<Services>()?;
        let now = services.state.clock.now();
        let recorded = record_analysis::record(services, input.into(), now)
            .await
            .extend()?;
        let data = ctx
            .data::<Loaders>()?
            .load_one(DashboardKey(recorded.analysis_id))
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| AppError::AnalysisNotFound(recorded.analysis_id).extend())?;
        Ok(RecordAnalysisPayload {
            dashboard: Dashboard::new(data, Now::unrecorded(now)),
            duplicate: recorded.duplicate,
        })
    }

    /// Subscribes an email to weekly or monthly reports (subscribing again updates and reactivates); the analysis' owner.
    async fn subscribe_to_reports(
        &self,
        ctx: &Context<'_>,
        input: SubscribeToReportsInput,
    ) -> Result<EmailSubscription> {
        access::write(ctx, input.analysis_id.into())?;
        let services = ctx.data::<Services>()?;
        let requested_by = access::caller(ctx).subject();
        let mut spec = reports::SubscribeSpec::from(input);
        // not chosen: the language the request asks for, else the analysis'
        spec.lang = spec.lang.or_else(|| super::language::asked(ctx));
        let sub = reports::subscribe(services, spec, requested_by, services.state.clock.now())
            .await
            .extend()?;
        Ok(EmailSubscription::for_subscriber(sub))
    }

    /// Sets the analysis' time zone (owner): days, streaks, history and report times follow it.
    async fn set_time_zone(
        &self,
        ctx: &Context<'_>,
        analysis_id: uuid::Uuid,
        time_zone: String,
    ) -> Result<Dashboard> {
        let id = analysis_id.into();
        access::write(ctx, id)?;
        let services = ctx.data::<Services>()?;
        let now = services.state.clock.now();
        let zone = TimeZone::parse(&time_zone).map_err(|e| AppError::from(e).extend())?;
        let data = settings::set(services, id, Setting::TimeZone(zone), now)
            .await
            .extend()?;
        Ok(Dashboard::new(Arc::new(data), Now::unrecorded(now)))
    }

    /// Sets the analysis' language (owner): composed sentences, reports and pages are written in it unless a request asks for another.
    async fn set_language(
        &self,
        ctx: &Context<'_>,
        analysis_id: uuid::Uuid,
        language: super::reports::ReportLanguage,
    ) -> Result<Dashboard> {
        let id = analysis_id.into();
        access::write(ctx, id)?;
        let services = ctx.data::<Services>()?;
        let now = services.state.clock.now();
        let setting = Setting::Language(language.into());
        let data = settings::set(services, id, setting, now).await.extend()?;
        Ok(Dashboard::new(Arc::new(data), Now::unrecorded(now)))
    }

    /// Ends one of the analysis' report subscriptions (owner).
    async fn cancel_report_subscription(
        &self,
        ctx: &Context<'_>,
        id: async_graphql::ID,
    ) -> Result<bool> {
        let services = ctx.data::<Services>()?;
        // an id that is not one, or one of an analysis the caller may not see: not found alike
        let not_found = || AppError::invalid_input("no such report subscription").extend();
        let id = id.parse::<uuid::Uuid>().map_err(|_| not_found())?.into();
        let analysis = reports::analysis_of(services, id)
            .await
            .extend()?
            .ok_or_else(not_found)?;
        if !access::sees(ctx, analysis) {
            return Err(not_found());
        }
        access::write(ctx, analysis)?;
        reports::cancel(services, id).await.extend()?;
        Ok(true)
    }

    /// Refuses the subject's tokens issued before now, on every instance, and closes its open sockets (admin).
    async fn revoke_sessions(&self, ctx: &Context<'_>, sub: String) -> Result<bool> {
        access::admin(ctx)?;
        let services = ctx.data::<Services>()?;
        let sub = Subject::parse("sub", &sub).map_err(|e| AppError::from(e).extend())?;
        // the tokens' own clock (their `iat`), not the injectable one of the product's dates
        auth::revoke(services, &sub, chrono::Utc::now())
            .await
            .extend()?;
        Ok(true)
    }

    /// The token comes from the unsubscribe link of a report email.
    async fn unsubscribe_from_reports(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        let services = ctx.data::<Services>()?;
        reports::unsubscribe(services, &token).await.extend()?;
        Ok(true)
    }

    /// Moves one opportunity to a new status; lists the badges this change earned (the analysis' owner).
    async fn update_progress(
        &self,
        ctx: &Context<'_>,
        input: UpdateProgressInput,
    ) -> Result<UpdateProgressPayload> {
        access::write(ctx, input.analysis_id.into())?;
        let services = ctx.data::<Services>()?;
        let now = services.state.clock.now();
        let opportunity_id = input.opportunity_id.trim().to_owned();
        let mut change = update_progress::ProgressChange::from(input);
        change.actor = access::caller(ctx).subject().map(str::to_owned);
        let outcome = update_progress::apply(services, change, now)
            .await
            .extend()?;
        let opportunity = outcome
            .dashboard
            .opportunities
            .iter()
            .find(|o| o.opportunity_id == opportunity_id)
            .map(Opportunity::from)
            .ok_or_else(|| AppError::internal("updated opportunity missing").extend())?;
        let lang = super::language::reader(ctx, &outcome.dashboard.analysis);
        let dashboard = Dashboard::new(Arc::new(outcome.dashboard), Now::unrecorded(now));
        Ok(UpdateProgressPayload {
            opportunity,
            new_badges: outcome
                .new_badges
                .iter()
                .map(|b| Badge::new(b, lang))
                .collect(),
            metrics: dashboard.metrics(),
            progress_summary: dashboard.progress_summary(),
            dashboard,
        })
    }
}
