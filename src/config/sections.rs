//! Every setting, by section: each one is defined once here (field, type, default, variable,
//! reader, description); the docs' configuration table is generated from these definitions.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::cidr::Cidr;
use super::read;
use super::section::section;
use super::{AuthMode, LogFormat, DEFAULT_DASHBOARD_URL, DEFAULT_DATABASE_URL, DEFAULT_FROM};

section! {
    /// The HTTP server: where it listens, who may call it from a browser, its deadlines.
    Server {
        /// Address to listen on.
        host: IpAddr = IpAddr::from([0, 0, 0, 0]), "HOST", read::parsed, "0.0.0.0";
        /// Port to listen on; 0 picks a free one.
        port: u16 = 8000, "PORT", read::parsed, "8000";
        /// The base of the links in emails and `Dashboard.reportUrl`.
        public_url: String = "http://localhost:8000".into(), "PUBLIC_URL", read::text, "http://localhost:PORT";
        /// Comma-separated origins browsers may call from (CORS) and open WebSockets from, besides the server's own; `*` allows any.
        allowed_origins: Vec<String> = Vec::new(), "CORS_ALLOWED_ORIGINS", read::origins, "none (any with AUTH_MODE=open)";
        /// Comma-separated addresses or CIDR blocks whose `X-Forwarded-For` is believed; otherwise the peer address is the client.
        trusted_proxies: Vec<Cidr> = Vec::new(), "TRUSTED_PROXIES", read::proxies, "none";
        /// Longest a request may run (503 beyond).
        request_timeout: Duration = Duration::from_secs(30), "REQUEST_TIMEOUT_MS", read::millis, "30000";
        /// Time allowed for a request's headers, and for an idle keep-alive connection's next request.
        header_timeout: Duration = Duration::from_secs(10), "HTTP_HEADER_TIMEOUT_MS", read::millis, "10000";
        /// After SIGTERM, how long the server still answers (with `/ready` at 503) so that load balancers stop sending first.
        shutdown_drain: Duration = Duration::from_secs(5), "SHUTDOWN_DRAIN_MS", read::millis, "5000";
        /// GraphQL introspection; false also turns off "did you mean" suggestions.
        introspection: bool = true, "GRAPHQL_INTROSPECTION", read::parsed, "true";
        /// An Apollo persisted-query manifest: when set, only its documents run (and introspection is off). Unset: any document, with automatic persisted queries.
        trusted_documents: Option<PathBuf> = None, "TRUSTED_DOCUMENTS", read::optional_path, "unset";
    }
}

section! {
    /// PostgreSQL, the system of record.
    Database {
        /// The database (a secret: never logged).
        url: SecretString = DEFAULT_DATABASE_URL.into(), "DATABASE_URL", read::secret, "postgres://postgres@127.0.0.1:5432/progress_dashboard";
        /// Pooled connections per instance.
        pool_size: u32 = 16, "DATABASE_POOL_SIZE", read::parsed, "16";
        /// Longest one statement may run.
        statement_timeout: Duration = Duration::from_secs(5), "DATABASE_STATEMENT_TIMEOUT_MS", read::millis, "5000";
        /// How long a request waits for a pooled connection.
        connect_timeout: Duration = Duration::from_secs(3), "DATABASE_CONNECT_TIMEOUT_MS", read::millis, "3000";
        /// A streaming replica for the reads that need not see the latest write (uncached dashboards, history, activity); unset, the primary serves every read.
        replica_url: Option<SecretString> = None, "DATABASE_REPLICA_URL", read::optional_postgres_url, "unset";
        /// The replica is skipped for the primary while its replay lags further behind than this.
        replica_max_lag: Duration = Duration::from_secs(2), "DATABASE_REPLICA_MAX_LAG_MS", read::millis, "2000";
        /// Apply pending migrations (and sync the badge catalog) when `serve` starts.
        migrate_on_start: bool = true, "MIGRATE_ON_START", read::parsed, "true";
    }
}

