//! The connection pool: bounded waits, a statement timeout and an application name on every
//! connection, and a statement counter so tests and benchmarks can see how many SQL statements a
//! request costs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::ConnectionError;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::error::BoxError;

pub type DbConn<'a> = bb8::PooledConnection<'a, AsyncDieselConnectionManager<AsyncPgConnection>>;
pub type PoolError = bb8::RunError<diesel_async::pooled_connection::PoolError>;

/// The bb8 pool, with every wait for a connection measured (`db_pool_wait_seconds`).
#[derive(Clone)]
pub struct DbPool(Pool<AsyncPgConnection>);

impl DbPool {
    pub async fn get(&self) -> Result<DbConn<'_>, PoolError> {
        let started = std::time::Instant::now();
        let conn = self.0.get().await;
        crate::series::db_pool_wait(started.elapsed());
        conn
    }

    /// Connections open and idle.
    pub fn state(&self) -> bb8::State {
        self.0.state()
    }
}

/// Counts the SQL statements sent over the pool's connections.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counts every statement; when spans are exported, gives each one a span (`sql`) under the
/// span that sent it, with its text (never its bound values).
struct Counting {
    counter: StatementCounter,
    /// Spans of the statements sent and not yet answered, oldest first: a pipelined connection
    /// has several. A statement whose future was dropped is never answered; it is closed when a
    /// later one is, and the queue is bounded.
    open: VecDeque<(String, tracing::Span)>,
}

/// Longest statement text kept on a span.
const MAX_SQL_TEXT: usize = 2048;

impl Counting {
    fn new(counter: StatementCounter) -> Self {
        Self {
            counter,
            open: VecDeque::new(),
        }
    }
}

impl Instrumentation for Counting {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.counter.0.fetch_add(1, Ordering::Relaxed);
                let span = crate::traces::child(|| {
                    tracing::debug_span!(
                        "sql",
                        otel.name = tracing::field::Empty,
                        otel.kind = "client",
                        db.system.name = "postgresql",
                        db.query.text = tracing::field::Empty,
                        otel.status_code = tracing::field::Empty,
                    )
                });
                if span.is_disabled() {
                    return;
                }
                let sql = statement_text(&query.to_string());
                let verb = sql
                    .split_whitespace()
                    .next()
                    .unwrap_or("sql")
                    .to_uppercase();
                span.record("otel.name", verb.as_str());
                span.record("db.query.text", sql.as_str());
                if self.open.len() >= 64 {
                    self.open.pop_front();
                }
                self.open.push_back((sql, span));
            }
            InstrumentationEvent::FinishQuery { query, error, .. } if !self.open.is_empty() => {
                let sql = statement_text(&query.to_string());
                if let Some(at) = self.open.iter().position(|(s, _)| *s == sql) {
                    // the ones before it were abandoned: their spans close here too
                    let (_, span) = self.open.drain(..=at).next_back().expect("at is in range");
                    if error.is_some() {
                        crate::traces::failed(&span);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The statement without diesel's `-- binds: [...]` suffix (values may be personal data), cut
/// to `MAX_SQL_TEXT` bytes.
fn statement_text(shown: &str) -> String {
    let sql = shown.split(" -- binds: ").next().unwrap_or_default().trim();
    let mut end = sql.len().min(MAX_SQL_TEXT);
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    sql[..end].to_owned()
}

/// Opens one connection with the session settings every connection of ours gets. Prepared
/// statements run their generic plan: ours look rows up by key, so the plan does not depend on
/// the values bound, and PostgreSQL otherwise kept re-planning the dashboards statement (an
/// array of ids looks costlier in a generic plan) on every call, which cost three times its
/// execution (bench/sql.sh).
pub async fn establish(
    url: &str,
    statement_timeout_ms: u128,
) -> Result<AsyncPgConnection, ConnectionError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "SET application_name = 'progress-dashboard'; SET statement_timeout = {statement_timeout_ms}; SET TIME ZONE 'UTC'; SET plan_cache_mode = force_generic_plan"
    ))
    .await
    .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// The address a database URL names, without its user or password: `127.0.0.1:5432/progress_dashboard`.
pub fn address_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.rsplit_once('@').map_or(rest, |(_, a)| a)
}

/// A connection that could not be made, in words that say to what.
pub fn unreachable(url: &str, e: impl std::fmt::Display) -> BoxError {
    format!(
        "cannot connect to PostgreSQL at {} (DATABASE_URL): {e}",
        address_of(url)
    )
    .into()
}

/// The primary's pool.
pub async fn build(config: &Config, counter: StatementCounter) -> Result<DbPool, BoxError> {
    build_for(config.database.url.expose_secret(), config, counter).await
}

/// A pool on `url` with the primary's settings (the replica's: its statements are counted too).
pub async fn build_for(
    url: &str,
    config: &Config,
    counter: StatementCounter,
) -> Result<DbPool, BoxError> {
    let timeout_ms = config.database.statement_timeout.as_millis();
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    // bb8 checks each connection on checkout; `Fast` makes that check free (no round trip).
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(move |url| {
        let counter = counter.clone();
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = establish(&url, timeout_ms).await?;
            conn.set_instrumentation(Counting::new(counter));
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::new_with_config(url, manager_config);
    Ok(DbPool(
        Pool::builder()
            .max_size(config.database.pool_size)
            .connection_timeout(config.database.connect_timeout)
            .build(manager)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_hide_credentials() {
        assert_eq!(address_of("postgres://u:secret@db:5432/x"), "db:5432/x");
        assert_eq!(address_of("postgres://db/x"), "db/x");
    }
}
