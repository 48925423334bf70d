//! Progress over time as the `Dashboard` shows it: history points, before and after, the activity
//! log as a cursor connection, the streak. The figures are replayed by `domain::history`.

use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::types::{Badge, Metrics, ProgressSummary};
use crate::domain::dashboard::DashboardData;
use crate::domain::history::{self, Entry, Figures, Granularity, Page};
use crate::domain::reports::Lang;
use crate::domain::streak;
use crate::error::AppError;

/// Calendar buckets of history, in the analysis' time zone (weeks start on Monday).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::history::Granularity")]
pub enum HistoryGranularity {
    Day,
    Week,
    Month,
}

/// One bucket of history: the figures at its end.
#[derive(SimpleObject)]
pub struct ProgressPoint {
    /// Start of the bucket (local midnight of its first day).
    pub at: DateTime<Utc>,
    /// Opportunities not started at the end of the bucket.
    pub not_started: i32,
    /// In progress at its end.
    pub in_progress: i32,
    /// Implemented at its end.
    pub implemented: i32,
    /// Implemented over all, 0..100, at its end.
    pub completion_percentage: i32,
    /// Weekly hours the implemented opportunities saved at its end.
    pub hours_saved_weekly: f64,
    /// Null while no hourly rate was known.
    pub money_saved_annual: Option<i64>,
    /// Badges earned up to the end of the bucket, and their points.
    pub badges_earned: i32,
    /// Points of the badges earned up to its end.
    pub points: i32,
    /// Status changes within the bucket.
    pub changes: i32,
}

impl ProgressPoint {
    fn new(p: history::Point) -> Self {
        let s = &p.figures.summary;
        let m = &p.figures.metrics;
        Self {
            at: p.at,
            not_started: s.not_started,
            in_progress: s.in_progress,
            implemented: s.implemented,
            completion_percentage: s.completion_percentage,
            hours_saved_weekly: m.time_saved.implemented_weekly,
            money_saved_annual: m.money_saved.implemented_annual,
            badges_earned: p.figures.badges,
            points: p.figures.points,
            changes: p.changes,
        }
    }
}

/// The figures at one instant.
#[derive(SimpleObject)]
pub struct ProgressSnapshot {
    /// The instant.
    pub at: DateTime<Utc>,
    /// Counts per status and completion then.
    pub progress_summary: ProgressSummary,
    /// Time and money saved then (money with the rate known then).
    pub metrics: Metrics,
    /// Points of the badges earned by then.
    pub points: i32,
}

impl ProgressSnapshot {
    fn new(at: DateTime<Utc>, f: Figures) -> Self {
        Self {
            at,
            progress_summary: f.summary.into(),
            metrics: f.metrics.into(),
            points: f.points,
        }
    }
}

/// Before and after: the figures at `since` and now, and the badges earned in between.
#[derive(SimpleObject)]
pub struct ProgressDelta {
    /// The instant compared with now.
    pub since: DateTime<Utc>,
    /// The figures at `since`.
    pub before: ProgressSnapshot,
    /// The figures now.
    pub now: ProgressSnapshot,
    /// Badges earned after `since`, oldest first.
    pub badges_earned: Vec<Badge>,
}

/// The before and after of `data` over (since, now].
pub fn delta(
    data: &DashboardData,
    log: &history::Log,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    lang: Lang,
) -> ProgressDelta {
    let d = history::since(data, log, since, now);
    ProgressDelta {
        since,
        before: ProgressSnapshot::new(since, d.before),
        now: ProgressSnapshot::new(now, d.now),
        badges_earned: d.earned.iter().map(|b| Badge::new(b, lang)).collect(),
    }
}

/// History points, or the reason none are given.
pub fn points(
    data: &DashboardData,
    log: &history::Log,
    granularity: HistoryGranularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ProgressPoint>, AppError> {
    let points = history::history(data, log, Granularity::from(granularity), from, to)?;
    Ok(points.into_iter().map(ProgressPoint::new).collect())
}

/// One status change of the activity log: the audit trail.
#[derive(SimpleObject)]
pub struct ActivityEntry {
    /// The entry's id.
    pub id: ID,
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// The opportunity it moved.
    pub opportunity_id: String,
    /// Its status before.
    pub from: super::types::ProgressStatus,
    /// Its status after.
    pub to: super::types::ProgressStatus,
    /// The token subject that made the change; null when unknown (open mode, older entries).
    pub actor: Option<String>,
    /// Badges this change earned.
    pub badges: Vec<Badge>,
}

/// An entry and where it is in the log.
#[derive(SimpleObject)]
pub struct ActivityEdge {
    /// Pass as `after` to read the entries older than this one.
    pub cursor: String,
    /// The entry.
    pub node: ActivityEntry,
}

/// Whether there is more.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More entries follow the last edge.
    pub has_next_page: bool,
    /// The last edge's cursor.
    pub end_cursor: Option<String>,
}

/// A page of the activity log, newest first.
#[derive(SimpleObject)]
pub struct ActivityConnection {
    /// The page's entries.
    pub edges: Vec<ActivityEdge>,
    /// Whether more follow.
    pub page_info: PageInfo,
    /// Status changes in the whole log.
    pub total_count: i32,
}

const CURSOR_PREFIX: &str = "activity:";

fn cursor(entry: &Entry) -> String {
    format!("{CURSOR_PREFIX}{}", entry.id)
}

/// The entry id an `after` cursor names, or INVALID_INPUT for one this API did not give.
pub fn after(cursor: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0 && cursor.len() <= 40)
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid_input("after must be a cursor from an earlier page (its endCursor)")
        })
}

/// The connection of a page read with one more entry than asked for.
pub fn connection(
    data: &DashboardData,
    mut page: Page,
    first: i32,
    lang: Lang,
) -> ActivityConnection {
    let has_next_page = page.entries.len() > first as usize;
    page.entries.truncate(first as usize);
    let edges: Vec<ActivityEdge> = page
        .entries
        .into_iter()
        .map(|e| ActivityEdge {
            cursor: cursor(&e),
            node: ActivityEntry {
                id: ID(e.id.to_string()),
                at: e.at,
                opportunity_id: e.opportunity_id,
                from: e.from.into(),
                to: e.to.into(),
                actor: e.actor,
                // an award is made in its change's transaction, at its instant
                badges: data
                    .badges
                    .iter()
                    .filter(|b| b.earned_at == e.at)
                    .map(|b| Badge::new(b, lang))
                    .collect(),
            },
        })
        .collect();
    ActivityConnection {
        page_info: PageInfo {
            has_next_page,
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
    }
}

/// Consecutive local days with activity.
#[derive(SimpleObject)]
pub struct Streak {
    /// Consecutive local days with activity ending today or yesterday; 0 otherwise.
    pub current: i32,
    /// The longest run of consecutive local days with activity.
    pub longest: i32,
    /// The last local day with activity, YYYY-MM-DD.
    pub last_active_day: Option<String>,
}

/// The streak of `data` on its local day of `now`.
pub fn streak(data: &DashboardData, now: DateTime<Utc>) -> Streak {
    let days = &data.activity.days;
    let today = data.analysis.time_zone.day_of(now);
    Streak {
        current: streak::current_streak(days, today) as i32,
        longest: streak::longest_streak(days) as i32,
        last_active_day: days.last().map(|d| d.format("%Y-%m-%d").to_string()),
    }
}