section! {
    /// Redis, shared by the instances: the cache, the event bus and shared counters.
    Redis {
        /// Redis; unset, an in-process cache and event bus serve a single instance.
        url: Option<SecretString> = None, "REDIS_URL", read::optional_secret, "unset";
        /// A Redis Cluster instead: comma-separated seed nodes (`redis://host:port,...`); the rest of the cluster is found from them.
        cluster_nodes: Option<SecretString> = None, "REDIS_CLUSTER_NODES", read::redis_nodes, "unset";
        /// Every key and channel starts with it.
        prefix: String = "pd:".into(), "REDIS_PREFIX", read::text, "pd:";
        /// The longest wait on Redis before answering from PostgreSQL.
        timeout: Duration = Duration::from_millis(250), "REDIS_TIMEOUT_MS", read::millis, "250";
    }
}

section! {
    /// What is kept in memory: the dashboard cache and the response cache.
    Cache {
        /// The dashboard cache.
        enabled: bool = true, "CACHE_ENABLED", read::parsed, "true";
        /// The in-process cache's size, in MB.
        memory_mb: u64 = 256, "CACHE_MEMORY_MB", read::parsed, "256";
        /// Dashboards loaded into the cache at start-up.
        warm_count: i64 = 100, "CACHE_WARM_COUNT", read::parsed, "100";
        /// The response cache: whole query answers kept per instance and served again while what they read is unchanged, in MB (0 turns it off; it needs the dashboard cache).
        responses_mb: u64 = 64, "ANSWER_CACHE_MB", read::parsed, "64";
    }
}

section! {
    /// Who may call: bearer tokens (JWT) and where their keys come from.
    Auth {
        /// `jwt` (every caller shows a token) or `open` (anyone may do anything: demos).
        mode: AuthMode = AuthMode::Jwt, "AUTH_MODE", read::auth_mode, "jwt";
        /// Verifies HS256 tokens (and signs them with `mint-token`).
        jwt_secret: Option<SecretString> = None, "AUTH_JWT_SECRET", read::optional_secret, "unset";
        /// A PEM file verifying RS256 or ES256 tokens.
        jwt_public_key: Option<PathBuf> = None, "AUTH_JWT_PUBLIC_KEY", read::optional_path, "unset";
        /// The issuer's JSON Web Key Set, fetched and kept fresh.
        jwks_url: Option<String> = None, "AUTH_JWKS_URL", read::optional_url, "unset";
        /// Shortest time between two fetches of that key set.
        jwks_min_refetch: Duration = Duration::from_secs(30), "AUTH_JWKS_MIN_REFETCH_MS", read::millis, "30000";
        /// The `iss` tokens must carry, when set.
        jwt_issuer: Option<String> = None, "AUTH_JWT_ISSUER", read::optional_text, "unset";
        /// The `aud` tokens must carry, when set.
        jwt_audience: Option<String> = None, "AUTH_JWT_AUDIENCE", read::optional_text, "unset";
    }
}

section! {
    /// What a client can make the server read, keep, compute or hold open.
    Limits {
        /// The largest request body, in bytes (413 beyond).
        max_body_bytes: usize = 256 * 1024, "MAX_BODY_BYTES", read::parsed, "262144";
        /// Requests at once; more are shed with 503 and `Retry-After`.
        max_requests_in_flight: usize = 1024, "MAX_REQUESTS_IN_FLIGHT", read::positive, "1024";
        /// Requests per minute per client address and per token subject (counted in Redis when there is one); 0 turns it off.
        rate_limit_per_minute: u32 = 100, "RATE_LIMIT_PER_MINUTE", read::parsed, "100";
        /// Rendered documents per minute per client address.
        reports_per_client_per_minute: u32 = 5, "REPORTS_PER_CLIENT_PER_MINUTE", read::positive, "5";
        /// Rendered documents per minute per analysis, all clients together.
        reports_per_analysis_per_minute: u32 = 60, "REPORTS_PER_ANALYSIS_PER_MINUTE", read::positive, "60";
        /// WebSocket connections per instance.
        ws_max_connections: usize = 50_000, "WS_MAX_CONNECTIONS", read::parsed, "50000";
        /// WebSocket connections per client address.
        ws_max_connections_per_client: usize = 256, "WS_MAX_CONNECTIONS_PER_CLIENT", read::parsed, "256";
        /// Live operations per WebSocket connection.
        ws_max_operations: usize = 20, "WS_MAX_OPERATIONS", read::parsed, "20";
    }
}

