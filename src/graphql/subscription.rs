//! The Subscription root: badge toasts, KPI updates and platform KPIs.

use async_graphql::ErrorExtensions as _;
use async_graphql::ResultExt as _;
use async_graphql::{Context, Enum, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::access;
use super::loaders::{DashboardKey, Loaders};
use super::types::{Badge, Metrics, ProgressSummary};
use crate::domain::ids::AnalysisId;
use crate::error::AppError;
use crate::service::live::{self, Audience, Lagged};
use crate::service::Services;

/// A subscription one run per instance may serve for every connection that sends the same
/// request: its field, the argument naming the analysis it follows, and an argument that makes
/// it a connection's own (a replay) when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareableField {
    pub field: &'static str,
    pub analysis_argument: &'static str,
    pub own_when_given: Option<&'static str>,
}

/// The shareable subscriptions, named as the schema names them (a test checks the schema still
/// has each field and argument, so a rename cannot silently stop the sharing).
pub const SHAREABLE: [ShareableField; 2] = [
    ShareableField {
        field: "kpiUpdated",
        analysis_argument: "analysisId",
        own_when_given: None,
    },
    ShareableField {
        field: "badgeAwarded",
        analysis_argument: "analysisId",
        own_when_given: Some("since"),
    },
];

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

fn lagged(l: Lagged) -> async_graphql::Error {
    AppError::SubscriberLagged(l.0).extend()
}

/// Subscriptions to an unknown analysis (or one the caller may not see) fail at once rather than
/// wait forever.
async fn ensure_exists(ctx: &Context<'_>, analysis_id: AnalysisId) -> Result<()> {
    access::read(ctx, analysis_id)?;
    ctx.data::<Loaders>()?
        .load_one(DashboardKey(analysis_id))
        .await
        .map_err(|e| e.extend())?
        .map(|_| ())
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
        ensure_exists(ctx, analysis_id.into()).await?;
        let services = ctx.data::<Services>()?;
        let awards = live::badge_awards(services, analysis_id.into(), since, audience(ctx))
            .await
            .extend()?;
        let awards = awards.map(move |a| {
            a.map(|award| BadgeAwarded {
                analysis_id,
                badge: Badge::from(&award),
            })
            .map_err(lagged)
        });
        Ok(access::while_readable(ctx, analysis_id.into(), awards))
    }

    /// Metrics and progress summary of one analysis after every change to it.
    async fn kpi_updated(
        &self,
        ctx: &Context<'_>,
        analysis_id: Uuid,
    ) -> Result<impl Stream<Item = Result<KpiUpdate>> + use<>> {
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
        Ok(access::while_readable(ctx, analysis_id.into(), updates))
    }

    /// Platform KPIs for the period, pushed on each period tick (computed only while someone listens; admin).
    async fn platform_kpis(
        &self,
        ctx: &Context<'_>,
        period: KpiPeriod,
    ) -> Result<impl Stream<Item = PlatformKpis> + use<>> {
        access::admin(ctx)?;
        let services = ctx.data::<Services>()?;
        Ok(
            live::platform_kpis(services, period.into()).map(move |s| PlatformKpis {
                period,
                at: s.at,
                active_dashboards: s.figures.active_dashboards.try_into().unwrap_or(i32::MAX),
                implementation_rate: s.figures.implementation_rate,
                hours_saved_weekly: s.figures.hours_saved_weekly,
                badges_awarded: s.figures.badges_awarded.try_into().unwrap_or(i32::MAX),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::SHAREABLE;

    #[test]
    fn the_shareable_fields_are_the_schemas() {
        let sdl = crate::graphql::sdl();
        let subscription = sdl
            .split("type Subscription {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("a Subscription type");
        for s in SHAREABLE {
            let line = subscription
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{}(", s.field)))
                .unwrap_or_else(|| panic!("no {} subscription", s.field));
            assert!(
                line.contains(&format!("{}: UUID!", s.analysis_argument)),
                "{line}"
            );
            if let Some(own) = s.own_when_given {
                assert!(line.contains(&format!("{own}:")), "{line}");
            }
        }
    }
}
