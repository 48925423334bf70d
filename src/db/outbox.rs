//! The event outbox: rows written in the transaction of the change that caused them, published to
//! the bus after commit, and swept up by the relay if that did not happen.

use super::schema::event_outbox;
use crate::domain::ids::AnalysisId;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Appends events (as JSON) for one analysis, in order; their ids, in order.
pub async fn append(
    conn: &mut impl super::Conn,
    analysis_id: AnalysisId,
    payloads: Vec<serde_json::Value>,
) -> QueryResult<Vec<i64>> {
    use super::prepared::{prepared, sql, Statement};
    use diesel::sql_types::{Array, BigInt, Jsonb, Uuid};
    struct Append;
    impl Statement for Append {
        // the payloads as one array, so that any number of events is the same statement
        const PARTS: &'static [&'static str] = &[
            "WITH appended AS (INSERT INTO event_outbox (analysis_id, payload) SELECT ",
            ", p FROM unnest(",
            "::jsonb[]) WITH ORDINALITY AS t (p, n) ORDER BY n RETURNING id) \
             SELECT id FROM appended ORDER BY id",
        ];
        type SqlType = BigInt;
    }
    if payloads.is_empty() {
        return Ok(Vec::new());
    }
    prepared::<Append, _>((
        (sql::<Uuid>(), analysis_id.get()),
        (sql::<Array<Jsonb>>(), payloads),
    ))
    .load(conn)
    .await
}

pub async fn mark_published(conn: &mut impl super::Conn, ids: &[i64]) -> QueryResult<()> {
    use super::prepared::{prepared, sql, Statement};
    use diesel::sql_types::{Array, BigInt};
    struct MarkPublished;
    impl Statement for MarkPublished {
        const PARTS: &'static [&'static str] = &[
            "UPDATE event_outbox SET published_at = CURRENT_TIMESTAMP WHERE id = ANY(",
            ")",
        ];
        type SqlType = diesel::sql_types::Untyped;
    }
    if ids.is_empty() {
        return Ok(());
    }
    prepared::<MarkPublished, _>(((sql::<Array<BigInt>>(), ids),))
        .execute(conn)
        .await?;
    Ok(())
}

/// Publishes rows that are still unpublished `grace_secs` after they were written, with `publish`
/// (true when they reached the bus). Rows are claimed with SKIP LOCKED, so instances running the
/// relay at once never take the same rows. Returns how many were published.
pub async fn relay<F, Fut>(
    conn: &mut AsyncPgConnection,
    grace_secs: f64,
    limit: i64,
    publish: F,
) -> QueryResult<usize>
where
    F: FnOnce(Vec<serde_json::Value>) -> Fut + Send,
    Fut: std::future::Future<Output = bool> + Send,
{
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        let rows: Vec<(i64, serde_json::Value)> = event_outbox::table
            .filter(event_outbox::published_at.is_null())
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "created_at < now() - make_interval(secs => ",
                )
                .bind::<diesel::sql_types::Double, _>(grace_secs)
                .sql(")"),
            )
            .order(event_outbox::id)
            .limit(limit)
            .select((event_outbox::id, event_outbox::payload))
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let (ids, payloads): (Vec<i64>, Vec<serde_json::Value>) = rows.into_iter().unzip();
        if !publish(payloads).await {
            return Ok(0);
        }
        mark_published(conn, &ids).await?;
        Ok(ids.len())
    })
    .await
}

/// Rows not yet published, and the age in seconds of the oldest (0 when none).
pub async fn pending(conn: &mut AsyncPgConnection) -> QueryResult<(i64, f64)> {
    diesel::sql_query(
        "SELECT count(*) AS n, \
         COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest \
         FROM event_outbox WHERE published_at IS NULL",
    )
    .get_result::<Pending>(conn)
    .await
    .map(|p| (p.n, p.oldest))
}

#[derive(diesel::QueryableByName)]
struct Pending {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    oldest: f64,
}

/// Deletes published rows older than `days`.
pub async fn prune(conn: &mut AsyncPgConnection, days: i32) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM event_outbox WHERE published_at < now() - make_interval(days => $1)",
    )
    .bind::<diesel::sql_types::Integer, _>(days)
    .execute(conn)
    .await
}
