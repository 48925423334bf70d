//! Moving an opportunity's status, with the activity log and badge awards in the same transaction.

use std::collections::HashSet;

use crate::domain::ids::{AnalysisId, BadgeId};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::dashboard;
use crate::db::{analyses, badges, outbox, progress};
use crate::domain::achievements::{achievements, newly_earned};
use crate::domain::badge::EarnedBadge;
use crate::domain::criteria::Facts;
use crate::domain::dashboard::DashboardData;
use crate::domain::metrics::{metrics, progress_summary};
use crate::domain::status::{transition, ProgressStatus, Transition};
use crate::domain::values::{HourlyRate, OpportunityKey};
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::service::publish;
use crate::service::Services;

#[derive(Debug, Clone)]
pub struct ProgressChange {
    pub analysis_id: AnalysisId,
    pub opportunity_id: String,
    pub status: ProgressStatus,
    pub hourly_rate: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ProgressOutcome {
    /// Badges earned by this change only.
    pub new_badges: Vec<EarnedBadge>,
    /// False for a same-status no-op.
    pub changed: bool,
    /// The dashboard as this change left it.
    pub dashboard: DashboardData,
    /// What the change tells live subscribers, also in the outbox (rows `outbox_ids`).
    pub events: Vec<Event>,
    pub outbox_ids: Vec<i64>,
}

/// Applies the change, then refreshes the cache and publishes its events.
pub async fn apply(
    services: &Services,
    change: ProgressChange,
    now: DateTime<Utc>,
) -> AppResult<ProgressOutcome> {
    let outcome = {
        let mut conn = services.state.pool.get().await?;
        update_progress(&mut conn, change, now).await?
    };
    for award in &outcome.new_badges {
        crate::series::badge_awarded(&award.badge.slug);
    }
    publish::changed(
        services,
        &outcome.dashboard,
        outcome.events.clone(),
        outcome.outbox_ids.clone(),
    )
    .await;
    Ok(outcome)
}

/// Applies one status change. Concurrent changes to one analysis queue on its row lock, so each
/// evaluation sees the one before, and the unique (analysis, badge) key makes awards idempotent.
pub async fn update_progress(
    conn: &mut AsyncPgConnection,
    change: ProgressChange,
    now: DateTime<Utc>,
) -> AppResult<ProgressOutcome> {
    let key = OpportunityKey::parse(&change.opportunity_id)?;
    let rate = change
        .hourly_rate
        .map(HourlyRate::parse)
        .transpose()?
        .map(HourlyRate::get);
    let id = change.analysis_id;
    conn.transaction::<_, AppError, _>(async move |conn| {
        // Round trips are what the row lock is held across: statements that can go together
        // go in one pipeline (run in the order written, each seeing the one before).
        let shared: &AsyncPgConnection = conn;
        let (mut c1, mut c2, mut c3) = (shared, shared, shared);
        let (analysis, from) = futures_util::try_join!(
            analyses::lock(&mut c1, id),
            progress::status_of(&mut c2, id, key.as_str()),
        )?;
        let analysis = analysis.ok_or(AppError::AnalysisNotFound(id))?;
        let from = from.ok_or_else(|| AppError::OpportunityNotFound {
            analysis_id: id,
            opportunity_id: key.as_str().to_owned(),
        })?;
        let moved = transition(from, change.status)?;
        let rate_changed = rate.is_some() && rate != analysis.hourly_rate;
        let step = match moved {
            Transition::Move { from, to } => Some((from, to)),
            Transition::Unchanged => None,
        };
        let touch = moved != Transition::Unchanged || rate_changed;
        let ids = [id];
        let (_, _, _, mut loaded) = futures_util::try_join!(
            maybe(step.map(|(_, to)| { progress::set_status(&mut c1, id, key.as_str(), to, now) })),
            maybe(step.map(|(from, to)| {
                progress::log_status_change(&mut c2, id, key.as_str(), from, to, now)
            })),
            maybe(touch.then(|| analyses::touch(&mut c3, id, rate, now))),
            dashboard::load_many(shared, &ids),
        )?;
        let mut data = loaded.remove(&id).ok_or(AppError::AnalysisNotFound(id))?;
        let changed = moved != Transition::Unchanged;
        let (new_badges, facts) = if changed {
            award(conn, &mut data, now).await?
        } else {
            (Vec::new(), None)
        };
        let events = events(&data, &new_badges, changed || rate_changed, now);
        let payloads = events
            .iter()
            .map(|e| serde_json::to_value(e).expect("events serialise"))
            .collect();
        // every badge's progress as the change left it, and the events, together
        let earned: HashSet<BadgeId> = data.badges.iter().map(|b| b.badge.id).collect();
        let progress = match &facts {
            Some(facts) => achievements(&data.catalog, &earned, facts),
            None => Vec::new(),
        };
        let shared: &AsyncPgConnection = conn;
        let (mut c1, mut c2) = (shared, shared);
        let ((), outbox_ids) = futures_util::try_join!(
            badges::save_progress(&mut c1, id, &progress, now),
            outbox::append(&mut c2, id, payloads),
        )?;
        Ok(ProgressOutcome {
            new_badges,
            changed,
            dashboard: data,
            events,
            outbox_ids,
        })
    })
    .await
}

/// The award step: badges the change just earned are stored (and added to `data`); the facts
/// they were judged on, for every badge's progress.
async fn award(
    conn: &mut AsyncPgConnection,
    data: &mut DashboardData,
    now: DateTime<Utc>,
) -> AppResult<(Vec<EarnedBadge>, Option<Facts>)> {
    let id = data.analysis.id;
    let facts = Facts::compute(
        data.analysis.created_at,
        &data.opportunities,
        &data.activity,
        now,
    );
    let earned: HashSet<BadgeId> = data.badges.iter().map(|b| b.badge.id).collect();
    let due = newly_earned(&data.catalog, &earned, &facts);
    let new_badges = badges::award(conn, id, &due, now).await?;
    data.badges.extend(new_badges.iter().cloned());
    Ok((new_badges, Some(facts)))
}

/// A statement when there is one to run.
async fn maybe(
    statement: Option<impl std::future::Future<Output = diesel::QueryResult<()>>>,
) -> diesel::QueryResult<()> {
    match statement {
        Some(s) => s.await,
        None => Ok(()),
    }
}

/// The events step: one per award, then the KPIs when anything a dashboard shows moved.
fn events(
    data: &DashboardData,
    new_badges: &[EarnedBadge],
    kpis_moved: bool,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let id = data.analysis.id;
    let mut events: Vec<Event> = new_badges
        .iter()
        .map(|award| Event::BadgeAwarded {
            analysis_id: id,
            award: award.clone(),
        })
        .collect();
    if kpis_moved {
        events.push(Event::KpiUpdated {
            analysis_id: id,
            metrics: metrics(
                &data.opportunities,
                data.analysis.hourly_rate,
                &data.analysis.currency,
            ),
            summary: progress_summary(&data.opportunities),
            at: now,
        });
    }
    events
}
