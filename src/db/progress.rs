//! Progress rows and the append-only activity log.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{progress_activity, user_progress};
use crate::domain::ids::AnalysisId;
use crate::domain::status::ProgressStatus;
use crate::domain::streak::ActivitySummary;

/// The current status of one opportunity, or `None` when the analysis has no such opportunity.
pub async fn status_of(
    conn: &mut AsyncPgConnection,
    analysis_id: AnalysisId,
    opportunity_id: &str,
) -> QueryResult<Option<ProgressStatus>> {
    let analysis_id = analysis_id.get();
    let status: Option<String> = user_progress::table
        .find((analysis_id, opportunity_id))
        .select(user_progress::status)
        .first(conn)
        .await
        .optional()?;
    status
        .map(|s| {
            ProgressStatus::parse(&s).ok_or_else(|| {
                diesel::result::Error::DeserializationError(format!("bad status {s:?}").into())
            })
        })
        .transpose()
}

/// Moves one opportunity to `status`, setting `implemented_at` only for IMPLEMENTED.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    analysis_id: AnalysisId,
    opportunity_id: &str,
    status: ProgressStatus,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let analysis_id = analysis_id.get();
    let implemented_at = (status == ProgressStatus::Implemented).then_some(now);
    diesel::update(user_progress::table.find((analysis_id, opportunity_id)))
        .set((
            user_progress::status.eq(status.as_str()),
            user_progress::implemented_at.eq(implemented_at),
            user_progress::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends a status change to the activity log.
pub async fn log_status_change(
    conn: &mut AsyncPgConnection,
    analysis_id: AnalysisId,
    opportunity_id: &str,
    from: ProgressStatus,
    to: ProgressStatus,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let analysis_id = analysis_id.get();
    diesel::insert_into(progress_activity::table)
        .values((
            progress_activity::analysis_id.eq(analysis_id),
            progress_activity::opportunity_id.eq(opportunity_id),
            progress_activity::kind.eq("status_change"),
            progress_activity::from_status.eq(from.as_str()),
            progress_activity::to_status.eq(to.as_str()),
            progress_activity::occurred_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A row of [`activity_summaries_query`].
#[derive(QueryableByName)]
pub struct ActivityRow {
    #[diesel(sql_type = SqlUuid)]
    analysis_id: Uuid,
    #[diesel(sql_type = Array<Date>)]
    days: Vec<NaiveDate>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    first_implemented_at: Option<DateTime<Utc>>,
}

/// One statement for any number of analyses: active UTC days and the first implementation.
pub fn activity_summaries_query<'a, C>(
    analysis_ids: &'a [Uuid],
) -> impl diesel_async::methods::LoadQuery<'a, C, ActivityRow> + 'a
where
    C: diesel_async::AsyncConnectionCore<Backend = diesel::pg::Pg>,
{
    diesel::sql_query(
        "SELECT analysis_id, \
                array_agg(DISTINCT activity_day ORDER BY activity_day) AS days, \
                min(occurred_at) FILTER (WHERE to_status = 'IMPLEMENTED') AS first_implemented_at \
         FROM progress_activity WHERE analysis_id = ANY($1) GROUP BY analysis_id",
    )
    .bind::<Array<SqlUuid>, _>(analysis_ids)
}

pub fn into_summaries(rows: Vec<ActivityRow>) -> HashMap<AnalysisId, ActivitySummary> {
    rows.into_iter()
        .map(|r| {
            (
                r.analysis_id.into(),
                ActivitySummary {
                    days: r.days,
                    first_implemented_at: r.first_implemented_at,
                },
            )
        })
        .collect()
}
