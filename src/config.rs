//! Configuration from environment variables, each with a documented default (see README).

use std::env;
use std::net::IpAddr;
use std::time::Duration;

use secrecy::SecretString;
use thiserror::Error;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default: what log shippers want).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// Who may call the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every caller shows a JWT (the default).
    Jwt,
    /// Anyone may do anything (demos, local development); logged loudly at start-up.
    Open,
}

/// Every setting of the server. [`Default`] holds the documented defaults, in one place; secrets
/// are [`SecretString`]s, so the derived `Debug` (logged at start-up) never prints them.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/progress_dashboard`.
    pub database_url: SecretString,
    /// `HOST`, default `0.0.0.0`.
    pub host: IpAddr,
    /// `PORT`, default 8000; 0 picks a free port.
    pub port: u16,
    /// `METRICS_ADDR` (`127.0.0.1:9000`, say): `/metrics` is served there only; unset, on `PORT`.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `LOG_LEVEL` (an `EnvFilter` directive), default `info`.
    pub log_level: String,
    /// `LOG_FORMAT`, `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// Traces are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the exporter reads the other standard
    /// `OTEL_*` variables itself.
    pub otel_traces: bool,
    /// `DATABASE_POOL_SIZE`, default 16.
    pub db_pool_size: u32,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`, default 5000.
    pub db_statement_timeout: Duration,
    /// `DATABASE_CONNECT_TIMEOUT_MS`: how long a request waits for a pooled connection, default 3000.
    pub db_connect_timeout: Duration,
    /// `REQUEST_TIMEOUT_MS`, default 30000.
    pub request_timeout: Duration,
    /// `SHUTDOWN_DRAIN_MS`, default 5000: after SIGTERM, how long the server still answers (with
    /// `/ready` at 503) so that load balancers stop sending before it stops accepting.
    pub shutdown_drain: Duration,
    /// `MIGRATE_ON_START`, default true.
    pub migrate_on_start: bool,
    /// `REDIS_URL`; unset: an in-process cache and event bus (a single instance).
    pub redis_url: Option<SecretString>,
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
    /// `ANSWER_CACHE_MB`, default 64: whole query answers kept per instance and served again
    /// while what they read is unchanged (`0` turns it off; it needs the cache).
    pub answer_cache_mb: u64,
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
    /// `REPORT_TOKEN_SECRET`: signs unsubscribe links; required with `SMTP_URL` (otherwise a
    /// random one, good until the process restarts).
    pub report_token_secret: Option<SecretString>,
    /// `REPORT_TOKEN_SECRET_PREVIOUS`: the secret before a rotation; its links still verify.
    pub report_token_secret_previous: Option<SecretString>,
    /// `REPORT_LINK_TTL_SECONDS`, default 900: how long a signed document link (`reportUrl`)
    /// opens its document without a token, at least (links are made per 5-minute window, so a
    /// link lives up to that much longer).
    pub report_link_ttl: Duration,
    /// `SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or `smtps://user:pass@host`; unset: `.eml` files.
    pub smtp_url: Option<SecretString>,
    /// `SMTP_FROM`, default `Progress Dashboard <reports@localhost>`.
    pub smtp_from: String,
    /// `REPORTS_OUTBOX_DIR`, default `outbox`: where `.eml` files go without SMTP.
    pub reports_outbox_dir: std::path::PathBuf,
    /// `REPORTS_SCHEDULER`, default true: send due reports from this instance.
    pub reports_scheduler: bool,
    /// `REPORTS_SCHEDULER_INTERVAL_MS`, default 60000.
    pub reports_scheduler_interval: Duration,
    /// `REPORTS_CLAIM_LEASE_MS`, default 900000 (15 min): a delivery still `sending` after this
    /// (its sender was killed mid-send) is claimed again. Longer than a send's three attempts.
    pub reports_claim_lease: Duration,
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
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins that browsers may call from (CORS) and open
    /// WebSockets from, besides the server's own; `*` allows any. Default: none.
    pub allowed_origins: Vec<String>,
    /// `REPORTS_PER_CLIENT_PER_MINUTE`, default 5: rendered documents per client address.
    pub reports_per_client_per_minute: u32,
    /// `REPORTS_PER_ANALYSIS_PER_MINUTE`, default 60: rendered documents per analysis, all
    /// clients together.
    pub reports_per_analysis_per_minute: u32,
    /// `AUTH_MODE`, `jwt` (default) or `open`.
    pub auth_mode: AuthMode,
    /// `AUTH_JWT_SECRET`: verifies HS256 tokens (and signs them with `mint-token`).
    pub auth_jwt_secret: Option<SecretString>,
    /// `AUTH_JWT_PUBLIC_KEY`: a PEM file verifying RS256 or ES256 tokens.
    pub auth_jwt_public_key: Option<std::path::PathBuf>,
    /// `AUTH_JWKS_URL`: the issuer's JSON Web Key Set, fetched and kept fresh.
    pub auth_jwks_url: Option<String>,
    /// Shortest time between two fetches of that set (30 s; shorter in tests).
    pub auth_jwks_min_refetch: Duration,
    /// `AUTH_JWT_ISSUER`: the `iss` tokens must carry, when set.
    pub auth_jwt_issuer: Option<String>,
    /// `AUTH_JWT_AUDIENCE`: the `aud` tokens must carry, when set.
    pub auth_jwt_audience: Option<String>,
    /// `GRAPHQL_INTROSPECTION`, default true; false also turns off "did you mean" suggestions.
    pub graphql_introspection: bool,
    /// `RATE_LIMIT_PER_MINUTE`, default 100: requests per client address and per token subject
    /// (counted in Redis when there is one); 0 turns it off.
    pub rate_limit_per_minute: u32,
    /// `TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks whose `X-Forwarded-For` is
    /// believed. Default: none (the peer address is the client).
    pub trusted_proxies: Vec<Cidr>,
    /// `TRUSTED_DOCUMENTS`: an Apollo persisted-query manifest; when set, only its documents run
    /// (and introspection is off, whatever `GRAPHQL_INTROSPECTION` says). Unset: any document, with automatic persisted queries.
    pub trusted_documents: Option<std::path::PathBuf>,
}

