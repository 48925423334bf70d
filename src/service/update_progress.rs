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
        let analysis = analyses::lock(conn, id)
            .await?
            .ok_or(AppError::AnalysisNotFound(id))?;
        let from = progress::status_of(conn, id, key.as_str())
            .await?
            .ok_or_else(|| AppError::OpportunityNotFound {
                analysis_id: id,
                opportunity_id: key.as_str().to_owned(),
            })?;
        let moved = transition(from, change.status)?;
        let rate_changed = rate.is_some() && rate != analysis.hourly_rate;
        if let Transition::Move { from, to } = moved {
            progress::set_status(conn, id, key.as_str(), to, now).await?;
            progress::log_status_change(conn, id, key.as_str(), from, to, now).await?;
        }
        if moved != Transition::Unchanged || rate_changed {
            analyses::touch(conn, id, rate, now).await?;
        }
        let mut data = dashboard::load_many(conn, &[id])
            .await?
            .remove(&id)
            .ok_or(AppError::AnalysisNotFound(id))?;
        let changed = moved != Transition::Unchanged;
        let new_badges = if changed {
            award(conn, &mut data, now).await?
        } else {
            Vec::new()
        };
        let events = events(&data, &new_badges, changed || rate_changed, now);
        let payloads = events
            .iter()
            .map(|e| serde_json::to_value(e).expect("events serialise"))
            .collect();
        let outbox_ids = outbox::append(conn, id, payloads).await?;
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

/// The award step: badges the change just earned are stored (and added to `data`), and every
/// badge's progress is saved.
async fn award(
    conn: &mut AsyncPgConnection,
    data: &mut DashboardData,
    now: DateTime<Utc>,
) -> AppResult<Vec<EarnedBadge>> {
    let id = data.analysis.id;
    let facts = Facts::compute(
        data.analysis.created_at,
        &data.opportunities,
        &data.activity,
        now,
    );
    let mut earned: HashSet<BadgeId> = data.badges.iter().map(|b| b.badge.id).collect();
    let due = newly_earned(&data.catalog, &earned, &facts);
    let new_badges = badges::award(conn, id, &due, now).await?;
    earned.extend(new_badges.iter().map(|b| b.badge.id));
    let progress = achievements(&data.catalog, &earned, &facts);
    badges::save_progress(conn, id, &progress, now).await?;
    data.badges.extend(new_badges.iter().cloned());
    Ok(new_badges)
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
