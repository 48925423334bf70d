//! The composition root: builds the shared state and the services on it, wires the router, and
//! starts the background tasks (outbox relay, report scheduler, cache warm-up, stats). Nothing
//! else in the crate imports this module.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::net::{TcpListener, TcpSocket};

use crate::cache::memory::MemoryCache;
use crate::cache::redis::RedisCache;
use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::config::{AuthMode, Config};
use crate::db::replica::Replica;
use crate::db::{self, StatementCounter};
use crate::domain::persisted::Manifest;
use crate::error::BoxError;
use crate::events::memory::MemoryBus;
use crate::events::redis::RedisBus;
use crate::events::{EventBus, Hub};
use crate::graphql::response_cache::ResponseCache;
use crate::graphql::{self, parsed::DocumentCache, pipeline::Pipeline};
use crate::http::{ws::WsGate, App, AppData};
use crate::redis_link::Redis;
use crate::reports::Reports;
use crate::service::dashboards::Dashboards;
use crate::service::persisted::PersistedDocuments;
use crate::service::{self, Services};
use crate::state::Resources;

/// Migrates (when configured to), opens the pool, and starts the live layer's tasks.
pub async fn build(config: Config, clock: SharedClock) -> Result<App, BoxError> {
    let state = state(config, clock).await?;
    let services = Services::new(state.clone())?;
    if state.config.auth.mode == AuthMode::Open {
        tracing::warn!(
            "AUTH_MODE=open: anyone who reaches this server may read and change every analysis"
        );
    }
    let persisted = persisted_documents(&state)?;
    spawn_tasks(&services);
    tracing::info!(
        cache = state.cache.as_ref().map_or("off", |c| c.kind()),
        event_bus = state.bus.kind(),
        mail = %state.reports.mailer.describe(),
        "live layer ready"
    );
    Ok(App::new(AppData {
        pipeline: Arc::new(Pipeline {
            schema: graphql::build_schema(Some(services.clone())),
            prevalidated: graphql::build_prevalidated_schema(Some(services.clone())),
            documents: DocumentCache::default(),
            persisted: Arc::new(persisted),
            dashboards: services.dashboards.clone(),
            response_cache: ResponseCache::new(
                state.config.cache.responses_mb << 20,
                &services.dashboards,
            ),
            clock: state.clock.clone(),
        }),
        shared: Default::default(),
        ws_gate: Arc::new(WsGate::new(
            state.config.limits.ws_max_connections,
            state.config.limits.ws_max_connections_per_client,
        )),
        config: state.config.clone(),
        metrics: crate::telemetry::metrics_render(&services),
        stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        services,
    }))
}

/// The trusted documents (`TRUSTED_DOCUMENTS`: a manifest that does not read, or whose ids are
/// not its documents' hashes, stops the server here), else the automatic persisted queries'
/// store.
fn persisted_documents(state: &Resources) -> Result<PersistedDocuments, BoxError> {
    let trusted = match &state.config.server.trusted_documents {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("TRUSTED_DOCUMENTS {}: {e}", path.display()))?;
            let manifest = Manifest::parse(&text)
                .map_err(|e| format!("TRUSTED_DOCUMENTS {}: {e}", path.display()))?;
            tracing::info!(documents = manifest.len(), "trusted documents only");
            Some(manifest)
        }
    };
    Ok(PersistedDocuments::new(trusted, state.redis.clone()))
}

/// The shared state: the pool, Redis (when configured) for the cache and the bus, or their
/// in-process twins, and the mailer.
/// The Redis the configuration names: one server, a cluster, or none.
fn redis_of(config: &Config) -> Result<Option<Redis>, BoxError> {
    let (prefix, timeout) = (&config.redis.prefix, config.redis.timeout);
    if let Some(nodes) = &config.redis.cluster_nodes {
        let nodes = crate::config::read::split_nodes(nodes.expose_secret());
        return Ok(Some(Redis::cluster(&nodes, prefix, timeout)?));
    }
    config
        .redis
        .url
        .as_ref()
        .map(|url| Redis::new(url.expose_secret(), prefix, timeout))
        .transpose()
}

