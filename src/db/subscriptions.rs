//! Report subscriptions: made, confirmed, listed, ended (their deliveries: `deliveries`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{email_confirmations, email_subscriptions};
use crate::domain::ids::{AnalysisId, SubscriptionId};
use crate::domain::reports::{Frequency, Lang, Subscription};

/// A row as stored; [`Subscription`] once its words are checked.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_subscriptions, check_for_backend(diesel::pg::Pg))]
pub(super) struct Row {
    id: Uuid,
    analysis_id: Uuid,
    email: String,
    frequency: String,
    hourly_rate: Option<f64>,
    language: String,
    active: bool,
    last_sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for Subscription {
    type Error = diesel::result::Error;

    /// An unknown frequency or language is an error, never a guess.
    fn try_from(r: Row) -> QueryResult<Self> {
        Ok(Self {
            frequency: Frequency::parse(&r.frequency)
                .ok_or_else(|| unknown("frequency", &r.frequency))?,
            language: Lang::parse(&r.language).ok_or_else(|| unknown("language", &r.language))?,
            id: r.id.into(),
            analysis_id: r.analysis_id.into(),
            email: r.email,
            hourly_rate: r.hourly_rate,
            active: r.active,
            last_sent_at: r.last_sent_at,
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
        })
    }
}

fn unknown(column: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(
        format!("email_subscriptions.{column}: unknown value {value:?}").into(),
    )
}

/// Creates the subscription (pending confirmation), or updates and reactivates the one for
/// (analysis, email); one that was inactive is pending again. Run it in a transaction.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    analysis_id: AnalysisId,
    email: &str,
    frequency: Frequency,
    hourly_rate: Option<f64>,
    language: Lang,
    now: DateTime<Utc>,
) -> QueryResult<Subscription> {
    let analysis_id = analysis_id.get();
    // An address that unsubscribed confirms again before anything is sent to it.
    diesel::update(email_subscriptions::table)
        .filter(email_subscriptions::analysis_id.eq(analysis_id))
        .filter(email_subscriptions::email.eq(email))
        .filter(email_subscriptions::active.eq(false))
        .set(email_subscriptions::confirmed_at.eq(None::<DateTime<Utc>>))
        .execute(conn)
        .await?;
    diesel::insert_into(email_subscriptions::table)
        .values((
            email_subscriptions::id.eq(Uuid::new_v4()),
            email_subscriptions::analysis_id.eq(analysis_id),
            email_subscriptions::email.eq(email),
            email_subscriptions::frequency.eq(frequency.as_str()),
            email_subscriptions::hourly_rate.eq(hourly_rate),
            email_subscriptions::language.eq(language.as_str()),
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
        .returning(Row::as_returning())
        .get_result(conn)
        .await?
        .try_into()
}

/// Deactivates; true when the subscription exists (already inactive counts).
pub async fn deactivate(conn: &mut AsyncPgConnection, id: SubscriptionId) -> QueryResult<bool> {
    let id = id.get();
    let n = diesel::update(email_subscriptions::table.find(id))
        .set(email_subscriptions::active.eq(false))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Confirms an active subscription (once: a second confirmation changes nothing); false when
/// it is unknown or unsubscribed.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let active = email_subscriptions::table
        .find(id.get())
        .filter(email_subscriptions::active.eq(true));
    diesel::update(active.filter(email_subscriptions::confirmed_at.is_null()))
        .set(email_subscriptions::confirmed_at.eq(now))
        .execute(conn)
        .await?;
    diesel::select(diesel::dsl::exists(active))
        .get_result(conn)
        .await
}

/// Confirmation emails sent to `email` since `since`, oldest first (their times).
pub async fn confirmations_since(
    conn: &mut AsyncPgConnection,
    email: &str,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    email_confirmations::table
        .filter(email_confirmations::email.eq(email))
        .filter(email_confirmations::sent_at.ge(since))
        .order(email_confirmations::sent_at)
        .select(email_confirmations::sent_at)
        .load(conn)
        .await
}

/// Notes a confirmation email sent.
pub async fn record_confirmation(
    conn: &mut AsyncPgConnection,
    subscription: &Subscription,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(email_confirmations::table)
        .values((
            email_confirmations::email.eq(&subscription.email),
            email_confirmations::subscription_id.eq(subscription.id.get()),
            email_confirmations::sent_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The analysis' subscriptions, oldest first.
pub async fn of_analysis(
    conn: &mut AsyncPgConnection,
    analysis_id: AnalysisId,
) -> QueryResult<Vec<Subscription>> {
    email_subscriptions::table
        .filter(email_subscriptions::analysis_id.eq(analysis_id.get()))
        .order((email_subscriptions::created_at, email_subscriptions::id))
        .select(Row::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Subscription::try_from)
        .collect()
}

/// The analysis a subscription reports on, if it exists.
pub async fn analysis_of(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
) -> QueryResult<Option<AnalysisId>> {
    let analysis: Option<Uuid> = email_subscriptions::table
        .find(id.get())
        .select(email_subscriptions::analysis_id)
        .first(conn)
        .await
        .optional()?;
    Ok(analysis.map(AnalysisId::from))
}