/// An address block (`10.0.0.0/8`, `::1/128`; a bare address is its own block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(value: &str) -> Option<Self> {
        let (addr, prefix) = match value.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (value.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { net: addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v) => (u32::from(v) as u128, 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ip = match (self.net, ip) {
            (IpAddr::V4(_), IpAddr::V6(v)) => match v.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            _ => ip,
        };
        let ((net, width), (addr, other)) = (bits(self.net), bits(ip));
        if width != other {
            return false;
        }
        let shift = width - self.prefix;
        shift >= width || (net >> shift) == (addr >> shift)
    }
}

pub const DEFAULT_DASHBOARD_URL: &str = "{publicUrl}/toasts?analysisId={analysisId}";
pub const DEFAULT_FROM: &str = "Progress Dashboard <reports@localhost>";

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/progress_dashboard";

/// A setting the environment got wrong; the message names the variable.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid")]
    Invalid { name: &'static str, value: String },
    #[error("{0} must be above zero")]
    NotPositive(&'static str),
    #[error("LOG_FORMAT={0:?}: use json or pretty")]
    LogFormat(String),
    #[error("CORS_ALLOWED_ORIGINS: {0:?} is not an origin like https://app.example.com (or *)")]
    Origin(String),
    #[error("AUTH_MODE={0:?}: use jwt or open")]
    AuthMode(String),
    #[error("TRUSTED_PROXIES: {0:?} is not an address or a block such as 10.0.0.0/8")]
    Proxy(String),
}

type Result<T> = std::result::Result<T, ConfigError>;

/// Whether an OTLP endpoint for traces is configured (the exporter reads it itself).
fn otel_endpoint_set() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| var(v).is_some())
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid { name, value: v }),
    }
}

fn secret(name: &str) -> Option<SecretString> {
    var(name).map(SecretString::from)
}

