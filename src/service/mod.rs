//! Use cases: each runs one transaction over the database and applies the domain rules, then
//! tells the cache and the live layer. Callers (GraphQL, CLI) pass inputs in domain terms and an
//! explicit `now`. Also the repositories that remember across requests: dashboards (read-through,
//! single flight), platform KPI tickers, report rate limits.

pub mod auth;
pub mod confirmations;
pub mod dashboards;
pub mod documents;
pub mod history;
pub mod jwks;
pub mod limiter;
pub mod live;
pub mod persisted;
pub mod platform;
pub mod publish;
pub mod rate_limit;
pub mod recent_urls;
pub mod record_analysis;
pub mod reports;
pub mod seed;
pub mod settings;
pub mod update_progress;

use std::num::NonZeroU32;
use std::sync::Arc;

use crate::state::Resources;
use auth::{AuthSetupError, Authenticator};
use confirmations::ConfirmationLimits;
use dashboards::Dashboards;
use documents::DocumentLimits;
use platform::PlatformKpis;
use rate_limit::RateLimit;

/// What resolvers, handlers and background tasks call: the shared state and the repositories
/// built on it. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub state: Resources,
    /// Read-through dashboards over the cache.
    pub dashboards: Arc<Dashboards>,
    pub platform: Arc<PlatformKpis>,
    pub document_limits: Arc<DocumentLimits>,
    /// Bearer tokens, verified and remembered.
    pub auth: Arc<Authenticator>,
    /// Confirmation emails per caller.
    pub confirmation_limits: Arc<ConfirmationLimits>,
    /// Requests per client address and per token subject.
    pub rate_limit: Arc<RateLimit>,
}

impl Services {
    /// Fails when tokens cannot be checked as configured (`AUTH_MODE=jwt` without a key).
    pub fn new(state: Resources) -> Result<Self, AuthSetupError> {
        let config = &state.config;
        Ok(Self {
            auth: Arc::new(Authenticator::new(config)?),
            confirmation_limits: Arc::default(),
            rate_limit: Arc::new(RateLimit::new(
                config.limits.rate_limit_per_minute,
                state.redis.clone(),
            )),
            dashboards: Arc::new(Dashboards::new(
                state.pool.clone(),
                state.replica.clone(),
                state.cache.clone(),
            )),
            platform: Arc::new(PlatformKpis::new(
                state.pool.clone(),
                state.clock.clone(),
                config.live.platform_kpi_tick,
            )),
            document_limits: Arc::new(DocumentLimits::new(
                positive(config.limits.reports_per_client_per_minute),
                positive(config.limits.reports_per_analysis_per_minute),
            )),
            state,
        })
    }
}

impl Services {
    /// Whether the database answers a trivial query (readiness).
    pub async fn database_answers(&self) -> crate::error::AppResult<()> {
        crate::db::ping(&self.state.pool).await
    }
}

fn positive(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}
