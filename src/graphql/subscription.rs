//! The Subscription root: badge toasts, KPI updates and platform KPIs.

use async_graphql::ErrorExtensions as _;
use async_graphql::ResultExt as _;
use async_graphql::{Context, Enum, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::access;
use super::language::reader;
use super::loaders::{DashboardKey, Loaders};
use super::topic::Probe;
use super::types::{Badge, Metrics, ProgressSummary};
use crate::domain::ids::AnalysisId;
use crate::domain::reports::Lang;
use crate::error::AppError;
use crate::service::live::{self, Audience, Lagged};
use crate::service::Services;

/// The window (and tick) of a platform KPI stream.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::period::Period")]
pub enum KpiPeriod {
    Minute,
    Hour,
    Day,
}

/// A badge just awarded.
#[derive(SimpleObject, Clone)]
pub struct BadgeAwarded {
    /// The analysis that earned it.
    pub analysis_id: Uuid,
    /// The award.
    pub badge: Badge,
}

/// An analysis' metrics and progress after a change.
#[derive(SimpleObject, Clone)]
pub struct KpiUpdate {
    /// The analysis.
    pub analysis_id: Uuid,
    /// Time and money saved after the change.
    pub metrics: Metrics,
    /// Counts per status after the change.
    pub progress_summary: ProgressSummary,
    /// When the change happened.
    pub at: DateTime<Utc>,
}

/// Platform-wide figures for one period.
#[derive(SimpleObject, Clone)]
pub struct PlatformKpis {
    /// The period these figures cover (ending at `at`).
    pub period: KpiPeriod,
    /// When they were computed.
    pub at: DateTime<Utc>,
    /// Analyses with activity in the period.
    pub active_dashboards: i32,
    /// Implemented opportunities over all opportunities, 0..100.
    pub implementation_rate: f64,
    /// Weekly hours saved by every implemented opportunity.
    pub hours_saved_weekly: f64,
    /// Badges awarded in the period.
    pub badges_awarded: i32,
}

impl PlatformKpis {
    pub fn new(period: KpiPeriod, s: &crate::service::platform::PlatformSnapshot) -> Self {
        Self {
            period,
            at: s.at,
            active_dashboards: s.figures.active_dashboards.try_into().unwrap_or(i32::MAX),
            implementation_rate: s.figures.implementation_rate,
            hours_saved_weekly: s.figures.hours_saved_weekly,
            badges_awarded: s.figures.badges_awarded.try_into().unwrap_or(i32::MAX),
        }
    }
}

fn lagged(l: Lagged) -> async_graphql::Error {
    AppError::SubscriberLagged(l.0).extend()
}

/// Subscriptions to an unknown analysis (or one the caller may not see) fail at once rather than
/// wait forever; the reader's language of the analysis otherwise.
async fn ensure_exists(ctx: &Context<'_>, analysis_id: AnalysisId) -> Result<Lang> {
    access::read(ctx, analysis_id)?;
    ctx.data::<Loaders>()?
        .load_one(DashboardKey(analysis_id))
        .await
        .map_err(|e| e.extend())?
        .map(|d| reader(ctx, &d.analysis))
        .ok_or_else(|| AppError::AnalysisNotFound(analysis_id).extend())
}

/// A shared operation's stream says whom it serves (`http::shared`); any other serves one.
fn audience(ctx: &Context<'_>) -> Audience {
    ctx.data_opt::<Audience>().cloned().unwrap_or_default()
}

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Badge toasts for one analysis; with since, awards after that instant are replayed first, so a reconnecting client misses none.
    async fn badge_awarded(
        &self,
        ctx: &Context<'_>,
        analysis_id: Uuid,
        since: Option<DateTime<Utc>>,
    ) -> Result<impl Stream<Item = Result<BadgeAwarded>> + use<>> {
        // shared unless it replays: a replay is the subscriber's own
        if let Some(probe) = Probe::of(ctx) {
            probe.report(ctx, since.is_none().then_some(analysis_id.into()));
            return Ok(futures_util::stream::empty().left_stream());
        }
        let lang = ensure_exists(ctx, analysis_id.into()).await?;
        let services = ctx.data::<Services>()?;
        let awards = live::badge_awards(services, analysis_id.into(), since, audience(ctx))
            .await
            .extend()?;
        let awards = awards.map(move |a| {
            a.map(|award| BadgeAwarded {
                analysis_id,
                badge: Badge::new(&award, lang),
            })
            .map_err(lagged)
        });
        Ok(access::while_readable(ctx, analysis_id.into(), awards).right_stream())
    }

    /// Metrics and progress summary of one analysis after every change to it.
    async fn kpi_updated(
        &self,
        ctx: &Context<'_>,
        analysis_id: Uuid,
    ) -> Result<impl Stream<Item = Result<KpiUpdate>> + use<>> {
        if let Some(probe) = Probe::of(ctx) {
            probe.report(ctx, Some(analysis_id.into()));
            return Ok(futures_util::stream::empty().left_stream());
        }
        ensure_exists(ctx, analysis_id.into()).await?;
        let services = ctx.data::<Services>()?;
        let updates = live::kpi_updates(services, analysis_id.into(), audience(ctx)).map(|u| {
            u.map(|u| KpiUpdate {
                analysis_id: u.analysis_id.get(),
                metrics: u.metrics.into(),
                progress_summary: u.summary.into(),
                at: u.at,
            })
            .map_err(lagged)
        });
        Ok(access::while_readable(ctx, analysis_id.into(), updates).right_stream())
    }

    /// Platform KPIs for the period, pushed on each period tick (computed only while someone listens; admin).
    async fn platform_kpis(
        &self,
        ctx: &Context<'_>,
        period: KpiPeriod,
    ) -> Result<impl Stream<Item = PlatformKpis> + use<>> {
        // one per connection: the tick's figures are the same, but few listen
        if let Some(probe) = Probe::of(ctx) {
            probe.report(ctx, None);
            return Ok(futures_util::stream::empty().left_stream());
        }
        access::admin(ctx)?;
        let services = ctx.data::<Services>()?;
        Ok(live::platform_kpis(services, period.into())
            .map(move |s| PlatformKpis::new(period, &s))
            .right_stream())
    }
}
