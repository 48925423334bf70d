//! Where an uncached dashboard is read: on the replica when it is in use, its versions confirmed
//! on the primary at the same time (one look-up by key, side by side with the replica's
//! statement); a dashboard the replica has not replayed up to the primary's version is read
//! again on the primary. So a replica read is never older than a read on the primary would have
//! been when it began, and what it puts in the cache is as safe as the primary's.

use std::collections::HashMap;

use crate::db::replica::Replica;
use crate::db::{analyses, dashboard, DbPool};
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;
use crate::error::AppResult;
use crate::series;

use super::Catalog;

type Read = (HashMap<AnalysisId, DashboardData>, Option<String>);

/// The dashboards of `ids` and the catalog's mark, as `dashboard::load_with_catalog` gives them.
pub async fn read(
    primary: &DbPool,
    replica: Option<&Replica>,
    ids: &[AnalysisId],
    catalog: &Catalog,
) -> AppResult<Read> {
    let Some(replica) = replica else {
        return on_primary(primary, ids, catalog).await;
    };
    let Some(reader) = replica.reader() else {
        series::replica_read("primary");
        return on_primary(primary, ids, catalog).await;
    };
    let on_replica = async {
        let mut conn = reader.get().await.map_err(|e| e.to_string())?;
        dashboard::load_with_catalog(&mut conn, ids, catalog)
            .await
            .map_err(|e| e.to_string())
    };
    let versions = async {
        let mut conn = primary.get().await?;
        AppResult::Ok(analyses::versions(&mut conn, ids).await?)
    };
    let (replicated, versions) = tokio::join!(on_replica, versions);
    let versions = versions?;
    let (mut loaded, mark) = match replicated {
        Ok(read) => read,
        Err(e) => {
            replica.skip(&e);
            series::replica_read("primary");
            return on_primary(primary, ids, catalog).await;
        }
    };
    // gone on the primary: gone
    loaded.retain(|id, _| versions.contains_key(id));
    let behind: Vec<AnalysisId> = versions
        .iter()
        .filter(|(id, v)| loaded.get(id).is_none_or(|d| d.analysis.version < **v))
        .map(|(id, _)| *id)
        .collect();
    if behind.is_empty() {
        series::replica_read("replica");
        return Ok((loaded, mark));
    }
    series::replica_read("primary");
    let (fresh, fresh_mark) = on_primary(primary, &behind, catalog).await?;
    loaded.extend(fresh);
    Ok((loaded, fresh_mark.or(mark)))
}

async fn on_primary(pool: &DbPool, ids: &[AnalysisId], catalog: &Catalog) -> AppResult<Read> {
    let mut conn = pool.get().await?;
    Ok(dashboard::load_with_catalog(&mut conn, ids, catalog).await?)
}
