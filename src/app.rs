//! Shared state and the server's life cycle.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};

use crate::cache::memory::MemoryCache;
use crate::cache::redis::RedisCache;
use crate::cache::store::Store;
use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::{self, DbPool, StatementCounter};
use crate::error::BoxError;
use crate::events::memory::MemoryBus;
use crate::events::platform::PlatformKpis;
use crate::events::redis::RedisBus;
use crate::events::{EventBus, Hub};
use crate::graphql::parsed::KnownDocuments;
use crate::graphql::{self, AppSchema};
use crate::http::ws::WsGate;
use crate::redis_link::Redis;
use crate::reports::Reports;
use crate::service::documents::DocumentLimits;

/// Live connection and subscription counts of this instance.
#[derive(Debug, Default)]
pub struct LiveCounts {
    pub websocket_connections: AtomicI64,
    pub badge_awarded: AtomicI64,
    pub kpi_updated: AtomicI64,
}

/// Holds a count up while alive.
pub struct CountGuard(Arc<LiveCounts>, fn(&LiveCounts) -> &AtomicI64);

impl CountGuard {
    pub fn new(counts: &Arc<LiveCounts>, which: fn(&LiveCounts) -> &AtomicI64) -> Self {
        which(counts).fetch_add(1, Ordering::Relaxed);
        Self(counts.clone(), which)
    }
}

impl Drop for CountGuard {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::Relaxed);
    }
}

/// What resolvers and handlers share.
#[derive(Clone)]
pub struct Services {
    pub pool: DbPool,
    pub clock: SharedClock,
    pub statements: StatementCounter,
    /// Read-through dashboards over the cache.
    pub store: Arc<Store>,
    /// Carries events between instances.
    pub bus: Arc<dyn EventBus>,
    /// This instance's subscribers, per analysis.
    pub hub: Arc<Hub>,
    pub platform: Arc<PlatformKpis>,
    pub counts: Arc<LiveCounts>,
    /// Email reports and documents.
    pub reports: Arc<Reports>,
    pub document_limits: Arc<DocumentLimits>,
}

/// A built server, ready to serve on any listener.
#[derive(Clone)]
pub struct App {
    pub services: Services,
    pub schema: AppSchema,
    /// The same schema for requests known to be valid (it skips the validation they passed).
    pub prevalidated: AppSchema,
    /// Parsed documents and the requests known to be valid, for the HTTP path.
    pub known: KnownDocuments,
    /// WebSocket connections held, per instance and per client address.
    pub ws_gate: Arc<WsGate>,
    pub config: Config,
}

impl App {
    /// Migrates (when configured to), opens the pool, and starts the live layer's tasks.
    pub async fn build(config: Config, clock: SharedClock) -> Result<Self, BoxError> {
        if config.migrate_on_start {
            let report = db::migrate::run(&config.database_url).await?;
            tracing::info!(applied = ?report.applied, catalog = ?report.catalog, "database migrated");
        }
        let statements = StatementCounter::default();
        let pool = db::pool::build(&config, statements.clone()).await?;
        let redis = config
            .redis_url
            .as_deref()
            .map(|url| Redis::new(url, &config.redis_prefix, config.redis_timeout))
            .transpose()?;
        let hub = Arc::new(Hub::default());
        let bus: Arc<dyn EventBus> = match &redis {
            Some(r) => Arc::new(RedisBus::start(r.clone(), hub.clone())),
            None => Arc::new(MemoryBus::new(hub.clone())),
        };
        let cache: Option<Arc<dyn Cache>> = match (&redis, config.cache_enabled) {
            (_, false) => None,
            (Some(r), true) => Some(Arc::new(RedisCache::new(r.clone()))),
            (None, true) => Some(Arc::new(MemoryCache::new(config.cache_memory_mb << 20))),
        };
        let store = Arc::new(Store::new(pool.clone(), cache));
        store.spawn_pending_flusher();
        let services = Services {
            platform: Arc::new(PlatformKpis::new(
                pool.clone(),
                clock.clone(),
                config.platform_kpi_tick,
            )),
            pool,
            clock,
            statements,
            store,
            bus,
            hub,
            counts: Arc::default(),
            reports: Arc::new(Reports::new(&config)?),
            document_limits: Arc::new(DocumentLimits::new(
                positive(config.reports_per_client_per_minute),
                positive(config.reports_per_analysis_per_minute),
            )),
        };
        if config.reports_scheduler {
            crate::service::reports::spawn_scheduler(
                services.clone(),
                config.reports_scheduler_interval,
            );
        }
        crate::service::publish::spawn_outbox_relay(services.clone(), config.outbox_relay_interval);
        spawn_warm_up(services.store.clone(), config.cache_warm_count);
        spawn_stats_log(services.clone(), Duration::from_secs(60));
        tracing::info!(
            cache = services.store.cache().map_or("off", |c| c.kind()),
            event_bus = services.bus.kind(),
            mail = %services.reports.mailer.describe(),
            "live layer ready"
        );
        Ok(Self {
            schema: graphql::build_schema(Some(services.clone())),
            prevalidated: graphql::build_prevalidated_schema(Some(services.clone())),
            known: KnownDocuments::default(),
            ws_gate: Arc::new(WsGate::new(
                config.ws_max_connections,
                config.ws_max_connections_per_client,
            )),
            services,
            config,
        })
    }

    /// Binds `HOST:PORT` (port 0 picks a free one) with a deep accept queue: with the default
    /// of 128, a burst of connections (1,000 clients at once) overflowed it and the dropped SYNs
    /// came back a second later (TCP's retransmit), as 1 s latencies. The kernel caps the queue
    /// at `net.core.somaxconn`.
    pub async fn bind(&self) -> std::io::Result<TcpListener> {
        const ACCEPT_BACKLOG: u32 = 4096;
        let addr = SocketAddr::new(self.config.host, self.config.port);
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(ACCEPT_BACKLOG)
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let header_timeout = self.config.http_header_timeout;
        let router = crate::http::router(self);
        crate::http::serve::serve(listener, router, header_timeout, shutdown).await
    }
}

fn positive(n: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN)
}

fn spawn_warm_up(store: Arc<Store>, count: i64) {
    if count <= 0 {
        return;
    }
    tokio::spawn(async move {
        match store.warm(count).await {
            Ok(n) => tracing::info!(dashboards = n, "cache warmed"),
            Err(e) => tracing::warn!(error = %e, "cache warm-up failed"),
        }
    });
}

/// Logs cache and live figures once a minute.
fn spawn_stats_log(services: Services, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let s = &services.store.stats;
            let c = &services.counts;
            tracing::info!(
                cache_hits = s.hits.load(Ordering::Relaxed),
                cache_misses = s.misses.load(Ordering::Relaxed),
                cache_hit_rate = services.store.hit_rate(),
                websocket_connections = c.websocket_connections.load(Ordering::Relaxed),
                badge_awarded_subscribers = c.badge_awarded.load(Ordering::Relaxed),
                kpi_updated_subscribers = c.kpi_updated.load(Ordering::Relaxed),
                "stats"
            );
        }
    });
}
