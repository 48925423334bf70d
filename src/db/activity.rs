//! Reads of the activity log: what history replays, and the log itself a page at a time. Each
//! is one prepared statement.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryResult;
use diesel_async::RunQueryDsl;

use super::prepared::{prepared, sql, Statement};
use crate::domain::history::{Change, Entry, Log, Page};
use crate::domain::ids::AnalysisId;
use crate::domain::status::ProgressStatus;

fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("activity log: bad {what}").into())
}

fn status(s: Option<String>) -> QueryResult<ProgressStatus> {
    s.as_deref()
        .and_then(ProgressStatus::parse)
        .ok_or_else(|| corrupt("status"))
}

/// The status changes and the hourly rates of one analysis, oldest first: what its history is
/// replayed from (the awards come with the dashboard).
pub async fn log(conn: &mut impl super::Conn, id: AnalysisId) -> QueryResult<Log> {
    struct History;
    impl Statement for History {
        const PARTS: &'static [&'static str] = &[
            "SELECT occurred_at, opportunity_id, to_status, NULL::float8 FROM progress_activity \
             WHERE analysis_id = ",
            " AND kind = 'status_change' \
             UNION ALL SELECT set_at, NULL, NULL, rate FROM hourly_rates WHERE analysis_id = ",
            " ORDER BY 1",
        ];
        type SqlType = (
            Timestamptz,
            Nullable<Text>,
            Nullable<Text>,
            Nullable<Double>,
        );
    }
    type Row = (DateTime<Utc>, Option<String>, Option<String>, Option<f64>);
    let rows: Vec<Row> =
        prepared::<History, _>(((sql::<SqlUuid>(), id.get()), (sql::<SqlUuid>(), id.get())))
            .load(conn)
            .await?;
    let mut log = Log::default();
    for (at, opportunity_id, to, rate) in rows {
        match (opportunity_id, rate) {
            (Some(opportunity_id), None) => log.changes.push(Change {
                at,
                opportunity_id,
                to: status(to)?,
            }),
            (None, Some(rate)) => log.rates.push((at, rate)),
            _ => return Err(corrupt("row")),
        }
    }
    Ok(log)
}

/// Up to `first + 1` status changes older than entry `before` (the newest when `None`), newest
/// first, and how many the log holds.
pub async fn page(
    conn: &mut impl super::Conn,
    id: AnalysisId,
    before: Option<i64>,
    first: i64,
) -> QueryResult<Page> {
    struct ActivityPage;
    impl Statement for ActivityPage {
        const PARTS: &'static [&'static str] = &[
            "SELECT p.id, p.occurred_at, p.opportunity_id, p.from_status, p.to_status, p.actor, t.total \
             FROM (SELECT count(*) AS total FROM progress_activity \
                   WHERE analysis_id = ",
            " AND kind = 'status_change') t \
             LEFT JOIN LATERAL (SELECT * FROM progress_activity WHERE analysis_id = ",
            " AND kind = 'status_change' AND id < ",
            " ORDER BY id DESC LIMIT ",
            ") p ON true ORDER BY p.id DESC",
        ];
        type SqlType = (
            Nullable<BigInt>,
            Nullable<Timestamptz>,
            Nullable<Text>,
            Nullable<Text>,
            Nullable<Text>,
            Nullable<Text>,
            BigInt,
        );
    }
    type Row = (
        Option<i64>,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
    );
    let rows: Vec<Row> = prepared::<ActivityPage, _>((
        (sql::<SqlUuid>(), id.get()),
        (sql::<SqlUuid>(), id.get()),
        (sql::<BigInt>(), before.unwrap_or(i64::MAX)),
        (sql::<BigInt>(), first + 1),
    ))
    .load(conn)
    .await?;
    let total = <[Row]>::first(&rows).map_or(0, |r| r.6);
    let mut entries = Vec::with_capacity(rows.len());
    for (id, at, opportunity_id, from, to, actor, _) in rows {
        // the count's row alone: the page is empty
        let (Some(id), Some(at), Some(opportunity_id)) = (id, at, opportunity_id) else {
            continue;
        };
        entries.push(Entry {
            id,
            at,
            opportunity_id,
            from: status(from)?,
            to: status(to)?,
            actor,
        });
    }
    Ok(Page { entries, total })
}
