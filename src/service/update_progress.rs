//! Moving an opportunity's status, with the activity log and badge awards in the same transaction.

use std::collections::HashSet;

use crate::domain::ids::{AnalysisId, BadgeId};
use chrono::{DateTime, SubsecRound, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::dashboard;
use crate::db::{analyses, badges, outbox, progress};
use crate::domain::achievements::{achievements, newly_earned, Achievement};
use crate::domain::analysis::Analysis;
use crate::domain::badge::BadgeDefinition;
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
    /// Who made it (a token's subject), for the activity log; `None` in open mode.
    pub actor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ProgressOutcome {
    /// Badges earned by this change only.
    pub new_badges: Vec<EarnedBadge>,
    /// False for a same-status no-op.
    pub changed: bool,
    /// The status move, when there was one: `(from, to)`.
    pub moved: Option<(ProgressStatus, ProgressStatus)>,
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
    let change_key = change.opportunity_id.clone();
    let outcome = {
        let mut conn = services.state.pool.get().await?;
        update_progress(&mut conn, change, now).await?
    };
    for award in &outcome.new_badges {
        crate::series::badge_awarded(&award.badge.slug);
    }
    if let Some((from, to)) = outcome.moved {
        record_move(&outcome.dashboard, &change_key, from, to);
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

/// The business series of one move: its destination, and the hours (and money, at the
/// analysis' rate) an implementation saves or an undo gives back.
fn record_move(data: &DashboardData, key: &str, from: ProgressStatus, to: ProgressStatus) {
    crate::series::opportunity_moved(to.as_str());
    let Some(o) = data.opportunities.iter().find(|o| o.opportunity_id == key) else {
        return;
    };
    let direction = match (from, to) {
        (_, ProgressStatus::Implemented) => "gained",
        (ProgressStatus::Implemented, _) => "undone",
        _ => return,
    };
    let a = &data.analysis;
    let money = a.hourly_rate.map(|rate| rate * f64::from(o.hours_per_year));
    crate::series::savings(direction, o.hours_per_week, money, &a.currency);
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
    // the database keeps microseconds: the state worked out here must be the state it stores
    let now = now.trunc_subsecs(6);
    conn.transaction::<_, AppError, _>(async move |conn| {
        // Two round trips under the row lock: what the change starts from, then every write
        // together. The state it leaves is worked out here rather than read back.
        let (analysis, from, mut data) = starting_point(conn, id, key.as_str()).await?;
        let moved = transition(from, change.status)?;
        let rate_changed = rate.is_some() && rate != analysis.hourly_rate;
        let step = match moved {
            Transition::Move { from, to } => Some((from, to)),
            Transition::Unchanged => None,
        };
        let touch = step.is_some() || rate_changed;
        let before = Facts::compute(
            data.analysis.created_at,
            data.analysis.time_zone,
            &data.opportunities,
            &data.activity,
            now,
        );
        if let Some((_, to)) = step {
            data.apply_status(key.as_str(), to, now);
        }
        if touch {
            data.apply_touch(rate, now);
        }
        let catalog = data.catalog.clone();
        let judged = match step {
            Some(_) => judge(&catalog, &mut data, &before, now),
            None => Judged::default(),
        };
        let events = events(&data, &judged.awards, touch, now);
        let payloads = events
            .iter()
            .map(|e| serde_json::to_value(e).expect("events serialise"))
            .collect();
        let shared: &AsyncPgConnection = conn;
        let (mut c1, mut c2, mut c3, mut c4, mut c5, mut c6, mut c7) =
            (shared, shared, shared, shared, shared, shared, shared);
        let key = key.as_str();
        let actor = change.actor.as_deref();
        let new_rate = rate.filter(|_| rate_changed);
        let (_, _, updated_at, _, _, outbox_ids, _) = futures_util::try_join!(
            maybe(step.map(|(_, to)| progress::set_status(&mut c1, id, key, to, now))),
            maybe(step.map(|(from, to)| {
                let change = progress::StatusChange { from, to, actor };
                progress::log_status_change(&mut c2, id, key, change, now)
            })),
            maybe(touch.then(|| analyses::touch(&mut c3, id, rate, now))),
            badges::insert_awards(&mut c4, id, &judged.awards),
            badges::save_progress(&mut c5, id, &judged.progress, now),
            outbox::append(&mut c6, id, payloads),
            maybe(new_rate.map(|r| progress::log_rate(&mut c7, id, r, now))),
        )?;
        if let Some(at) = updated_at {
            data.analysis.updated_at = at;
        }
        Ok(ProgressOutcome {
            new_badges: judged.awards,
            changed: step.is_some(),
            moved: step,
            dashboard: data,
            events,
            outbox_ids,
        })
    })
    .await
}

/// The analysis locked, the opportunity's status, and the dashboard as it stands, in one
/// round trip (pipelined: the reads run after the lock is taken).
async fn starting_point(
    conn: &mut AsyncPgConnection,
    id: AnalysisId,
    opportunity_id: &str,
) -> AppResult<(Analysis, ProgressStatus, DashboardData)> {
    let shared: &AsyncPgConnection = conn;
    let (mut c1, mut c2) = (shared, shared);
    let ids = [id];
    let (analysis, from, mut loaded) = futures_util::try_join!(
        analyses::lock(&mut c1, id),
        progress::status_of(&mut c2, id, opportunity_id),
        dashboard::load_many(shared, &ids),
    )?;
    let analysis = analysis.ok_or(AppError::AnalysisNotFound(id))?;
    let from = from.ok_or_else(|| AppError::OpportunityNotFound {
        analysis_id: id,
        opportunity_id: opportunity_id.to_owned(),
    })?;
    let data = loaded.remove(&id).ok_or(AppError::AnalysisNotFound(id))?;
    Ok((analysis, from, data))
}

/// What a change earned, and the progress to store.
#[derive(Default)]
struct Judged<'a> {
    awards: Vec<EarnedBadge>,
    progress: Vec<Achievement<'a>>,
}

/// Judges only the badges whose criteria read a fact the change moved: those it earns are added
/// to `data` (with their ids, made here), and their progress, earned or not, is what changed.
fn judge<'a>(
    catalog: &'a [BadgeDefinition],
    data: &mut DashboardData,
    before: &Facts,
    now: DateTime<Utc>,
) -> Judged<'a> {
    let after = Facts::compute(
        data.analysis.created_at,
        data.analysis.time_zone,
        &data.opportunities,
        &data.activity,
        now,
    );
    let moved = before.changed(&after);
    let mut earned: HashSet<BadgeId> = data.badges.iter().map(|b| b.badge.id).collect();
    let awards: Vec<EarnedBadge> = newly_earned(catalog, &earned, &after)
        .into_iter()
        .filter(|b| b.criteria.reads_any(&moved))
        .map(|b| EarnedBadge {
            id: uuid::Uuid::new_v4(),
            badge: b.clone(),
            version_earned: b.version,
            earned_at: now,
        })
        .collect();
    earned.extend(awards.iter().map(|a| a.badge.id));
    data.badges.extend(awards.iter().cloned());
    // in the order the database reads them back, should the clock ever have stepped back
    data.badges
        .sort_by_key(|b| (b.earned_at, b.badge.display_order));
    let progress = achievements(catalog, &earned, &after)
        .into_iter()
        .filter(|a| a.badge.criteria.reads_any(&moved))
        .collect();
    Judged { awards, progress }
}

/// A statement when there is one to run.
async fn maybe<T>(
    statement: Option<impl std::future::Future<Output = diesel::QueryResult<T>>>,
) -> diesel::QueryResult<Option<T>> {
    match statement {
        Some(s) => s.await.map(Some),
        None => Ok(None),
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