/// A number above zero (a limit of zero would refuse everything).
fn positive<T: std::str::FromStr + Default + PartialOrd>(
    name: &'static str,
    default: T,
) -> Result<T> {
    let value = parsed(name, default)?;
    if value <= T::default() {
        return Err(ConfigError::NotPositive(name));
    }
    Ok(value)
}

/// `https://app.example.com, http://localhost:3000` → the origins, checked; `*` stands alone.
fn origins(value: Option<&str>) -> Result<Vec<String>> {
    let list: Vec<String> = value
        .unwrap_or("")
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    for o in &list {
        let scheme_ok = o.starts_with("http://") || o.starts_with("https://");
        if o != "*" && (!scheme_ok || o.matches('/').count() != 2) {
            return Err(ConfigError::Origin(o.clone()));
        }
    }
    Ok(list)
}

/// `10.0.0.0/8, 192.168.1.7` → the blocks, checked.
fn proxies(value: Option<&str>) -> Result<Vec<Cidr>> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Cidr::parse(p).ok_or_else(|| ConfigError::Proxy(p.to_owned())))
        .collect()
}

fn millis(name: &'static str, default: Duration) -> Result<Duration> {
    parsed(name, default.as_millis() as u64).map(Duration::from_millis)
}

impl Default for Config {
    /// The documented defaults (README, "Configuration").
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.into(),
            host: IpAddr::from([0, 0, 0, 0]),
            port: 8000,
            metrics_addr: None,
            log_level: "info".into(),
            log_format: LogFormat::Json,
            otel_traces: false,
            db_pool_size: 16,
            db_statement_timeout: Duration::from_secs(5),
            db_connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(30),
            shutdown_drain: Duration::from_secs(5),
            migrate_on_start: true,
            redis_url: None,
            redis_prefix: "pd:".into(),
            redis_timeout: Duration::from_millis(250),
            cache_enabled: true,
            cache_memory_mb: 256,
            cache_warm_count: 100,
            answer_cache_mb: 64,
            ws_max_operations: 20,
            ws_init_timeout: Duration::from_secs(10),
            ws_ping_interval: Duration::from_secs(25),
            platform_kpi_tick: None,
            outbox_relay_interval: Duration::from_secs(1),
            public_url: "http://localhost:8000".into(),
            dashboard_url: DEFAULT_DASHBOARD_URL.into(),
            report_token_secret: None,
            report_token_secret_previous: None,
            report_link_ttl: Duration::from_secs(15 * 60),
            smtp_url: None,
            smtp_from: DEFAULT_FROM.into(),
            reports_outbox_dir: "outbox".into(),
            reports_scheduler: true,
            reports_scheduler_interval: Duration::from_secs(60),
            reports_claim_lease: Duration::from_secs(15 * 60),
            report_retry_base: Duration::from_secs(1),
            max_body_bytes: 256 * 1024,
            http_header_timeout: Duration::from_secs(10),
            max_requests_in_flight: 1024,
            ws_max_connections: 50_000,
            ws_max_connections_per_client: 256,
            ws_send_timeout: Duration::from_secs(10),
            allowed_origins: Vec::new(),
            reports_per_client_per_minute: 5,
            reports_per_analysis_per_minute: 60,
            auth_mode: AuthMode::Jwt,
            auth_jwt_secret: None,
            auth_jwt_public_key: None,
            auth_jwks_url: None,
            auth_jwks_min_refetch: Duration::from_secs(30),
            auth_jwt_issuer: None,
            auth_jwt_audience: None,
            graphql_introspection: true,
            rate_limit_per_minute: 100,
            trusted_proxies: Vec::new(),
            trusted_documents: None,
        }
    }
}

