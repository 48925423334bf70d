//! Configuration from environment variables, each with a documented default (see README).

use std::env;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default: what log shippers want).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/progress_dashboard`.
    pub database_url: String,
    /// `HOST`, default `0.0.0.0`.
    pub host: IpAddr,
    /// `PORT`, default 8000; 0 picks a free port.
    pub port: u16,
    /// `LOG_LEVEL` (an `EnvFilter` directive), default `info`.
    pub log_level: String,
    /// `LOG_FORMAT`, `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// `DATABASE_POOL_SIZE`, default 16.
    pub db_pool_size: u32,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`, default 5000.
    pub db_statement_timeout: Duration,
    /// `DATABASE_CONNECT_TIMEOUT_MS`: how long a request waits for a pooled connection, default 3000.
    pub db_connect_timeout: Duration,
    /// `REQUEST_TIMEOUT_MS`, default 30000.
    pub request_timeout: Duration,
    /// `MIGRATE_ON_START`, default true.
    pub migrate_on_start: bool,
    /// `REDIS_URL`; unset: an in-process cache and event bus (a single instance).
    pub redis_url: Option<String>,
    /// `REDIS_PREFIX`, default `pd:`: every key and channel starts with it.
    pub redis_prefix: String,
    /// `REDIS_TIMEOUT_MS`, default 250: the longest wait on Redis before answering from PostgreSQL.
    pub redis_timeout: Duration,
    /// `CACHE_ENABLED`, default true.
    pub cache_enabled: bool,
    /// `CACHE_MEMORY_MB`, default 256: the in-process cache's size.
    pub cache_memory_mb: u64,
    /// `CACHE_WARM_COUNT`, default 100: dashboards loaded into the cache at start-up.
    pub cache_warm_count: i64,
    /// `WS_MAX_OPERATIONS`, default 20: live operations per WebSocket connection.
    pub ws_max_operations: usize,
    /// `WS_INIT_TIMEOUT_MS`, default 10000: time allowed for `connection_init`.
    pub ws_init_timeout: Duration,
    /// `WS_PING_INTERVAL_MS`, default 25000: server keep-alive pings.
    pub ws_ping_interval: Duration,
    /// `PLATFORM_KPI_TICK_MS`: overrides the tick of every platform KPI period (tests, demos).
    pub platform_kpi_tick: Option<Duration>,
    /// `OUTBOX_RELAY_MS`, default 1000: how often the outbox relay sweeps.
    pub outbox_relay_interval: Duration,
    /// `PUBLIC_URL`, default `http://localhost:PORT`: the base of links in emails and reports.
    pub public_url: String,
    /// `DASHBOARD_URL`, default `{publicUrl}/toasts?analysisId={analysisId}`: the front end's
    /// dashboard link in emails.
    pub dashboard_url: String,
    /// `REPORT_TOKEN_SECRET`: signs unsubscribe links (set it in production; a random one otherwise).
    pub report_token_secret: Option<String>,
    /// `SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or `smtps://user:pass@host`; unset: `.eml` files.
    pub smtp_url: Option<String>,
    /// `SMTP_FROM`, default `Progress Dashboard <reports@localhost>`.
    pub smtp_from: String,
    /// `REPORTS_OUTBOX_DIR`, default `outbox`: where `.eml` files go without SMTP.
    pub reports_outbox_dir: std::path::PathBuf,
    /// `REPORTS_SCHEDULER`, default true: send due reports from this instance.
    pub reports_scheduler: bool,
    /// `REPORTS_SCHEDULER_INTERVAL_MS`, default 60000.
    pub reports_scheduler_interval: Duration,
    /// `REPORT_RETRY_BASE_MS`, default 1000: the first retry's wait (then doubled).
    pub report_retry_base: Duration,
    /// `MAX_BODY_BYTES`, default 262144 (256 KiB): the largest request body (413 beyond).
    pub max_body_bytes: usize,
    /// `HTTP_HEADER_TIMEOUT_MS`, default 10000: time allowed for a request's headers, and for
    /// an idle keep-alive connection's next request.
    pub http_header_timeout: Duration,
    /// `MAX_REQUESTS_IN_FLIGHT`, default 1024: more at once are shed with 503 and `Retry-After`.
    pub max_requests_in_flight: usize,
    /// `WS_MAX_CONNECTIONS`, default 50000: WebSocket connections per instance.
    pub ws_max_connections: usize,
    /// `WS_MAX_CONNECTIONS_PER_CLIENT`, default 256: WebSocket connections per client address.
    pub ws_max_connections_per_client: usize,
    /// `WS_SEND_TIMEOUT_MS`, default 10000: a reader slower than this for one message is dropped.
    pub ws_send_timeout: Duration,
    /// `ALLOWED_ORIGINS`: comma-separated origins that browsers may call from (CORS) and open
    /// WebSockets from, besides the server's own; `*` allows any. Default: none.
    pub allowed_origins: Vec<String>,
    /// `REPORTS_PER_CLIENT_PER_MINUTE`, default 5: rendered documents per client address.
    pub reports_per_client_per_minute: u32,
    /// `REPORTS_PER_ANALYSIS_PER_MINUTE`, default 60: rendered documents per analysis, all
    /// clients together.
    pub reports_per_analysis_per_minute: u32,
}

