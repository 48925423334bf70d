//! Embedded migrations, run under an advisory lock so that instances starting together take turns,
//! followed by the badge catalog sync.

use diesel_async::{AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::catalog::{self, SyncReport};
use super::pool::establish;
use crate::error::BoxError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Arbitrary but fixed: "progdash" in ASCII.
const MIGRATION_LOCK: i64 = 0x7072_6f67_6461_7368;

#[derive(Debug)]
pub struct MigrateReport {
    pub applied: Vec<String>,
    pub catalog: SyncReport,
    /// The newest migration applied now, as `migrate --to` takes it (`20261207000003`).
    pub schema_version: Option<String>,
}

/// The versions applied to the database, oldest first.
pub(super) async fn applied(conn: &mut AsyncPgConnection) -> Result<Vec<String>, BoxError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}

/// Takes the migration lock (waits for another instance's migrations to end).
pub(super) async fn advisory_lock(conn: &mut AsyncPgConnection) -> Result<(), BoxError> {
    advisory(conn, "SELECT pg_advisory_lock($1)").await
}

/// Gives the migration lock back.
pub(super) async fn advisory_unlock(conn: &mut AsyncPgConnection) -> Result<(), BoxError> {
    advisory(conn, "SELECT pg_advisory_unlock($1)").await
}

async fn advisory(conn: &mut AsyncPgConnection, sql: &str) -> Result<(), BoxError> {
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies pending migrations and syncs the badge catalog. Needs a multi-threaded tokio runtime
/// (the harness blocks in place).
pub async fn run(database_url: &str) -> Result<MigrateReport, BoxError> {
    let mut conn = establish(database_url, 0)
        .await
        .map_err(|e| super::pool::unreachable(database_url, e))?;
    advisory_lock(&mut conn).await?;
    let result = async {
        let mut harness = AsyncMigrationHarness::new(conn);
        let applied = harness
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| format!("migration failed: {e}"))?
            .into_iter()
            .map(|v| v.to_string())
            .collect();
        let mut conn = harness.into_inner();
        let catalog = catalog::sync(&mut conn, &catalog::launch_catalog()?).await?;
        let schema_version = self::applied(&mut conn).await?.pop();
        let report = MigrateReport {
            applied,
            catalog,
            schema_version,
        };
        Ok::<_, BoxError>((conn, report))
    }
    .await;
    // A failed run drops the connection, and the session's lock with it.
    let (mut conn, report) = result?;
    advisory_unlock(&mut conn).await?;
    Ok(report)
}

/// Reverts every migration (tests prove each `down.sql` with it).
pub async fn revert_all(database_url: &str) -> Result<Vec<String>, BoxError> {
    let conn = establish(database_url, 0).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let reverted = harness
        .revert_all_migrations(MIGRATIONS)
        .map_err(|e| format!("revert failed: {e}"))?;
    Ok(reverted.into_iter().map(|v| v.to_string()).collect())
}

/// Reverts the newest migration (tests prove its backfill with it).
pub async fn revert_last(database_url: &str) -> Result<String, BoxError> {
    let conn = establish(database_url, 0).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let reverted = harness
        .revert_last_migration(MIGRATIONS)
        .map_err(|e| format!("revert failed: {e}"))?;
    Ok(reverted.to_string())
}

/// [`run`] with an owned URL, for spawning.
pub async fn run_owned(database_url: String) -> Result<MigrateReport, BoxError> {
    run(&database_url).await
}