impl Config {
    /// Reads the environment over the defaults; the error names the variable that is wrong.
    pub fn from_env() -> Result<Self> {
        let d = Self::default();
        let log_format = match var("LOG_FORMAT").map(|v| v.to_lowercase()).as_deref() {
            None => d.log_format,
            Some("json") => LogFormat::Json,
            Some("pretty") | Some("text") => LogFormat::Pretty,
            Some(other) => return Err(ConfigError::LogFormat(other.to_owned())),
        };
        let port = parsed("PORT", d.port)?;
        let mut config = Self {
            database_url: secret("DATABASE_URL").unwrap_or(d.database_url),
            host: parsed("HOST", d.host)?,
            metrics_addr: var("METRICS_ADDR")
                .map(|v| {
                    v.trim().parse().map_err(|_| ConfigError::Invalid {
                        name: "METRICS_ADDR",
                        value: v,
                    })
                })
                .transpose()?,
            port,
            log_level: var("LOG_LEVEL").unwrap_or(d.log_level),
            otel_traces: otel_endpoint_set(),
            log_format,
            db_pool_size: parsed("DATABASE_POOL_SIZE", d.db_pool_size)?,
            db_statement_timeout: millis("DATABASE_STATEMENT_TIMEOUT_MS", d.db_statement_timeout)?,
            db_connect_timeout: millis("DATABASE_CONNECT_TIMEOUT_MS", d.db_connect_timeout)?,
            request_timeout: millis("REQUEST_TIMEOUT_MS", d.request_timeout)?,
            shutdown_drain: millis("SHUTDOWN_DRAIN_MS", d.shutdown_drain)?,
            migrate_on_start: parsed("MIGRATE_ON_START", d.migrate_on_start)?,
            redis_url: secret("REDIS_URL"),
            redis_prefix: var("REDIS_PREFIX").unwrap_or(d.redis_prefix),
            redis_timeout: millis("REDIS_TIMEOUT_MS", d.redis_timeout)?,
            cache_enabled: parsed("CACHE_ENABLED", d.cache_enabled)?,
            cache_memory_mb: parsed("CACHE_MEMORY_MB", d.cache_memory_mb)?,
            cache_warm_count: parsed("CACHE_WARM_COUNT", d.cache_warm_count)?,
            answer_cache_mb: parsed("ANSWER_CACHE_MB", d.answer_cache_mb)?,
            ws_max_operations: parsed("WS_MAX_OPERATIONS", d.ws_max_operations)?,
            ws_init_timeout: millis("WS_INIT_TIMEOUT_MS", d.ws_init_timeout)?,
            ws_ping_interval: millis("WS_PING_INTERVAL_MS", d.ws_ping_interval)?,
            platform_kpi_tick: var("PLATFORM_KPI_TICK_MS")
                .map(|_| millis("PLATFORM_KPI_TICK_MS", Duration::ZERO))
                .transpose()?,
            outbox_relay_interval: millis("OUTBOX_RELAY_MS", d.outbox_relay_interval)?,
            public_url: var("PUBLIC_URL").unwrap_or_else(|| format!("http://localhost:{port}")),
            dashboard_url: var("DASHBOARD_URL").unwrap_or(d.dashboard_url),
            max_body_bytes: parsed("MAX_BODY_BYTES", d.max_body_bytes)?,
            http_header_timeout: millis("HTTP_HEADER_TIMEOUT_MS", d.http_header_timeout)?,
            max_requests_in_flight: positive("MAX_REQUESTS_IN_FLIGHT", d.max_requests_in_flight)?,
            ws_max_connections: parsed("WS_MAX_CONNECTIONS", d.ws_max_connections)?,
            ws_max_connections_per_client: parsed(
                "WS_MAX_CONNECTIONS_PER_CLIENT",
                d.ws_max_connections_per_client,
            )?,
            ws_send_timeout: millis("WS_SEND_TIMEOUT_MS", d.ws_send_timeout)?,
            reports_per_client_per_minute: positive(
                "REPORTS_PER_CLIENT_PER_MINUTE",
                d.reports_per_client_per_minute,
            )?,
            reports_per_analysis_per_minute: positive(
                "REPORTS_PER_ANALYSIS_PER_MINUTE",
                d.reports_per_analysis_per_minute,
            )?,
            ..d
        };
        config.read_access()?;
        config.read_reports()?;
        Ok(config)
    }

