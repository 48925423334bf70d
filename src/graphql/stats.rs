//! `serviceStats`: cache and live figures of the instance that answers (an admin query).

use std::sync::atomic::Ordering;

use async_graphql::{Context, Object, Result, SimpleObject};

use super::subscription::KpiPeriod;
use crate::service::Services;

/// Dashboard cache figures since this instance started.
#[derive(SimpleObject)]
pub struct CacheStats {
    /// "redis", "in-process" or "off".
    pub backend: String,
    /// Dashboard reads served from the cache.
    pub hits: u64,
    /// Dashboard reads that went to PostgreSQL.
    pub misses: u64,
    /// hits / (hits + misses), 0..1; null before the first read.
    pub hit_rate: Option<f64>,
    /// Memory the cache backend uses (Redis `used_memory`), when known.
    pub used_memory_bytes: Option<u64>,
    /// Whether Redis is currently unreachable (reads then go to PostgreSQL).
    pub redis_down: bool,
}

/// Listeners of one platform KPI period.
#[derive(SimpleObject)]
pub struct PeriodSubscribers {
    /// The period.
    pub period: KpiPeriod,
    /// Live subscriptions to it on this instance.
    pub subscribers: i32,
}

/// Live connection and subscription counts of this instance.
#[derive(SimpleObject)]
pub struct LiveStats {
    /// "redis" or "in-process".
    pub event_bus: String,
    /// Open WebSocket connections.
    pub websocket_connections: i64,
    /// Live `badgeAwarded` subscriptions.
    pub badge_awarded_subscribers: i64,
    /// Live `kpiUpdated` subscriptions.
    pub kpi_updated_subscribers: i64,
    /// Analyses with at least one live subscriber here.
    pub watched_analyses: i32,
    /// Live `platformKpis` subscriptions, per period.
    pub platform_kpis: Vec<PeriodSubscribers>,
    /// Platform KPI computations so far (one per tick per period with listeners).
    pub platform_kpi_computations: u64,
}

/// The instance's cache and live figures.
pub struct ServiceStats;

#[Object]
impl ServiceStats {
    /// Dashboard cache figures.
    async fn cache(&self, ctx: &Context<'_>) -> Result<CacheStats> {
        let s = ctx.data::<Services>()?;
        let cache = s.dashboards.cache();
        Ok(CacheStats {
            backend: cache.map_or("off", |c| c.kind()).to_owned(),
            hits: s.dashboards.stats.hits.load(Ordering::Relaxed),
            misses: s.dashboards.stats.to_database(),
            hit_rate: s.dashboards.hit_rate(),
            used_memory_bytes: match cache {
                Some(c) => c.used_memory().await,
                None => None,
            },
            redis_down: s.dashboards.redis_down(),
        })
    }

    /// Live connections and subscriptions.
    async fn live(&self, ctx: &Context<'_>) -> Result<LiveStats> {
        let s = ctx.data::<Services>()?;
        let c = &s.state.counts;
        Ok(LiveStats {
            event_bus: s.state.bus.kind().to_owned(),
            websocket_connections: c.websocket_connections.load(Ordering::Relaxed),
            badge_awarded_subscribers: c.badge_awarded.load(Ordering::Relaxed),
            kpi_updated_subscribers: c.kpi_updated.load(Ordering::Relaxed),
            watched_analyses: s.state.hub.channel_count().try_into().unwrap_or(i32::MAX),
            platform_kpis: s
                .platform
                .subscribers()
                .into_iter()
                .map(|(p, n)| PeriodSubscribers {
                    period: p.into(),
                    subscribers: n.try_into().unwrap_or(i32::MAX),
                })
                .collect(),
            platform_kpi_computations: s.platform.computations(),
        })
    }
}
