//! Configuration from environment variables, in typed sections (`sections`): each setting is
//! defined once, with its default, its variable, its reader and its description; `docs/
//! configuration.md` is generated from those definitions (a test keeps it current). Secrets are
//! [`secrecy::SecretString`]s, so the derived `Debug` (logged at start-up) never prints them.

mod cidr;
pub(crate) mod read;
mod section;
mod sections;

use std::time::Duration;

use thiserror::Error;

pub use cidr::Cidr;
pub use section::Var;
pub use sections::{Auth, Cache, Database, Limits, Live, Redis, Reports, Server, Telemetry};

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
    #[error("REDIS_CLUSTER_NODES: node {0} is not an address like redis://host:port")]
    RedisNode(usize),
    #[error("REDIS_URL and REDIS_CLUSTER_NODES are both set: set one (a single server, or a cluster's seed nodes)")]
    RedisBoth,
    #[error("{0} is not a PostgreSQL URL like postgres://user@host:5432/database")]
    PostgresUrl(&'static str),
}

pub type Result<T> = std::result::Result<T, ConfigError>;

/// Every setting of the server, by section; [`Default`] holds the documented defaults.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub server: Server,
    pub database: Database,
    pub redis: Redis,
    pub cache: Cache,
    pub auth: Auth,
    pub limits: Limits,
    pub reports: Reports,
    pub live: Live,
    pub telemetry: Telemetry,
}

impl Config {
    /// Each section's title and variables, in the order the docs list them.
    pub fn sections() -> [(&'static str, &'static [Var]); 9] {
        [
            ("Server", Server::VARS),
            ("Database", Database::VARS),
            ("Redis", Redis::VARS),
            ("Cache", Cache::VARS),
            ("Auth", Auth::VARS),
            ("Limits", Limits::VARS),
            ("Reports", Reports::VARS),
            ("Live updates", Live::VARS),
            ("Telemetry", Telemetry::VARS),
        ]
    }

    /// Reads the environment over the defaults; the error names the variable that is wrong.
    pub fn from_env() -> Result<Self> {
        let mut c = Self::default();
        c.server.read()?;
        c.database.read()?;
        c.redis.read()?;
        if c.redis.url.is_some() && c.redis.cluster_nodes.is_some() {
            return Err(ConfigError::RedisBoth);
        }
        c.cache.read()?;
        c.auth.read()?;
        c.limits.read()?;
        c.reports.read()?;
        c.live.read()?;
        c.telemetry.read()?;
        // the defaults that depend on another setting
        if read::var("PUBLIC_URL").is_none() {
            c.server.public_url = format!("http://localhost:{}", c.server.port);
        }
        if read::var("CORS_ALLOWED_ORIGINS").is_none() && c.auth.mode == AuthMode::Open {
            // a demo serves anyone anyway
            c.server.allowed_origins = vec!["*".into()];
        }
        Ok(c)
    }

    /// The defaults on one database, made for tests: loopback on a free port, no migration,
    /// warm-up or scheduler of its own, a smaller pool and cache, a fixed token secret, fast
    /// retries, `AUTH_MODE=open` (the tests about access set `jwt`) and no rate limit (the tests
    /// about it set one).
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let mut c = Self::default();
        c.database.url = database_url.into().into();
        c.database.pool_size = 8;
        c.database.migrate_on_start = false;
        c.server.host = [127, 0, 0, 1].into();
        c.server.port = 0;
        c.cache.memory_mb = 64;
        c.cache.warm_count = 0;
        c.reports.token_secret = Some("test secret".into());
        c.reports.outbox_dir = std::env::temp_dir().join("progress-dashboard-outbox");
        c.reports.scheduler = false;
        c.reports.retry_base = Duration::from_millis(200);
        c.auth.mode = AuthMode::Open;
        c.limits.rate_limit_per_minute = 0;
        c
    }

    /// `docs/configuration.md`, generated from the definitions.
    pub fn docs() -> String {
        let mut out = String::from(
            "# Configuration\n\n\
             <!-- Generated from src/config/sections.rs; a test fails when this file is stale \
             (UPDATE_DOCS=1 cargo test --lib config rewrites it). -->\n\n\
             Every setting is an environment variable; an unset or blank one takes its default. \
             A value that does not parse stops the server at start-up with a message naming the \
             variable. Durations are in milliseconds unless the name says otherwise.\n",
        );
        for (title, vars) in Self::sections() {
            out.push_str(&format!(
                "\n## {title}\n\n| variable | default | what it does |\n|---|---|---|\n"
            ));
            for v in vars {
                let doc = v.doc.trim().replace('|', "\\|");
                out.push_str(&format!("| `{}` | `{}` | {doc} |\n", v.name, v.default));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_named_once() {
        let mut names: Vec<&str> = Config::sections()
            .iter()
            .flat_map(|(_, vars)| vars.iter().map(|v| v.name))
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a variable is defined twice");
    }

    #[test]
    fn the_docs_are_generated_from_the_definitions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
        let generated = Config::docs();
        if std::env::var("UPDATE_DOCS").is_ok() {
            std::fs::write(path, &generated).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/configuration.md is stale: run UPDATE_DOCS=1 cargo test --lib config"
        );
    }
}
