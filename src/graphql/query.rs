//! The Query root.

use async_graphql::ErrorExtensions as _;
use async_graphql::{Context, Object, Result};
use uuid::Uuid;

use super::access;
use super::dashboard::Dashboard;
use super::loaders::{CatalogKey, DashboardKey, Loaders};
use super::reads;
use super::subscription::{KpiPeriod, PlatformKpis};
use super::types::BadgeDefinition;
use crate::domain::ids::AnalysisId;
use crate::error::AppError;

/// Most ids one `dashboards` call takes.
pub const MAX_DASHBOARD_IDS: usize = 100;

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// One analysis' dashboard. Unknown id: error ANALYSIS_NOT_FOUND.
    async fn dashboard(&self, ctx: &Context<'_>, analysis_id: Uuid) -> Result<Dashboard> {
        let analysis_id = AnalysisId::from(analysis_id);
        access::read(ctx, analysis_id)?;
        let now = reads::Now::of(ctx)?;
        let data = ctx
            .data::<Loaders>()?
            .load_one(DashboardKey(analysis_id))
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| AppError::AnalysisNotFound(analysis_id).extend())?;
        Ok(Dashboard::new(data, now))
    }

    /// Several dashboards in one round trip (unknown ids, and those the caller may not see, are skipped; at most 100 ids).
    #[graphql(complexity = "analysis_ids.len() * child_complexity + 1")]
    async fn dashboards(
        &self,
        ctx: &Context<'_>,
        analysis_ids: Vec<Uuid>,
    ) -> Result<Vec<Dashboard>> {
        if analysis_ids.len() > MAX_DASHBOARD_IDS {
            return Err(AppError::invalid_input(format!(
                "analysisIds takes at most {MAX_DASHBOARD_IDS} ids, got {}",
                analysis_ids.len()
            ))
            .extend());
        }
        access::known(ctx)?;
        let analysis_ids: Vec<AnalysisId> = analysis_ids
            .into_iter()
            .map(AnalysisId::from)
            .filter(|id| access::sees(ctx, *id))
            .collect();
        let now = reads::Now::of(ctx)?;
        let mut found = ctx
            .data::<Loaders>()?
            .load_many(analysis_ids.iter().copied().map(DashboardKey))
            .await
            .map_err(|e| e.extend())?;
        // In the order asked, each id once.
        let mut out = Vec::with_capacity(found.len());
        for id in &analysis_ids {
            if let Some(d) = found.remove(&DashboardKey(*id)) {
                out.push(Dashboard::new(d, now.clone()));
            }
        }
        Ok(out)
    }

    /// The analysis recorded for this normalised URL in the last 7 days, or null; records nothing (admin).
    async fn recent_analysis(&self, ctx: &Context<'_>, url: String) -> Result<Option<Dashboard>> {
        access::admin(ctx)?;
        // a new analysis of the site, or the window closing, changes the answer
        reads::unrepeatable(ctx);
        let services = ctx.data::<crate::service::Services>()?;
        let at = services.state.clock.now();
        let Some(id) = crate::service::history::recent_analysis(services, &url, at)
            .await
            .map_err(|e| e.extend())?
        else {
            return Ok(None);
        };
        let data = ctx
            .data::<Loaders>()?
            .load_one(DashboardKey(id))
            .await
            .map_err(|e| e.extend())?;
        Ok(data.map(|d| Dashboard::new(d, reads::Now::unrecorded(at))))
    }

    /// Platform KPIs for every period ending in [from, to], oldest first, at most 1,000 (admin).
    #[graphql(complexity = "1_000 * child_complexity + 1")]
    async fn platform_kpi_history(
        &self,
        ctx: &Context<'_>,
        period: KpiPeriod,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<PlatformKpis>> {
        access::admin(ctx)?;
        // the platform moves with every analysis: never served again
        reads::unrepeatable(ctx);
        let services = ctx.data::<crate::service::Services>()?;
        let points =
            crate::service::platform::history(&services.state.pool, period.into(), from, to)
                .await
                .map_err(|e| e.extend())?;
        Ok(points
            .iter()
            .map(|p| PlatformKpis::new(period, p))
            .collect())
    }

    /// Cache and live figures of the instance that answers (admin).
    async fn service_stats(&self, ctx: &Context<'_>) -> Result<super::stats::ServiceStats> {
        access::admin(ctx)?;
        reads::unrepeatable(ctx);
        Ok(super::stats::ServiceStats)
    }

    /// The active badge catalog, in display order.
    #[graphql(complexity = "crate::domain::badge::MAX_BADGES * child_complexity + 1")]
    async fn badge_catalog(&self, ctx: &Context<'_>) -> Result<Vec<BadgeDefinition>> {
        access::known(ctx)?;
        let catalog = ctx
            .data::<Loaders>()?
            .load_one(CatalogKey)
            .await
            .map_err(|e| e.extend())?
            .unwrap_or_default();
        let lang = super::language::requested(ctx);
        Ok(catalog
            .iter()
            .map(|b| BadgeDefinition::new(b, lang))
            .collect())
    }
}