    /// How reports are sent and linked to: the settings of email and documents.
    fn read_reports(&mut self) -> Result<()> {
        self.report_token_secret = secret("REPORT_TOKEN_SECRET");
        self.report_token_secret_previous = secret("REPORT_TOKEN_SECRET_PREVIOUS");
        self.report_link_ttl = Duration::from_secs(positive(
            "REPORT_LINK_TTL_SECONDS",
            self.report_link_ttl.as_secs(),
        )?);
        self.smtp_url = secret("SMTP_URL");
        if let Some(from) = var("SMTP_FROM") {
            self.smtp_from = from;
        }
        if let Some(dir) = var("REPORTS_OUTBOX_DIR") {
            self.reports_outbox_dir = dir.into();
        }
        self.reports_scheduler = parsed("REPORTS_SCHEDULER", self.reports_scheduler)?;
        self.reports_scheduler_interval = millis(
            "REPORTS_SCHEDULER_INTERVAL_MS",
            self.reports_scheduler_interval,
        )?;
        self.reports_claim_lease = millis("REPORTS_CLAIM_LEASE_MS", self.reports_claim_lease)?;
        self.report_retry_base = millis("REPORT_RETRY_BASE_MS", self.report_retry_base)?;
        Ok(())
    }

    /// Who may call, from where and how often: the settings of access.
    fn read_access(&mut self) -> Result<()> {
        let auth_mode = match var("AUTH_MODE").map(|v| v.to_lowercase()).as_deref() {
            None => self.auth_mode,
            Some("jwt") => AuthMode::Jwt,
            Some("open") => AuthMode::Open,
            Some(other) => return Err(ConfigError::AuthMode(other.to_owned())),
        };
        self.auth_mode = auth_mode;
        self.auth_jwt_secret = secret("AUTH_JWT_SECRET");
        self.auth_jwt_public_key = var("AUTH_JWT_PUBLIC_KEY").map(Into::into);
        self.auth_jwks_url = var("AUTH_JWKS_URL");
        if let Some(url) = &self.auth_jwks_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                let value = url.clone();
                return Err(ConfigError::Invalid {
                    name: "AUTH_JWKS_URL",
                    value,
                });
            }
        }
        self.auth_jwt_issuer = var("AUTH_JWT_ISSUER");
        self.auth_jwt_audience = var("AUTH_JWT_AUDIENCE");
        self.trusted_documents = var("TRUSTED_DOCUMENTS").map(Into::into);
        self.graphql_introspection = parsed("GRAPHQL_INTROSPECTION", self.graphql_introspection)?;
        self.rate_limit_per_minute = parsed("RATE_LIMIT_PER_MINUTE", self.rate_limit_per_minute)?;
        self.trusted_proxies = proxies(var("TRUSTED_PROXIES").as_deref())?;
        // unset: none in jwt mode, any in open mode (a demo serves anyone anyway)
        self.allowed_origins = match var("CORS_ALLOWED_ORIGINS") {
            Some(list) => origins(Some(&list))?,
            None if auth_mode == AuthMode::Open => vec!["*".into()],
            None => Vec::new(),
        };
        Ok(())
    }

    /// The defaults on one database, made for tests: loopback on a free port, no migration,
    /// warm-up or scheduler of its own, a smaller pool and cache, a fixed token secret, fast
    /// retries, `AUTH_MODE=open` (the tests about access set `jwt`) and no rate limit (the tests
    /// about it set one).
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into().into(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            db_pool_size: 8,
            migrate_on_start: false,
            cache_memory_mb: 64,
            cache_warm_count: 0,
            report_token_secret: Some("test secret".into()),
            reports_outbox_dir: std::env::temp_dir().join("progress-dashboard-outbox"),
            reports_scheduler: false,
            report_retry_base: Duration::from_millis(200),
            auth_mode: AuthMode::Open,
            rate_limit_per_minute: 0,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_their_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")) && !net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", ""] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
