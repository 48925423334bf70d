//! Everything a dashboard shows, for any number of analyses in one statement: PostgreSQL builds
//! each dashboard as JSON, and the ids are bound as one array, so the statement is prepared once
//! per connection whatever the number of ids (five statements, each planned on every call, cost
//! PostgreSQL 2.8 times PostGraphile's CPU per dashboard: bench/sql.sh).

use std::collections::HashMap;
use std::sync::Arc;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use super::analyses::{self, AnalysisRow, OpportunityRow};
use super::badges::{self, AwardRow, BadgeRow};
use crate::domain::analysis::Analysis;
use crate::domain::badge::BadgeDefinition;
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;
use crate::domain::streak::ActivitySummary;

/// One row per analysis found: its dashboard as JSON, in the shape of [`DashboardJson`]. The
/// rows inside are the tables' own (`to_json`), so they decode into the same row types as the
/// query builder's statements.
const DASHBOARDS: &str = concat!("\
SELECT json_build_object(
  'catalog_mark', ", crate::catalog_mark_sql!(), ",
  'analysis', to_json(a),
  'opportunities', coalesce((
    SELECT json_agg(json_build_object('o', o, 'status', p.status, 'implemented_at', p.implemented_at)
                    ORDER BY o.position)
    FROM opportunities o
    JOIN user_progress p ON p.analysis_id = o.analysis_id AND p.opportunity_id = o.opportunity_id
    WHERE o.analysis_id = a.id), '[]'),
  'awards', coalesce((
    SELECT json_agg(json_build_object('award', u, 'badge', b) ORDER BY u.earned_at, b.display_order)
    FROM user_badges u JOIN badge_metadata b ON b.id = u.badge_id
    WHERE u.analysis_id = a.id), '[]'),
  'days', coalesce((
    SELECT json_agg(d.day ORDER BY d.day) FROM activity_days d WHERE d.analysis_id = a.id), '[]'),
  'first_implemented_at', a.first_implemented_at
)::text
FROM analyses a
WHERE a.id = ANY(");

#[derive(Deserialize)]
struct DashboardJson {
    catalog_mark: String,
    analysis: AnalysisRow,
    opportunities: Vec<OpportunityJson>,
    awards: Vec<AwardJson>,
    days: Vec<chrono::NaiveDate>,
    first_implemented_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct OpportunityJson {
    o: OpportunityRow,
    status: String,
    implemented_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct AwardJson {
    award: AwardRow,
    badge: BadgeRow,
}

/// [`DASHBOARDS`] with its ids bound. Its own query type because diesel never caches a
/// `sql_query` as a prepared statement; this one has a static id, so it is prepared once.
struct Dashboards<'a> {
    ids: &'a [Uuid],
}

impl QueryId for Dashboards<'_> {
    type QueryId = Dashboards<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for Dashboards<'_> {
    type SqlType = Text;
}

impl QueryFragment<Pg> for Dashboards<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(DASHBOARDS);
        out.push_bind_param::<Array<SqlUuid>, _>(self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}

pub type Catalog = Arc<Vec<BadgeDefinition>>;

/// The dashboards of `ids` (unknown ids are absent from the map) with the catalog given, and
/// the catalog's mark as the database has it now (`None` when no id was found): one statement,
/// whatever the number of ids.
pub async fn load_with_catalog(
    conn: &mut AsyncPgConnection,
    ids: &[AnalysisId],
    catalog: &Catalog,
) -> QueryResult<(HashMap<AnalysisId, DashboardData>, Option<String>)> {
    if ids.is_empty() {
        return Ok((HashMap::new(), None));
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.get()).collect();
    let rows: Vec<String> = Dashboards { ids: &ids }.load(conn).await?;
    decode(rows, catalog)
}

/// The dashboards of `ids` with the active catalog read alongside (two statements, pipelined,
/// on a shared reference so that a caller can put them in a pipeline of its own): for a
/// transaction that must see the catalog as it is.
pub async fn load_many(
    conn: &AsyncPgConnection,
    ids: &[AnalysisId],
) -> QueryResult<HashMap<AnalysisId, DashboardData>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let uuids: Vec<Uuid> = ids.iter().map(|id| id.get()).collect();
    // One shared reference per statement: polled together, they go out in one pipeline.
    let (mut c1, mut c2) = (conn, conn);
    let (rows, catalog_rows) = futures_util::try_join!(
        Dashboards { ids: &uuids }.load::<String>(&mut c1),
        badges::active_catalog_query().load(&mut c2),
    )?;
    Ok(decode(rows, &Arc::new(badges::into_catalog(catalog_rows)))?.0)
}

#[allow(clippy::type_complexity)]
fn decode(
    rows: Vec<String>,
    catalog: &Catalog,
) -> QueryResult<(HashMap<AnalysisId, DashboardData>, Option<String>)> {
    let mut mark = None;
    let out = rows
        .iter()
        .map(|row| {
            let d: DashboardJson = serde_json::from_str(row)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            mark = Some(d.catalog_mark);
            let opportunities = d
                .opportunities
                .into_iter()
                .map(|o| analyses::to_opportunity((o.o, o.status, o.implemented_at)))
                .collect::<QueryResult<Vec<_>>>()?;
            let awards = d.awards.into_iter().map(|a| (a.award, a.badge)).collect();
            let analysis = Analysis::from(d.analysis);
            let data = DashboardData {
                badges: badges::into_awards(awards)
                    .into_iter()
                    .map(|(_, award)| award)
                    .collect(),
                activity: ActivitySummary {
                    days: d.days,
                    first_implemented_at: d.first_implemented_at,
                },
                analysis,
                opportunities,
                catalog: catalog.clone(),
            };
            Ok((data.analysis.id, data))
        })
        .collect::<QueryResult<_>>()?;
    Ok((out, mark))
}
