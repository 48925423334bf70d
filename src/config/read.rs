//! Readers of one environment variable each: the variable's name and the value so far (the
//! default) in, the value read (or the default when the variable is unset or blank) out; an
//! error names the variable.

use std::env;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::cidr::Cidr;
use super::{AuthMode, ConfigError, LogFormat, Result};

pub fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn invalid(name: &'static str, value: String) -> ConfigError {
    ConfigError::Invalid { name, value }
}

pub fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| invalid(name, v)),
    }
}

pub fn optional<T: std::str::FromStr>(name: &'static str, default: Option<T>) -> Result<Option<T>> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map(Some).map_err(|_| invalid(name, v)),
    }
}

/// A number above zero (a limit of zero would refuse everything).
pub fn positive<T: std::str::FromStr + Default + PartialOrd>(
    name: &'static str,
    default: T,
) -> Result<T> {
    let value = parsed(name, default)?;
    if value <= T::default() {
        return Err(ConfigError::NotPositive(name));
    }
    Ok(value)
}

/// Milliseconds.
pub fn millis(name: &'static str, default: Duration) -> Result<Duration> {
    parsed(name, default.as_millis() as u64).map(Duration::from_millis)
}

/// Milliseconds, when set.
pub fn optional_millis(name: &'static str, default: Option<Duration>) -> Result<Option<Duration>> {
    Ok(optional::<u64>(name, None)?
        .map(Duration::from_millis)
        .or(default))
}

/// Seconds, above zero.
pub fn seconds(name: &'static str, default: Duration) -> Result<Duration> {
    positive(name, default.as_secs()).map(Duration::from_secs)
}

pub fn text(name: &'static str, default: String) -> Result<String> {
    Ok(var(name).unwrap_or(default))
}

pub fn optional_text(name: &'static str, default: Option<String>) -> Result<Option<String>> {
    Ok(var(name).or(default))
}

pub fn path(name: &'static str, default: PathBuf) -> Result<PathBuf> {
    Ok(var(name).map_or(default, Into::into))
}

pub fn optional_path(name: &'static str, default: Option<PathBuf>) -> Result<Option<PathBuf>> {
    Ok(var(name).map(Into::into).or(default))
}

/// A secret: kept as [`SecretString`], so that no `Debug` prints it.
pub fn secret(name: &'static str, default: SecretString) -> Result<SecretString> {
    Ok(var(name).map_or(default, SecretString::from))
}

pub fn optional_secret(
    name: &'static str,
    default: Option<SecretString>,
) -> Result<Option<SecretString>> {
    Ok(var(name).map(SecretString::from).or(default))
}

/// A PostgreSQL URL, when set (a secret: the error does not show it).
pub fn optional_postgres_url(
    name: &'static str,
    default: Option<SecretString>,
) -> Result<Option<SecretString>> {
    match var(name) {
        None => Ok(default),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Some(SecretString::from(url)))
        }
        Some(_) => Err(ConfigError::PostgresUrl(name)),
    }
}

/// `redis://a:7000, redis://b:7000` → the list as one secret (an address may hold a password),
/// each node checked; the error names the node by position only.
pub fn redis_nodes(
    name: &'static str,
    default: Option<SecretString>,
) -> Result<Option<SecretString>> {
    let Some(value) = var(name) else {
        return Ok(default);
    };
    let nodes = split_nodes(&value);
    if nodes.is_empty() {
        return Err(ConfigError::RedisNode(1));
    }
    for (i, node) in nodes.iter().enumerate() {
        let scheme = node.starts_with("redis://") || node.starts_with("rediss://");
        if !scheme || node.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::RedisNode(i + 1));
        }
    }
    Ok(Some(SecretString::from(nodes.join(","))))
}

/// The nodes of a `REDIS_CLUSTER_NODES` value, trimmed, empty ones left out.
pub fn split_nodes(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `http(s)://…`, when set.
pub fn optional_url(name: &'static str, default: Option<String>) -> Result<Option<String>> {
    match var(name) {
        None => Ok(default),
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(Some(url)),
        Some(other) => Err(invalid(name, other)),
    }
}

/// Set when this variable, or its traces-only twin, names an OTLP endpoint (the exporter reads
/// them itself).
pub fn otel(name: &'static str, default: bool) -> Result<bool> {
    Ok(default || var(name).is_some() || var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some())
}

pub fn log_format(name: &'static str, default: LogFormat) -> Result<LogFormat> {
    match var(name).map(|v| v.to_lowercase()).as_deref() {
        None => Ok(default),
        Some("json") => Ok(LogFormat::Json),
        Some("pretty") | Some("text") => Ok(LogFormat::Pretty),
        Some(other) => Err(ConfigError::LogFormat(other.to_owned())),
    }
}

pub fn auth_mode(name: &'static str, default: AuthMode) -> Result<AuthMode> {
    match var(name).map(|v| v.to_lowercase()).as_deref() {
        None => Ok(default),
        Some("jwt") => Ok(AuthMode::Jwt),
        Some("open") => Ok(AuthMode::Open),
        Some(other) => Err(ConfigError::AuthMode(other.to_owned())),
    }
}

/// `https://app.example.com, http://localhost:3000` → the origins, checked; `*` stands alone.
pub fn origins(name: &'static str, default: Vec<String>) -> Result<Vec<String>> {
    let Some(value) = var(name) else {
        return Ok(default);
    };
    let list: Vec<String> = value
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
pub fn proxies(name: &'static str, default: Vec<Cidr>) -> Result<Vec<Cidr>> {
    let Some(value) = var(name) else {
        return Ok(default);
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Cidr::parse(p).ok_or_else(|| ConfigError::Proxy(p.to_owned())))
        .collect()
}
