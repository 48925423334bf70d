//! Report deliveries: claiming the reports due (at each zone's local slots, once per period,
//! whatever the number of schedulers), and recording each attempt and the outcome.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{analyses, email_deliveries, email_delivery_attempts, email_subscriptions};
use super::subscriptions::Row;
use crate::domain::reports::{Frequency, Subscription, MAX_ATTEMPTS};
use crate::domain::zone::TimeZone;

/// A claimed delivery: this caller, and no other, sends this report.
#[derive(Debug, Clone)]
pub struct Claim {
    pub delivery_id: Uuid,
    /// Attempts made by earlier claims of the same delivery.
    pub attempts: i16,
    pub period_key: String,
    pub subscription: Subscription,
}

/// Claims up to `limit` due reports, weekly ones first: subscriptions are locked with SKIP
/// LOCKED (concurrent schedulers take different rows) and a delivery row per (subscription,
/// period) is inserted; a period already claimed by anyone is skipped, so nothing is sent twice.
/// A subscription is due when it existed at its frequency's latest slot and nothing was sent
/// since (a missed slot is caught up). A delivery still `sending` after `lease` (by the system
/// clock, which stamped it: its sender died mid-send) is claimed again, and so is one that
/// `failed` with attempts left (`MAX_ATTEMPTS`).
///
/// Slots are local: only subscriptions to analyses in `zone` are claimed, at that zone's slots.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    zone: TimeZone,
    lease: std::time::Duration,
    limit: i64,
) -> QueryResult<Vec<Claim>> {
    let weekly_slot = Frequency::Weekly.latest_slot(now, zone);
    let monthly_slot = Frequency::Monthly.latest_slot(now, zone);
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let cutoff = Utc::now()
        .checked_sub_signed(lease)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        let weekly = (Frequency::Weekly, weekly_slot);
        let mut claims = claim(conn, weekly, zone, cutoff, limit).await?;
        let left = limit - claims.len() as i64;
        if left > 0 {
            let monthly = (Frequency::Monthly, monthly_slot);
            claims.extend(claim(conn, monthly, zone, cutoff, left).await?);
        }
        Ok(claims)
    })
    .await
}

/// Claims up to `limit` due reports of one frequency, inside the caller's transaction.
async fn claim(
    conn: &mut AsyncPgConnection,
    (frequency, slot): (Frequency, DateTime<Utc>),
    zone: TimeZone,
    stale_before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Claim>> {
    let key = frequency.period_key(slot, zone);
    let in_zone = analyses::table
        .filter(analyses::time_zone.eq(zone.name()))
        .select(analyses::id);

    let due: Vec<Row> = email_subscriptions::table
        .filter(email_subscriptions::active.eq(true))
        .filter(email_subscriptions::confirmed_at.is_not_null())
        .filter(email_subscriptions::frequency.eq(frequency.as_str()))
        .filter(email_subscriptions::created_at.le(slot))
        .filter(email_subscriptions::analysis_id.eq_any(in_zone))
        .filter(
            email_subscriptions::last_sent_at
                .is_null()
                .or(email_subscriptions::last_sent_at.lt(slot)),
        )
        // not already claimed for that period (claimed and failed stays claimed), unless the
        // claim outlived its lease
        .filter(diesel::dsl::not(diesel::dsl::exists(
            email_deliveries::table
                .filter(
                    email_deliveries::subscription_id
                        .eq(email_subscriptions::id)
                        .and(email_deliveries::period_key.eq(&key)),
                )
                .filter(diesel::dsl::not(stale(stale_before))),
        )))
        .order(email_subscriptions::id)
        .limit(limit)
        .select(Row::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    let mut claims = Vec::with_capacity(due.len());
    for row in due {
        let subscription = Subscription::try_from(row)?;
        let id = take_or_insert(conn, subscription.id.get(), &key, stale_before).await?;
        if let Some((delivery_id, attempts)) = id {
            claims.push(Claim {
                delivery_id,
                attempts,
                period_key: key.clone(),
                subscription,
            });
        }
    }
    Ok(claims)
}

/// A delivery claimed before `before` and not done with: still `sending` (its sender is gone),
/// or `failed` with attempts left (the mail server may be back).
fn stale(before: DateTime<Utc>) -> Stale {
    email_deliveries::status
        .eq("sending")
        .or(email_deliveries::status
            .eq("failed")
            .and(email_deliveries::attempts.lt(MAX_ATTEMPTS)))
        .and(email_deliveries::created_at.lt(before))
}

type Stale = diesel::dsl::And<
    diesel::dsl::Or<
        diesel::dsl::Eq<email_deliveries::status, &'static str>,
        diesel::dsl::And<
            diesel::dsl::Eq<email_deliveries::status, &'static str>,
            diesel::dsl::Lt<email_deliveries::attempts, i16>,
        >,
    >,
    diesel::dsl::Lt<email_deliveries::created_at, DateTime<Utc>>,
>;

/// The delivery row of a claim and the attempts it has had: a stale one taken over in place
/// (its attempts stay on record and count; the subscription's row lock keeps other schedulers
/// off it meanwhile), or a new one; `None` when someone else holds it.
async fn take_or_insert(
    conn: &mut AsyncPgConnection,
    subscription_id: Uuid,
    key: &str,
    stale_before: DateTime<Utc>,
) -> QueryResult<Option<(Uuid, i16)>> {
    let taken_over: Option<(Uuid, i16)> = diesel::update(
        email_deliveries::table
            .filter(email_deliveries::subscription_id.eq(subscription_id))
            .filter(email_deliveries::period_key.eq(key))
            .filter(stale(stale_before)),
    )
    .set((
        email_deliveries::created_at.eq(Utc::now()),
        email_deliveries::status.eq("sending"),
    ))
    .returning((email_deliveries::id, email_deliveries::attempts))
    .get_result(conn)
    .await
    .optional()?;
    if taken_over.is_some() {
        return Ok(taken_over);
    }
    let inserted: Option<Uuid> = diesel::insert_into(email_deliveries::table)
        .values((
            email_deliveries::id.eq(Uuid::new_v4()),
            email_deliveries::subscription_id.eq(subscription_id),
            email_deliveries::period_key.eq(key),
            email_deliveries::status.eq("sending"),
        ))
        .on_conflict_do_nothing()
        .returning(email_deliveries::id)
        .get_result(conn)
        .await
        .optional()?;
    Ok(inserted.map(|id| (id, 0)))
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
    let subscription_id = claim.subscription.id.get();
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

/// The time zones of the analyses with a confirmed, active subscription: the scheduler claims
/// each zone's reports at its own local slots.
pub async fn zones(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TimeZone>> {
    let names: Vec<String> = analyses::table
        .filter(
            analyses::id.eq_any(
                email_subscriptions::table
                    .filter(email_subscriptions::active.eq(true))
                    .filter(email_subscriptions::confirmed_at.is_not_null())
                    .select(email_subscriptions::analysis_id),
            ),
        )
        .select(analyses::time_zone)
        .distinct()
        .load(conn)
        .await?;
    // names are written only once parsed
    Ok(names
        .iter()
        .filter_map(|n| TimeZone::parse(n).ok())
        .collect())
}