impl fmt::Debug for Config {
    // The database URL may hold a password: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &"<redacted>")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("db_pool_size", &self.db_pool_size)
            .field("db_statement_timeout", &self.db_statement_timeout)
            .field("db_connect_timeout", &self.db_connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<redacted>"))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_timeout", &self.redis_timeout)
            .field("cache_enabled", &self.cache_enabled)
            .field("cache_memory_mb", &self.cache_memory_mb)
            .field("cache_warm_count", &self.cache_warm_count)
            .field("ws_max_operations", &self.ws_max_operations)
            .field("ws_init_timeout", &self.ws_init_timeout)
            .field("ws_ping_interval", &self.ws_ping_interval)
            .field("platform_kpi_tick", &self.platform_kpi_tick)
            .field("outbox_relay_interval", &self.outbox_relay_interval)
            .field("public_url", &self.public_url)
            .field("dashboard_url", &self.dashboard_url)
            .field(
                "report_token_secret",
                &self.report_token_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("smtp_from", &self.smtp_from)
            .field("reports_outbox_dir", &self.reports_outbox_dir)
            .field("reports_scheduler", &self.reports_scheduler)
            .field(
                "reports_scheduler_interval",
                &self.reports_scheduler_interval,
            )
            .field("report_retry_base", &self.report_retry_base)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("http_header_timeout", &self.http_header_timeout)
            .field("max_requests_in_flight", &self.max_requests_in_flight)
            .field("ws_max_connections", &self.ws_max_connections)
            .field(
                "ws_max_connections_per_client",
                &self.ws_max_connections_per_client,
            )
            .field("ws_send_timeout", &self.ws_send_timeout)
            .field("allowed_origins", &self.allowed_origins)
            .field(
                "reports_per_client_per_minute",
                &self.reports_per_client_per_minute,
            )
            .field(
                "reports_per_analysis_per_minute",
                &self.reports_per_analysis_per_minute,
            )
            .finish()
    }
}

pub const DEFAULT_DASHBOARD_URL: &str = "{publicUrl}/toasts?analysisId={analysisId}";
pub const DEFAULT_FROM: &str = "Progress Dashboard <reports@localhost>";

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/progress_dashboard";

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not valid")),
    }
}

/// A number above zero (a limit of zero would refuse everything).
fn positive<T: std::str::FromStr + Default + PartialOrd>(
    name: &str,
    default: T,
) -> Result<T, String> {
    let value = parsed(name, default)?;
    if value <= T::default() {
        return Err(format!("{name} must be above zero"));
    }
    Ok(value)
}

/// `https://app.example.com, http://localhost:3000` → the origins, checked; `*` stands alone.
fn origins(value: Option<&str>) -> Result<Vec<String>, String> {
    let list: Vec<String> = value
        .unwrap_or("")
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    for o in &list {
        let scheme_ok = o.starts_with("http://") || o.starts_with("https://");
        if o != "*" && (!scheme_ok || o.matches('/').count() != 2) {
            return Err(format!(
                "ALLOWED_ORIGINS: {o:?} is not an origin like https://app.example.com (or *)"
            ));
        }
    }
    Ok(list)
}

fn millis(name: &str, default: u64) -> Result<Duration, String> {
    parsed(name, default).map(Duration::from_millis)
}

