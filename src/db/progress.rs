//! Progress rows and the append-only activity log.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{hourly_rates, progress_activity, user_progress};
use crate::domain::ids::AnalysisId;
use crate::domain::status::ProgressStatus;

/// The current status of one opportunity, or `None` when the analysis has no such opportunity.
pub async fn status_of(
    conn: &mut impl super::Conn,
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
    conn: &mut impl super::Conn,
    analysis_id: AnalysisId,
    opportunity_id: &str,
    status: ProgressStatus,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use super::prepared::{prepared, sql, Statement};
    use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid};
    struct SetStatus;
    impl Statement for SetStatus {
        const PARTS: &'static [&'static str] = &[
            "UPDATE user_progress SET status = ",
            ", implemented_at = ",
            ", updated_at = ",
            " WHERE analysis_id = ",
            " AND opportunity_id = ",
            "",
        ];
        type SqlType = diesel::sql_types::Untyped;
    }
    let implemented_at = (status == ProgressStatus::Implemented).then_some(now);
    prepared::<SetStatus, _>((
        (sql::<Text>(), status.as_str()),
        (sql::<Nullable<Timestamptz>>(), implemented_at),
        (sql::<Timestamptz>(), now),
        (sql::<Uuid>(), analysis_id.get()),
        (sql::<Text>(), opportunity_id),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// A status change as the activity log keeps it.
pub struct StatusChange<'a> {
    pub from: ProgressStatus,
    pub to: ProgressStatus,
    /// The token's subject that made it, when known.
    pub actor: Option<&'a str>,
}

/// Appends a status change to the activity log (its local day set by the database, in the
/// analysis' time zone).
pub async fn log_status_change(
    conn: &mut impl super::Conn,
    analysis_id: AnalysisId,
    opportunity_id: &str,
    change: StatusChange<'_>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let analysis_id = analysis_id.get();
    diesel::insert_into(progress_activity::table)
        .values((
            progress_activity::analysis_id.eq(analysis_id),
            progress_activity::opportunity_id.eq(opportunity_id),
            progress_activity::kind.eq("status_change"),
            progress_activity::from_status.eq(change.from.as_str()),
            progress_activity::to_status.eq(change.to.as_str()),
            progress_activity::occurred_at.eq(now),
            progress_activity::actor.eq(change.actor),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Remembers an hourly rate the analysis takes from `now` (history shows money saved with the
/// rate known then).
pub async fn log_rate(
    conn: &mut impl super::Conn,
    analysis_id: AnalysisId,
    rate: f64,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(hourly_rates::table)
        .values((
            hourly_rates::analysis_id.eq(analysis_id.get()),
            hourly_rates::set_at.eq(now),
            hourly_rates::rate.eq(rate),
        ))
        .on_conflict((hourly_rates::analysis_id, hourly_rates::set_at))
        .do_update()
        .set(hourly_rates::rate.eq(rate))
        .execute(conn)
        .await?;
    Ok(())
}
