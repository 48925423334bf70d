//! Revoked sessions: per subject, the instant before which its tokens no longer hold.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::revoked_sessions;

/// Revokes `sub`'s tokens issued before `before` (a later revocation wins).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    sub: &str,
    before: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(revoked_sessions::table)
        .values((
            revoked_sessions::sub.eq(sub),
            revoked_sessions::before.eq(before),
        ))
        .on_conflict(revoked_sessions::sub)
        .do_update()
        .set(revoked_sessions::before.eq(excluded(revoked_sessions::before)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every revocation, for an instance that starts.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    revoked_sessions::table
        .select((revoked_sessions::sub, revoked_sessions::before))
        .load(conn)
        .await
}
