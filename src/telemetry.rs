//! Logs: JSON lines by default (with the request id of the span they happen in), or pretty.
//! Traces: see `traces`.
//! Metrics: the Prometheus recorder behind the `series` the service records, and `/metrics`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use metrics::{counter, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

use crate::config::{Config, LogFormat};
use crate::http::MetricsRender;
use crate::service::Services;

/// Logs to stderr, and traces over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn init(config: &Config) -> Telemetry {
    let mut filter =
        EnvFilter::try_new(&config.telemetry.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    // The breaker says "Redis unavailable" once an outage; the Redis client itself would warn on
    // every try to reach a cluster node. Its errors stay, and LOG_LEVEL may ask for the rest.
    if !config.telemetry.log_level.contains("redis") {
        if let Ok(quiet) = "redis=error".parse() {
            filter = filter.add_directive(quiet);
        }
    }
    let traces = config.telemetry.otel_traces.then(crate::traces::layer);
    // Already initialised (tests start several servers in one process): keep the first.
    let (installed, provider) = match traces {
        None => (logs_only(config, filter), None),
        Some(Ok((layer, provider))) => (logs_and_traces(config, filter, layer), Some(provider)),
        Some(Err(e)) => {
            let installed = logs_only(config, filter);
            tracing::error!(error = %e, "traces are not exported: the OTLP exporter could not be set up");
            (installed, None)
        }
    };
    Telemetry {
        provider: provider.filter(|_| installed),
    }
}

/// One global filter in front of the log formatter: what a request costs the least.
fn logs_only(config: &Config, filter: EnvFilter) -> bool {
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.telemetry.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    }
    .is_ok()
}

/// Each layer with its own filter: the log level does not decide which spans are exported.
fn logs_and_traces(
    config: &Config,
    filter: EnvFilter,
    traces: Box<dyn Layer<Registry> + Send + Sync>,
) -> bool {
    let logs = match config.telemetry.log_format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(vec![logs, traces])
        .try_init()
        .is_ok()
}

/// What must outlive the server: the trace exporter, whose last spans are sent at `shutdown`.
#[must_use]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            // it blocks until its thread has sent the last batch, which needs the runtime
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

/// The process's Prometheus recorder: installed once (tests start several servers in one
/// process, which then share it), with histogram buckets for the `_seconds` series.
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        const BUCKETS: &[f64] = &[
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .expect("buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // a recorder set before (by an embedding program) keeps its place; ours then renders empty
        if metrics::set_global_recorder(recorder).is_ok() {
            crate::series::describe_all();
            crate::series::build_info(crate::release::VERSION, crate::release::COMMIT);
        }
        handle
    })
}

/// `/metrics`: the figures `serviceStats` reads, copied in at each scrape, then every series in
/// Prometheus text format.
pub fn metrics_render(services: &Services) -> MetricsRender {
    let handle = recorder();
    let services = services.clone();
    Arc::new(move || {
        collect(&services);
        handle.render()
    })
}

/// Folds histogram samples into their buckets every few seconds, so that they take no more
/// memory between scrapes (or without any).
pub fn spawn_metrics_upkeep() {
    let handle = recorder();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    });
}

fn collect(services: &Services) {
    let stats = &services.dashboards.stats;
    let tier = match services.dashboards.cache().map(|c| c.kind()) {
        Some("redis") => "redis",
        _ => "memory",
    };
    for (result, n) in [
        ("hit", stats.hits.load(Ordering::Relaxed)),
        ("miss", stats.misses.load(Ordering::Relaxed)),
        ("error", stats.errors.load(Ordering::Relaxed)),
    ] {
        counter!("cache_requests_total", "tier" => tier, "result" => result).absolute(n);
    }
    let answers = &services.dashboards.answer_stats;
    for (result, n) in [
        ("hit", answers.hits.load(Ordering::Relaxed)),
        ("miss", answers.misses.load(Ordering::Relaxed)),
    ] {
        counter!("answers_requests_total", "result" => result).absolute(n);
    }
    if services.state.redis.is_some() {
        let up = !services.dashboards.redis_down();
        gauge!("cache_redis_up").set(if up { 1.0 } else { 0.0 });
    }
    if let Some(replica) = &services.state.replica {
        crate::series::replica_lag(replica.lag());
        crate::series::replica_in_use(replica.reader().is_some());
    }
    let pool = services.state.pool.state();
    let idle = f64::from(pool.idle_connections);
    gauge!("db_pool_connections", "state" => "idle").set(idle);
    gauge!("db_pool_connections", "state" => "in_use").set(f64::from(pool.connections) - idle);
    let live = &services.state.counts;
    gauge!("websocket_connections").set(live.websocket_connections.load(Ordering::Relaxed) as f64);
    for (kind, n) in [
        ("badge_awarded", live.badge_awarded.load(Ordering::Relaxed)),
        ("kpi_updated", live.kpi_updated.load(Ordering::Relaxed)),
    ] {
        gauge!("subscriptions_active", "kind" => kind).set(n as f64);
    }
    let platform: usize = services.platform.subscribers().iter().map(|(_, n)| n).sum();
    gauge!("subscriptions_active", "kind" => "platform_kpis").set(platform as f64);
}
