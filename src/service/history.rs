//! Progress over time: the log history is replayed from, a page of the activity log, and the
//! look-up the analysis pipeline makes before it pays for an analysis.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;

use crate::db::activity;
use crate::db::{analyses, DbPool};
use crate::domain::history::{Log, Page};
use crate::domain::ids::AnalysisId;
use crate::domain::values::NormalizedUrl;
use crate::error::{AppError, AppResult};
use crate::service::record_analysis::DUPLICATE_WINDOW;
use crate::service::Services;

/// At most this many entries in one page of the activity log.
pub const MAX_PAGE: i32 = 100;

/// The status changes and hourly rates of one analysis, oldest first, as of its `version` at least.
pub async fn log(services: &Services, id: AnalysisId, version: i64) -> AppResult<Log> {
    replicated(services, id, version, move |conn| {
        Box::pin(activity::log(conn, id))
    })
    .await
}

/// Up to `first` status changes before the cursor `after` (an entry's id), newest first, as of
/// the analysis' `version` at least.
pub async fn activity(
    services: &Services,
    id: AnalysisId,
    version: i64,
    first: i32,
    after: Option<i64>,
) -> AppResult<Page> {
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(AppError::invalid_input(format!(
            "first must be between 1 and {MAX_PAGE}, got {first}"
        )));
    }
    replicated(services, id, version, move |conn| {
        Box::pin(activity::page(conn, id, after, i64::from(first)))
    })
    .await
}

/// Runs `read` on the replica when it is in use and has replayed analysis `id` up to `version`
/// (the version its reader holds: history never shows less than the dashboard beside it), and
/// on the primary otherwise. The version is read first, so the read after it sees at least that.
async fn replicated<T>(
    services: &Services,
    id: AnalysisId,
    version: i64,
    read: impl for<'c> Fn(&'c mut AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
) -> AppResult<T> {
    if let Some(replica) = &services.state.replica {
        if let Some(reader) = replica.reader() {
            match on_replica(reader, id, version, &read).await {
                Ok(Some(value)) => {
                    crate::series::replica_read("replica");
                    return Ok(value);
                }
                Ok(None) => {}
                Err(e) => replica.skip(&e),
            }
        }
        crate::series::replica_read("primary");
    }
    let mut conn = services.state.pool.get().await?;
    Ok(read(&mut conn).await?)
}

/// `read`'s answer on the replica, `None` when it has not replayed `version` yet.
async fn on_replica<T>(
    reader: &DbPool,
    id: AnalysisId,
    version: i64,
    read: &impl for<'c> Fn(&'c mut AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
) -> Result<Option<T>, String> {
    let mut conn = reader.get().await.map_err(|e| e.to_string())?;
    let replayed = analyses::versions(&mut *conn, &[id])
        .await
        .map_err(|e| e.to_string())?;
    if replayed.get(&id).is_none_or(|v| *v < version) {
        return Ok(None);
    }
    read(&mut conn).await.map(Some).map_err(|e| e.to_string())
}

/// The analysis recorded for this URL (normalised) in the last 7 days, if any: records nothing.
pub async fn recent_analysis(
    services: &Services,
    url: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<AnalysisId>> {
    let normalized = NormalizedUrl::parse(url)?;
    let found = {
        let mut conn = services.state.pool.get().await?;
        analyses::find_recent_by_url(&mut conn, normalized.as_str(), now - DUPLICATE_WINDOW).await?
    };
    crate::series::dedup_lookup(found.is_some());
    Ok(found)
}
