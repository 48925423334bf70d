//! Report subscriptions and their deliveries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{email_deliveries, email_delivery_attempts, email_subscriptions};
use crate::domain::reports::Frequency;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_subscriptions, check_for_backend(diesel::pg::Pg))]
pub struct Subscription {
    pub id: Uuid,
    pub analysis_id: Uuid,
    pub email: String,
    pub frequency: String,
    pub hourly_rate: Option<f64>,
    pub language: String,
    pub active: bool,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Creates the subscription, or updates and reactivates the one for (analysis, email).
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    analysis_id: Uuid,
    email: &str,
    frequency: &str,
    hourly_rate: Option<f64>,
    language: &str,
    now: DateTime<Utc>,
) -> QueryResult<Subscription> {
    diesel::insert_into(email_subscriptions::table)
        .values((
            email_subscriptions::id.eq(Uuid::new_v4()),
            email_subscriptions::analysis_id.eq(analysis_id),
            email_subscriptions::email.eq(email),
            email_subscriptions::frequency.eq(frequency),
            email_subscriptions::hourly_rate.eq(hourly_rate),
            email_subscriptions::language.eq(language),
            email_subscriptions::created_at.eq(now),
        ))
        .on_conflict((email_subscriptions::analysis_id, email_subscriptions::email))
        .do_update()
        .set((
            email_subscriptions::frequency.eq(excluded(email_subscriptions::frequency)),
            email_subscriptions::hourly_rate.eq(excluded(email_subscriptions::hourly_rate)),
            email_subscriptions::language.eq(excluded(email_subscriptions::language)),
            email_subscriptions::active.eq(true),
        ))
        .returning(Subscription::as_returning())
        .get_result(conn)
        .await
}

/// Deactivates; true when the subscription exists (already inactive counts).
pub async fn deactivate(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let n = diesel::update(email_subscriptions::table.find(id))
        .set(email_subscriptions::active.eq(false))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// A claimed delivery: this caller, and no other, sends this report.
#[derive(Debug, Clone)]
pub struct Claim {
    pub delivery_id: Uuid,
    pub period_key: String,
    pub subscription: Subscription,
}

/// Claims up to `limit` due reports: subscriptions are locked with SKIP LOCKED (concurrent
/// schedulers take different rows) and a delivery row per (subscription, period) is inserted; a
/// period already claimed by anyone is skipped, so nothing is sent twice.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    weekly_slot: DateTime<Utc>,
    monthly_slot: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Claim>> {
    let weekly_key = Frequency::Weekly.period_key(weekly_slot);
    let monthly_key = Frequency::Monthly.period_key(monthly_slot);
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        let due: Vec<Subscription> = email_subscriptions::table
            .filter(email_subscriptions::active.eq(true))
            .filter(
                email_subscriptions::frequency
                    .eq("weekly")
                    .and(email_subscriptions::created_at.le(weekly_slot))
                    .and(
                        email_subscriptions::last_sent_at
                            .is_null()
                            .or(email_subscriptions::last_sent_at.lt(weekly_slot)),
                    )
                    .or(email_subscriptions::frequency
                        .eq("monthly")
                        .and(email_subscriptions::created_at.le(monthly_slot))
                        .and(
                            email_subscriptions::last_sent_at
                                .is_null()
                                .or(email_subscriptions::last_sent_at.lt(monthly_slot)),
                        )),
            )
            // not already claimed for that period (claimed and failed stays claimed)
            .filter(diesel::dsl::not(diesel::dsl::exists(
                email_deliveries::table.filter(
                    email_deliveries::subscription_id
                        .eq(email_subscriptions::id)
                        .and(
                            email_deliveries::period_key.eq(diesel::dsl::sql::<
                                diesel::sql_types::Text,
                            >(
                                "CASE WHEN email_subscriptions.frequency = 'weekly' THEN ",
                            )
                            .bind::<diesel::sql_types::Text, _>(weekly_key.clone())
                            .sql(" ELSE ")
                            .bind::<diesel::sql_types::Text, _>(monthly_key.clone())
                            .sql(" END")),
                        ),
                ),
            )))
            .order(email_subscriptions::id)
            .limit(limit)
            .select(Subscription::as_select())
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        let mut claims = Vec::with_capacity(due.len());
        for s in due {
            let key = match s.frequency.as_str() {
                "weekly" => weekly_key.clone(),
                _ => monthly_key.clone(),
            };
            let id: Option<Uuid> = diesel::insert_into(email_deliveries::table)
                .values((
                    email_deliveries::id.eq(Uuid::new_v4()),
                    email_deliveries::subscription_id.eq(s.id),
                    email_deliveries::period_key.eq(&key),
                    email_deliveries::status.eq("sending"),
                ))
                .on_conflict_do_nothing()
                .returning(email_deliveries::id)
                .get_result(conn)
                .await
                .optional()?;
            if let Some(delivery_id) = id {
                claims.push(Claim {
                    delivery_id,
                    period_key: key,
                    subscription: s,
                });
            }
        }
        Ok(claims)
    })
    .await
}

/// Records one attempt and its outcome.
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    delivery_id: Uuid,
    attempt: i16,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(email_delivery_attempts::table)
        .values((
            email_delivery_attempts::delivery_id.eq(delivery_id),
            email_delivery_attempts::attempt.eq(attempt),
            email_delivery_attempts::outcome.eq(if error.is_none() { "sent" } else { "failed" }),
            email_delivery_attempts::error.eq(error),
        ))
        .execute(conn)
        .await?;
    diesel::update(email_deliveries::table.find(delivery_id))
        .set((
            email_deliveries::attempts.eq(attempt),
            email_deliveries::last_error.eq(error),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a delivery: sent (and the subscription's `last_sent_at` moves on) or failed.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    sent: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let delivery_id = claim.delivery_id;
    let subscription_id = claim.subscription.id;
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        diesel::update(email_deliveries::table.find(delivery_id))
            .set((
                email_deliveries::status.eq(if sent { "sent" } else { "failed" }),
                email_deliveries::sent_at.eq(sent.then_some(now)),
            ))
            .execute(conn)
            .await?;
        if sent {
            diesel::update(email_subscriptions::table.find(subscription_id))
                .set(email_subscriptions::last_sent_at.eq(now))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}
