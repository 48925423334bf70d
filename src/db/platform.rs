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

/// One period's figures, ending at `at`.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct PlatformPoint {
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(embed)]
    pub figures: PlatformFigures,
}

/// The figures of every period ending in `first..=last` (`unit`-aligned ends, `unit` being
/// PostgreSQL's name: minute, hour, day; in UTC), in one statement over the log, the progress
/// moves and the awards: each move adds to or takes from the implemented count and hours at
/// the end of its period, so any past period is exact without a stored snapshot.
pub async fn history(
    conn: &mut AsyncPgConnection,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    unit: &'static str,
) -> QueryResult<Vec<PlatformPoint>> {
    diesel::sql_query(
        "WITH ends AS (
            SELECT g AS at FROM generate_series($1::timestamptz, $2::timestamptz, ('1 ' || $3)::interval) g),
         moves AS (
            SELECT p.occurred_at AS t, p.analysis_id,
                   (p.to_status = 'IMPLEMENTED')::int - (p.from_status = 'IMPLEMENTED')::int AS d,
                   o.hours_per_week
              FROM progress_activity p
              JOIN opportunities o ON o.analysis_id = p.analysis_id AND o.opportunity_id = p.opportunity_id
             WHERE p.kind = 'status_change' AND p.occurred_at <= $2),
         -- the end of the period each instant falls in: (end - 1 unit, end]
         moved AS (
            SELECT date_trunc($3, t - interval '1 microsecond', 'UTC') + ('1 ' || $3)::interval AS at,
                   sum(d) AS d, sum(d * hours_per_week) AS h
              FROM moves GROUP BY 1),
         active AS (
            SELECT date_trunc($3, occurred_at - interval '1 microsecond', 'UTC') + ('1 ' || $3)::interval AS at,
                   count(DISTINCT analysis_id) AS n
              FROM progress_activity
             WHERE occurred_at > $1::timestamptz - ('1 ' || $3)::interval AND occurred_at <= $2
             GROUP BY 1),
         recorded AS (
            SELECT date_trunc($3, a.created_at - interval '1 microsecond', 'UTC') + ('1 ' || $3)::interval AS at,
                   count(*) AS n
              FROM opportunities o JOIN analyses a ON a.id = o.analysis_id
             WHERE a.created_at <= $2 GROUP BY 1),
         awarded AS (
            SELECT date_trunc($3, earned_at - interval '1 microsecond', 'UTC') + ('1 ' || $3)::interval AS at,
                   count(*) AS n
              FROM user_badges
             WHERE earned_at > $1::timestamptz - ('1 ' || $3)::interval AND earned_at <= $2
             GROUP BY 1),
         running AS (
            SELECT e.at,
                   (SELECT coalesce(sum(d), 0) FROM moved WHERE moved.at <= e.at) AS implemented,
                   (SELECT coalesce(sum(h), 0) FROM moved WHERE moved.at <= e.at) AS hours,
                   (SELECT coalesce(sum(n), 0) FROM recorded WHERE recorded.at <= e.at) AS total
              FROM ends e)
         SELECT r.at,
                coalesce(a.n, 0)::int8 AS active_dashboards,
                coalesce(round(100.0 * r.implemented / nullif(r.total, 0), 1)::float8, 0) AS implementation_rate,
                round(r.hours::numeric, 2)::float8 AS hours_saved_weekly,
                coalesce(w.n, 0)::int8 AS badges_awarded
           FROM running r
           LEFT JOIN active a ON a.at = r.at
           LEFT JOIN awarded w ON w.at = r.at
          ORDER BY r.at",
    )
    .bind::<Timestamptz, _>(first)
    .bind::<Timestamptz, _>(last)
    .bind::<diesel::sql_types::Text, _>(unit)
    .load(conn)
    .await
}
