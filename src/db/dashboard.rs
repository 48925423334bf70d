//! Everything a dashboard shows, for any number of analyses in a fixed number of statements.

use std::collections::HashMap;
use std::sync::Arc;

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{analyses, badges, progress};
use crate::domain::analysis::Analysis;
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;

/// Loads the dashboards of `ids` (unknown ids are absent from the map) with five statements,
/// whatever the number of ids, sent together over one connection (pipelined).
pub async fn load_many(
    conn: &mut AsyncPgConnection,
    ids: &[AnalysisId],
) -> diesel::QueryResult<HashMap<AnalysisId, DashboardData>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.get()).collect();
    let ids = ids.as_slice();
    // One shared reference per statement: polled together, they go out in one pipeline.
    let conn: &AsyncPgConnection = conn;
    let (mut c1, mut c2, mut c3, mut c4, mut c5) = (conn, conn, conn, conn, conn);
    let (analysis_rows, opportunity_rows, award_rows, activity_rows, catalog_rows) = futures_util::try_join!(
        analyses::analyses_by_id(ids).load(&mut c1),
        analyses::opportunities_of(ids).load(&mut c2),
        badges::awards_query(ids).load(&mut c3),
        progress::activity_summaries_query(ids).load(&mut c4),
        badges::active_catalog_query().load(&mut c5),
    )?;
    let catalog = Arc::new(badges::into_catalog(catalog_rows));
    let mut activity = progress::into_summaries(activity_rows);
    let mut out: HashMap<AnalysisId, DashboardData> = analysis_rows
        .into_iter()
        .map(|row| {
            let analysis = Analysis::from(row);
            let data = DashboardData {
                activity: activity.remove(&analysis.id).unwrap_or_default(),
                analysis,
                opportunities: Vec::new(),
                badges: Vec::new(),
                catalog: catalog.clone(),
            };
            (data.analysis.id, data)
        })
        .collect();
    for row in opportunity_rows {
        let o = analyses::to_opportunity(row)?;
        if let Some(d) = out.get_mut(&o.analysis_id) {
            d.opportunities.push(o);
        }
    }
    for (analysis_id, award) in badges::into_awards(award_rows) {
        if let Some(d) = out.get_mut(&analysis_id) {
            d.badges.push(award);
        }
    }
    Ok(out)
}