async fn state(config: Config, clock: SharedClock) -> Result<Resources, BoxError> {
    if config.database.migrate_on_start {
        let report = db::migrate::run(config.database.url.expose_secret()).await?;
        tracing::info!(applied = ?report.applied, catalog = ?report.catalog, "database migrated");
        if !report.catalog.untranslated.is_empty() {
            let missing = &report.catalog.untranslated;
            tracing::warn!(
                ?missing,
                "badge catalog: untranslated words are shown in French"
            );
        }
    }
    let statements = StatementCounter::default();
    let pool = db::pool::build(&config, statements.clone()).await?;
    let replica = match &config.database.replica_url {
        Some(url) => {
            let replica_pool =
                db::pool::build_for(url.expose_secret(), &config, statements.clone()).await?;
            Some(Replica::start(
                replica_pool,
                config.database.replica_max_lag,
            ))
        }
        None => None,
    };
    let redis = redis_of(&config)?;
    let hub = Arc::new(Hub::default());
    let bus: Arc<dyn EventBus> = match &redis {
        Some(r) => Arc::new(RedisBus::start(r.clone(), hub.clone())),
        None => Arc::new(MemoryBus::new(hub.clone())),
    };
    let cache: Option<Arc<dyn Cache>> = match (&redis, config.cache.enabled) {
        (_, false) => None,
        (Some(r), true) => Some(Arc::new(RedisCache::new(r.clone()))),
        (None, true) => Some(Arc::new(MemoryCache::new(config.cache.memory_mb << 20))),
    };
    Ok(Resources {
        reports: Arc::new(Reports::new(&config)?),
        config: Arc::new(config),
        pool,
        replica,
        clock,
        statements,
        cache,
        bus,
        hub,
        counts: Arc::default(),
        redis,
    })
}

fn spawn_tasks(services: &Services) {
    let config = &services.state.config;
    if config.reports.scheduler {
        service::reports::spawn_scheduler(services.clone(), config.reports.scheduler_interval);
    }
    service::publish::spawn_outbox_relay(services.clone(), config.live.outbox_relay_interval);
    service::auth::spawn_revocation_listener(services);
    service::auth::spawn_key_refresher(&services.auth);
    spawn_warm_up(services.dashboards.clone(), config.cache.warm_count);
    spawn_stats_log(services.clone(), Duration::from_secs(60));
    crate::telemetry::spawn_metrics_upkeep();
    spawn_series_export(services.clone());
}

/// Every series at zero from the start, the catalog's badges included (read once here; a badge
/// added later appears with its first award).
fn spawn_series_export(services: Services) {
    crate::series::export_all();
    tokio::spawn(async move {
        match services.dashboards.catalog().await {
            Ok(catalog) => {
                let slugs: Vec<&str> = catalog.iter().map(|b| b.slug.as_str()).collect();
                crate::series::export_badges(&slugs);
            }
            Err(e) => tracing::warn!(error = %e, "badge series not exported at start"),
        }
    });
}

/// Binds `HOST:PORT` (port 0 picks a free one) with a deep accept queue: with the default of 128,
/// a burst of connections (1,000 clients at once) overflowed it and the dropped SYNs came back a
/// second later (TCP's retransmit), as 1 s latencies. The kernel caps the queue at
/// `net.core.somaxconn`.
pub async fn bind(config: &Config) -> std::io::Result<TcpListener> {
    const ACCEPT_BACKLOG: u32 = 4096;
    let addr = SocketAddr::new(config.server.host, config.server.port);
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: `/ready` turns 503 and sockets close with 1001 at once, requests are still
    /// answered for `SHUTDOWN_DRAIN_MS` (load balancers notice), then the server stops accepting.
    Drain,
    /// Ctrl-C: the same without the wait.
    Now,
}

/// Serves until `shutdown` says how to stop; then requests in flight finish and the outbox is
/// flushed (events committed but not yet published go out now, not from another instance's
/// relay later).
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = Stop> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = app.config.server.header_timeout;
    let services = app.services.clone();
    let (stopping, drain) = (app.stopping.clone(), app.config.server.shutdown_drain);
    let shutdown = async move {
        let stop = shutdown.await;
        tracing::info!(
            ?stop,
            "stopping: /ready answers 503, WebSocket clients are sent 1001"
        );
        stopping.send_replace(true);
        if stop == Stop::Drain {
            tokio::time::sleep(drain).await;
        }
    };
    if let Some(addr) = app.config.telemetry.metrics_addr {
        let listener = TcpListener::bind(addr).await?;
        tracing::info!(%addr, "metrics listening");
        let router = crate::http::metrics_router(app.metrics.clone());
        let forever = std::future::pending();
        tokio::spawn(crate::http::serve::serve(
            listener,
            router,
            header_timeout,
            forever,
        ));
    }
    let router = crate::http::router(app);
    crate::http::serve::serve(listener, router, header_timeout, shutdown).await?;
    service::publish::flush_outbox(&services).await;
    Ok(())
}

fn spawn_warm_up(dashboards: Arc<Dashboards>, count: i64) {
    if count <= 0 {
        return;
    }
    tokio::spawn(async move {
        match dashboards.warm(count).await {
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
            let s = &services.dashboards.stats;
            let c = &services.state.counts;
            tracing::info!(
                cache_hits = s.hits.load(Ordering::Relaxed),
                cache_misses = s.to_database(),
                cache_hit_rate = services.dashboards.hit_rate(),
                websocket_connections = c.websocket_connections.load(Ordering::Relaxed),
                badge_awarded_subscribers = c.badge_awarded.load(Ordering::Relaxed),
                kpi_updated_subscribers = c.kpi_updated.load(Ordering::Relaxed),
                "stats"
            );
        }
    });
}
