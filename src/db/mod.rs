//! PostgreSQL: the pool, migrations, the badge catalog sync, and the queries per table.
//! Query functions take a connection and return `QueryResult`, so callers pick the transaction.

pub mod activity;
pub mod analyses;
pub mod badges;
pub mod catalog;
pub mod catalog_file;
pub mod dashboard;
pub mod deliveries;
pub mod migrate;
pub mod outbox;
pub mod platform;
pub mod pool;
pub mod prepared;
pub mod progress;
pub mod replica;
pub mod rollback;
pub mod schema;
pub mod sessions;
pub mod subscriptions;

pub use pool::{DbConn, DbPool, StatementCounter};

/// A connection a statement can run on: an owned one, or a shared reference to one, so that
/// statements polled together go out in one pipeline (one round trip, run in the order polled).
pub trait Conn: diesel_async::AsyncConnectionCore<Backend = diesel::pg::Pg> + Send {}

impl<C: diesel_async::AsyncConnectionCore<Backend = diesel::pg::Pg> + Send> Conn for C {}

/// One round trip to the database through the pool.
pub async fn ping(pool: &DbPool) -> Result<(), crate::error::AppError> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    Ok(())
}
