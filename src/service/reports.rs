//! Report subscriptions and sending. Addresses are never logged: subscriptions are named by id.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tracing::Instrument;

use crate::db::deliveries::{self, Claim};
use crate::db::subscriptions;
use crate::domain::ids::{AnalysisId, SubscriptionId};
use crate::domain::reports::ATTEMPTS_PER_RUN;
use crate::domain::reports::{Email, Frequency, Lang, Subscription};
use crate::domain::values::HourlyRate;
use crate::error::{AppError, AppResult};
use crate::reports::content::ReportContent;
use crate::reports::mailer::Outgoing;
use crate::reports::render;
use crate::service::{confirmations, Services};
use diesel_async::AsyncConnection;

/// Reports sent at once by one scheduler.
const CONCURRENCY: usize = 32;
/// Subscriptions claimed per round trip.
const BATCH: i64 = 200;

#[derive(Debug, Clone)]
pub struct SubscribeSpec {
    pub analysis_id: AnalysisId,
    pub email: String,
    pub frequency: Frequency,
    pub hourly_rate: Option<f64>,
    /// `None`: the analysis' language.
    pub lang: Option<Lang>,
}

/// Subscribes, or updates and reactivates the subscription of (analysis, email); a pending one
/// (new, or unsubscribed before) gets a confirmation email. `requested_by`: the caller's subject,
/// for the per-caller limit on confirmation emails.
pub async fn subscribe(
    services: &Services,
    spec: SubscribeSpec,
    requested_by: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Subscription> {
    let email = Email::parse(&spec.email)?;
    let rate = spec
        .hourly_rate
        .map(HourlyRate::parse)
        .transpose()?
        .map(HourlyRate::get);
    let Some(data) = services
        .dashboards
        .load(&[spec.analysis_id])
        .await?
        .remove(&spec.analysis_id)
    else {
        return Err(AppError::AnalysisNotFound(spec.analysis_id));
    };
    // the reports are in the language asked for, else the analysis' readers'
    let lang = spec.lang.unwrap_or(data.analysis.language);
    let sub = {
        let mut conn = services.state.pool.get().await?;
        conn.transaction::<_, AppError, _>(async |conn| {
            Ok(subscriptions::upsert(
                conn,
                spec.analysis_id,
                email.as_str(),
                spec.frequency,
                rate,
                lang,
                now,
            )
            .await?)
        })
        .await?
    };
    services.dashboards.evict(spec.analysis_id).await;
    tracing::info!(subscription = %sub.id, analysis = %sub.analysis_id, frequency = sub.frequency.as_str(), "report subscription saved");
    if sub.confirmed_at.is_none() {
        confirmations::send(services, &sub, requested_by, now).await?;
    }
    Ok(sub)
}

/// Unsubscribes the subscription a signed token names.
pub async fn unsubscribe(services: &Services, token: &str) -> AppResult<()> {
    let id = services.state.reports.verify(token).ok_or_else(|| {
        AppError::invalid_input("this unsubscribe link is invalid or was altered")
    })?;
    let mut conn = services.state.pool.get().await?;
    if !subscriptions::deactivate(&mut conn, id).await? {
        return Err(AppError::invalid_input(
            "this unsubscribe link names no subscription",
        ));
    }
    tracing::info!(subscription = %id, "unsubscribed from reports");
    Ok(())
}

/// The analysis' report subscriptions, oldest first.
pub async fn of_analysis(services: &Services, id: AnalysisId) -> AppResult<Vec<Subscription>> {
    let mut conn = services.state.pool.get().await?;
    Ok(subscriptions::of_analysis(&mut conn, id).await?)
}

/// The analysis a subscription reports on (`None`: no such subscription).
pub async fn analysis_of(services: &Services, id: SubscriptionId) -> AppResult<Option<AnalysisId>> {
    let mut conn = services.state.pool.get().await?;
    Ok(subscriptions::analysis_of(&mut conn, id).await?)
}

/// Ends a subscription (its owner's choice): no report goes to it any more.
pub async fn cancel(services: &Services, id: SubscriptionId) -> AppResult<()> {
    let mut conn = services.state.pool.get().await?;
    subscriptions::deactivate(&mut conn, id).await?;
    tracing::info!(subscription = %id, "report subscription ended by its owner");
    Ok(())
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendSummary {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
}

/// Renders one claimed report.
async fn compose(services: &Services, claim: &Claim, now: DateTime<Utc>) -> AppResult<Outgoing> {
    let sub = &claim.subscription;
    let data = services
        .dashboards
        .load(&[sub.analysis_id])
        .await?
        .remove(&sub.analysis_id)
        .ok_or(AppError::AnalysisNotFound(sub.analysis_id))?;
    let reports = &services.state.reports;
    let log =
        crate::service::history::log(services, sub.analysis_id, data.analysis.version).await?;
    // what changed since the previous report (or since the subscription, for the first)
    let since = sub.last_sent_at.unwrap_or(sub.created_at);
    let content = ReportContent::new(&data, sub.language, now, sub.hourly_rate, sub.last_sent_at)
        .with_history(&data, &log, Some(since), now)
        .for_email(
            sub.frequency,
            reports.dashboard_url(sub.analysis_id),
            reports.unsubscribe_url(sub.id),
        );
    let (html, text) = render::email(&content).map_err(AppError::Internal)?;
    Ok(Outgoing {
        to: sub.email.clone(),
        // Our words only: the company name is whatever the analysis said, and a subject line is
        // what a spammer would want to choose.
        subject: content.title.clone(),
        html,
        text,
        unsubscribe_url: content.unsubscribe_url,
    })
}

/// Sends one claimed report, with up to three attempts and exponential backoff; every attempt is
/// recorded. True when it went out; a later run tries again when it did not (`claim_due`).
async fn deliver(services: &Services, claim: &Claim, now: DateTime<Utc>) -> AppResult<bool> {
    let mail = compose(services, claim, now).await?;
    let reports = &services.state.reports;
    let mut sent = false;
    // numbered after those of earlier runs, which count towards MAX_ATTEMPTS
    for attempt in claim.attempts + 1..=claim.attempts + ATTEMPTS_PER_RUN {
        let result = reports.mailer.send(&reports.from, &mail).await;
        let outcome = if result.is_ok() { "sent" } else { "failed" };
        crate::series::email_send("report", outcome);
        let error = result.as_ref().err().map(|e| e.to_string());
        {
            let mut conn = services.state.pool.get().await?;
            deliveries::record_attempt(&mut conn, claim.delivery_id, attempt, error.as_deref())
                .await?;
        }
        match error {
            None => {
                sent = true;
                break;
            }
            Some(e) => {
                tracing::warn!(subscription = %claim.subscription.id, period = %claim.period_key, attempt, error = %e, "report not sent");
                let nth = (attempt - claim.attempts) as u32;
                if nth < ATTEMPTS_PER_RUN as u32 {
                    tokio::time::sleep(reports.retry_base * 2u32.pow(nth - 1)).await;
                }
            }
        }
    }
    let mut conn = services.state.pool.get().await?;
    deliveries::finish(&mut conn, claim, sent, services.state.clock.now()).await?;
    if sent {
        tracing::info!(subscription = %claim.subscription.id, period = %claim.period_key, "report sent");
    }
    Ok(sent)
}

/// Sends every report due at `now`, claiming in batches; `progress` is told each one done.
pub async fn send_due(
    services: &Services,
    now: DateTime<Utc>,
    progress: impl Fn(SendSummary) + Send + Sync,
) -> AppResult<SendSummary> {
    let zones = {
        let mut conn = services.state.pool.get().await?;
        deliveries::zones(&mut conn).await?
    };
    let sent = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let mut claimed = 0;
    let mut zones = zones.into_iter();
    let mut zone = zones.next();
    while let Some(z) = zone {
        let claims = {
            let mut conn = services.state.pool.get().await?;
            let lease = services.state.config.reports.claim_lease;
            deliveries::claim_due(&mut conn, now, z, lease, BATCH).await?
        };
        if claims.is_empty() {
            zone = zones.next();
            continue;
        }
        claimed += claims.len();
        futures_util::stream::iter(claims)
            .for_each_concurrent(CONCURRENCY, |claim| {
                let (sent, failed, progress) = (&sent, &failed, &progress);
                async move {
                    // each delivery is a trace of its own (none runs inside a request)
                    let span = tracing::debug_span!(
                        "report delivery",
                        subscription = %claim.subscription.id,
                        period = %claim.period_key,
                    );
                    match deliver(services, &claim, now).instrument(span).await {
                        Ok(true) => sent.fetch_add(1, Ordering::Relaxed),
                        Ok(false) => failed.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            tracing::error!(subscription = %claim.subscription.id, error = %e, "report failed");
                            if let Ok(mut conn) = services.state.pool.get().await {
                                let _ = deliveries::finish(&mut conn, &claim, false, now).await;
                            }
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                    progress(SendSummary {
                        claimed,
                        sent: sent.load(Ordering::Relaxed),
                        failed: failed.load(Ordering::Relaxed),
                    });
                }
            })
            .await;
    }
    Ok(SendSummary {
        claimed,
        sent: sent.into_inner(),
        failed: failed.into_inner(),
    })
}

/// Sends due reports every `every` (any number of instances may run it).
pub fn spawn_scheduler(services: Services, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match send_due(&services, services.state.clock.now(), |_| {}).await {
                Ok(s) if s.claimed > 0 => {
                    tracing::info!(sent = s.sent, failed = s.failed, "scheduled reports")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "report scheduler run failed"),
            }
        }
    });
}