section! {
    /// Email reports and the downloadable document.
    Reports {
        /// The front end's dashboard link in emails.
        dashboard_url: String = DEFAULT_DASHBOARD_URL.into(), "DASHBOARD_URL", read::text, "{publicUrl}/toasts?analysisId={analysisId}";
        /// Signs unsubscribe, confirmation and document links; required with `SMTP_URL` (links must survive restarts and work on every instance); unset, a random one per process.
        token_secret: Option<SecretString> = None, "REPORT_TOKEN_SECRET", read::optional_secret, "random per process (warned)";
        /// The secret before a rotation: the links it signed still work.
        token_secret_previous: Option<SecretString> = None, "REPORT_TOKEN_SECRET_PREVIOUS", read::optional_secret, "unset";
        /// The least a signed document link (`reportUrl`, the REST dashboard's `Link`) opens its document without a token, in seconds (links are made per 5-minute window, so up to 5 minutes more).
        link_ttl: Duration = Duration::from_secs(15 * 60), "REPORT_LINK_TTL_SECONDS", read::seconds, "900";
        /// `smtp://host:2525` or `smtps://user:pass@host`; unset, reports are written as `.eml` files.
        smtp_url: Option<SecretString> = None, "SMTP_URL", read::optional_secret, "unset";
        /// The sender of reports and confirmations.
        smtp_from: String = DEFAULT_FROM.into(), "SMTP_FROM", read::text, "Progress Dashboard <reports@localhost>";
        /// Where `.eml` files go without SMTP; made at the first email, not at start (the image sets `/var/lib/progress-dashboard/outbox`).
        outbox_dir: PathBuf = "outbox".into(), "REPORTS_OUTBOX_DIR", read::path, "outbox";
        /// Send due reports from this instance.
        scheduler: bool = true, "REPORTS_SCHEDULER", read::parsed, "true";
        /// How often the scheduler looks for due reports.
        scheduler_interval: Duration = Duration::from_secs(60), "REPORTS_SCHEDULER_INTERVAL_MS", read::millis, "60000";
        /// A delivery still `sending` after this (its sender was killed mid-send) is claimed again; longer than a send's three attempts.
        claim_lease: Duration = Duration::from_secs(15 * 60), "REPORTS_CLAIM_LEASE_MS", read::millis, "900000";
        /// The first retry's wait when a send fails (then doubled; 3 attempts).
        retry_base: Duration = Duration::from_secs(1), "REPORT_RETRY_BASE_MS", read::millis, "1000";
    }
}

section! {
    /// Live updates: WebSocket keep-alive and deadlines, event relay, platform KPI ticks.
    Live {
        /// Time allowed for `connection_init`.
        ws_init_timeout: Duration = Duration::from_secs(10), "WS_INIT_TIMEOUT_MS", read::millis, "10000";
        /// Server keep-alive pings.
        ws_ping_interval: Duration = Duration::from_secs(25), "WS_PING_INTERVAL_MS", read::millis, "25000";
        /// A reader slower than this for one message is dropped.
        ws_send_timeout: Duration = Duration::from_secs(10), "WS_SEND_TIMEOUT_MS", read::millis, "10000";
        /// Overrides the tick of every platform KPI period (tests, demos).
        platform_kpi_tick: Option<Duration> = None, "PLATFORM_KPI_TICK_MS", read::optional_millis, "unset";
        /// How often the outbox relay sweeps for events not yet published.
        outbox_relay_interval: Duration = Duration::from_secs(1), "OUTBOX_RELAY_MS", read::millis, "1000";
    }
}

section! {
    /// Logs, metrics and traces.
    Telemetry {
        /// An `EnvFilter` directive.
        log_level: String = "info".into(), "LOG_LEVEL", read::text, "info";
        /// `json` (what log shippers want) or `pretty` (a terminal).
        log_format: LogFormat = LogFormat::Json, "LOG_FORMAT", read::log_format, "json";
        /// `/metrics` is served on this address only (`127.0.0.1:9000`, say); unset, on `PORT`.
        metrics_addr: Option<SocketAddr> = None, "METRICS_ADDR", read::optional, "unset";
        /// Traces go over OTLP/HTTP when this (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the exporter reads the other `OTEL_*` variables itself.
        otel_traces: bool = false, "OTEL_EXPORTER_OTLP_ENDPOINT", read::otel, "unset";
    }
}
