//! The connection pool: bounded waits, a statement timeout and an application name on every
//! connection, and a statement counter so tests and benchmarks can see how many SQL statements a
//! request costs.

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

struct Counting(StatementCounter);

impl Instrumentation for Counting {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0 .0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens one connection with the session settings every connection of ours gets.
pub async fn establish(
    url: &str,
    statement_timeout_ms: u128,
) -> Result<AsyncPgConnection, ConnectionError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "SET application_name = 'progress-dashboard'; SET statement_timeout = {statement_timeout_ms}; SET TIME ZONE 'UTC'"
    ))
    .await
    .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

pub async fn build(config: &Config, counter: StatementCounter) -> Result<DbPool, BoxError> {
    let timeout_ms = config.db_statement_timeout.as_millis();
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    // bb8 checks each connection on checkout; `Fast` makes that check free (no round trip).
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(move |url| {
        let counter = counter.clone();
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = establish(&url, timeout_ms).await?;
            conn.set_instrumentation(Counting(counter));
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::new_with_config(
        config.database_url.expose_secret(),
        manager_config,
    );
    Ok(DbPool(
        Pool::builder()
            .max_size(config.db_pool_size)
            .connection_timeout(config.db_connect_timeout)
            .build(manager)
            .await?,
    ))
}
