//! Platform-wide KPIs over a time window, in one statement.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, PartialEq, QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct PlatformFigures {
    /// Analyses with activity in the window.
    #[diesel(sql_type = BigInt)]
    pub active_dashboards: i64,
    /// Implemented opportunities over all opportunities, 0..100.
    #[diesel(sql_type = Double)]
    pub implementation_rate: f64,
    /// Weekly hours saved by every implemented opportunity.
    #[diesel(sql_type = Double)]
    pub hours_saved_weekly: f64,
    /// Badges awarded in the window.
    #[diesel(sql_type = BigInt)]
    pub badges_awarded: i64,
}

pub async fn figures(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<PlatformFigures> {
    diesel::sql_query(
        "SELECT
            (SELECT count(DISTINCT analysis_id) FROM progress_activity
              WHERE occurred_at > $1 AND occurred_at <= $2) AS active_dashboards,
            coalesce((SELECT round(100.0 * count(*) FILTER (WHERE status = 'IMPLEMENTED')
                                  / nullif(count(*), 0), 1)::float8 FROM user_progress), 0) AS implementation_rate,
            coalesce((SELECT round(sum(o.hours_per_week)::numeric, 2)::float8
                        FROM user_progress p JOIN opportunities o USING (analysis_id, opportunity_id)
                       WHERE p.status = 'IMPLEMENTED'), 0) AS hours_saved_weekly,
            (SELECT count(*) FROM user_badges WHERE earned_at > $1 AND earned_at <= $2) AS badges_awarded",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .get_result(conn)
    .await
}
