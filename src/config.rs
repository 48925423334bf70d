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
            .finish()
    }
}

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
        Ok(Self {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            host: parsed("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port: parsed("PORT", 8000)?,
            log_level: var("LOG_LEVEL").unwrap_or_else(|| "info".into()),
            log_format,
            db_pool_size: parsed("DATABASE_POOL_SIZE", 16)?,
            db_statement_timeout: millis("DATABASE_STATEMENT_TIMEOUT_MS", 5000)?,
            db_connect_timeout: millis("DATABASE_CONNECT_TIMEOUT_MS", 3000)?,
            request_timeout: millis("REQUEST_TIMEOUT_MS", 30_000)?,
            migrate_on_start: parsed("MIGRATE_ON_START", true)?,
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
        }
    }
}