impl Config {
    /// Reads the environment; the error names the variable that is wrong.
    pub fn from_env() -> Result<Self, String> {
        let log_format = match var("LOG_FORMAT")
            .as_deref()
            .map(str::to_lowercase)
            .as_deref()
        {
            None | Some("json") => LogFormat::Json,
            Some("pretty") | Some("text") => LogFormat::Pretty,
            Some(other) => return Err(format!("LOG_FORMAT={other:?}: use json or pretty")),
        };
        let port = parsed("PORT", 8000)?;
        Ok(Self {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            host: parsed("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port,
            log_level: var("LOG_LEVEL").unwrap_or_else(|| "info".into()),
            log_format,
            db_pool_size: parsed("DATABASE_POOL_SIZE", 16)?,
            db_statement_timeout: millis("DATABASE_STATEMENT_TIMEOUT_MS", 5000)?,
            db_connect_timeout: millis("DATABASE_CONNECT_TIMEOUT_MS", 3000)?,
            request_timeout: millis("REQUEST_TIMEOUT_MS", 30_000)?,
            migrate_on_start: parsed("MIGRATE_ON_START", true)?,
            redis_url: var("REDIS_URL"),
            redis_prefix: var("REDIS_PREFIX").unwrap_or_else(|| "pd:".into()),
            redis_timeout: millis("REDIS_TIMEOUT_MS", 250)?,
            cache_enabled: parsed("CACHE_ENABLED", true)?,
            cache_memory_mb: parsed("CACHE_MEMORY_MB", 256)?,
            cache_warm_count: parsed("CACHE_WARM_COUNT", 100)?,
            ws_max_operations: parsed("WS_MAX_OPERATIONS", 20)?,
            ws_init_timeout: millis("WS_INIT_TIMEOUT_MS", 10_000)?,
            ws_ping_interval: millis("WS_PING_INTERVAL_MS", 25_000)?,
            platform_kpi_tick: var("PLATFORM_KPI_TICK_MS")
                .map(|_| millis("PLATFORM_KPI_TICK_MS", 0))
                .transpose()?,
            outbox_relay_interval: millis("OUTBOX_RELAY_MS", 1000)?,
            public_url: var("PUBLIC_URL").unwrap_or_else(|| format!("http://localhost:{port}")),
            dashboard_url: var("DASHBOARD_URL").unwrap_or_else(|| DEFAULT_DASHBOARD_URL.into()),
            report_token_secret: var("REPORT_TOKEN_SECRET"),
            smtp_url: var("SMTP_URL"),
            smtp_from: var("SMTP_FROM").unwrap_or_else(|| DEFAULT_FROM.into()),
            reports_outbox_dir: var("REPORTS_OUTBOX_DIR")
                .unwrap_or_else(|| "outbox".into())
                .into(),
            reports_scheduler: parsed("REPORTS_SCHEDULER", true)?,
            reports_scheduler_interval: millis("REPORTS_SCHEDULER_INTERVAL_MS", 60_000)?,
            report_retry_base: millis("REPORT_RETRY_BASE_MS", 1000)?,
            max_body_bytes: parsed("MAX_BODY_BYTES", 256 * 1024)?,
            http_header_timeout: millis("HTTP_HEADER_TIMEOUT_MS", 10_000)?,
            max_requests_in_flight: positive("MAX_REQUESTS_IN_FLIGHT", 1024)?,
            ws_max_connections: parsed("WS_MAX_CONNECTIONS", 50_000)?,
            ws_max_connections_per_client: parsed("WS_MAX_CONNECTIONS_PER_CLIENT", 256)?,
            ws_send_timeout: millis("WS_SEND_TIMEOUT_MS", 10_000)?,
            allowed_origins: origins(var("ALLOWED_ORIGINS").as_deref())?,
            reports_per_client_per_minute: positive("REPORTS_PER_CLIENT_PER_MINUTE", 5)?,
            reports_per_analysis_per_minute: positive("REPORTS_PER_ANALYSIS_PER_MINUTE", 60)?,
        })
    }

    /// Defaults for a database URL (tests build on this).
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            log_level: "info".into(),
            log_format: LogFormat::Json,
            db_pool_size: 8,
            db_statement_timeout: Duration::from_secs(5),
            db_connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(30),
            migrate_on_start: false,
            redis_url: None,
            redis_prefix: "pd:".into(),
            redis_timeout: Duration::from_millis(250),
            cache_enabled: true,
            cache_memory_mb: 64,
            cache_warm_count: 0,
            ws_max_operations: 20,
            ws_init_timeout: Duration::from_secs(10),
            ws_ping_interval: Duration::from_secs(25),
            platform_kpi_tick: None,
            outbox_relay_interval: Duration::from_secs(1),
            public_url: "http://localhost:8000".into(),
            dashboard_url: DEFAULT_DASHBOARD_URL.into(),
            report_token_secret: Some("test secret".into()),
            smtp_url: None,
            smtp_from: DEFAULT_FROM.into(),
            reports_outbox_dir: std::env::temp_dir().join("progress-dashboard-outbox"),
            reports_scheduler: false,
            reports_scheduler_interval: Duration::from_secs(60),
            report_retry_base: Duration::from_millis(200),
            max_body_bytes: 256 * 1024,
            http_header_timeout: Duration::from_secs(10),
            max_requests_in_flight: 1024,
            ws_max_connections: 50_000,
            ws_max_connections_per_client: 256,
            ws_send_timeout: Duration::from_secs(10),
            allowed_origins: Vec::new(),
            reports_per_client_per_minute: 5,
            reports_per_analysis_per_minute: 60,
        }
    }
}
