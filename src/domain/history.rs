//! Progress over time, replayed from the activity log, the hourly rates and the awards: any past
//! instant's figures are exact (the rate as known then, badges earned by then), and history
//! buckets are local days, weeks (from Monday) or months in the analysis' time zone.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use super::analysis::Opportunity;
use super::badge::EarnedBadge;
use super::dashboard::DashboardData;
use super::metrics::{metrics, progress_summary, Metrics, ProgressSummary};
use super::status::ProgressStatus;
use super::zone::TimeZone;
use super::RuleError;

/// At most this many points in one history.
pub const MAX_POINTS: usize = 400;

/// One status change of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub opportunity_id: String,
    pub to: ProgressStatus,
}

/// What history is replayed from besides the dashboard: the status changes and the hourly
/// rates set, each oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Log {
    pub changes: Vec<Change>,
    /// (from when, rate)
    pub rates: Vec<(DateTime<Utc>, f64)>,
}

/// One status change as the activity log shows it (newest first, a page at a time).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub opportunity_id: String,
    pub from: ProgressStatus,
    pub to: ProgressStatus,
    pub actor: Option<String>,
}

/// A page of the log, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Up to `first + 1` entries: one more than asked says there is a next page.
    pub entries: Vec<Entry>,
    /// Status changes in the whole log.
    pub total: i64,
}

/// Calendar buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

/// The figures at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub summary: ProgressSummary,
    pub metrics: Metrics,
    /// Badges earned so far, and their points.
    pub badges: i32,
    pub points: i32,
}

/// One bucket of history: its start, the figures at its end, and the changes within it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub figures: Figures,
    pub changes: i32,
}

/// The figures at `since` and now, and the badges earned in between.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub before: Figures,
    pub now: Figures,
    pub earned: Vec<EarnedBadge>,
}

/// The dashboard's state as the log replays it, moved forward instant by instant.
struct Replay<'a> {
    data: &'a DashboardData,
    log: &'a Log,
    opportunities: Vec<Opportunity>,
    rate: Option<f64>,
    next: (usize, usize, usize),
    badges: i32,
    points: i32,
}

impl<'a> Replay<'a> {
    /// Every opportunity as it was recorded: not started.
    fn new(data: &'a DashboardData, log: &'a Log) -> Self {
        let opportunities = data
            .opportunities
            .iter()
            .map(|o| Opportunity {
                status: ProgressStatus::NotStarted,
                implemented_at: None,
                ..o.clone()
            })
            .collect();
        Self {
            data,
            log,
            opportunities,
            rate: None,
            next: (0, 0, 0),
            badges: 0,
            points: 0,
        }
    }

    /// Applies everything that happened while `before(at)` holds; the status changes applied.
    fn advance(&mut self, before: impl Fn(DateTime<Utc>) -> bool) -> i32 {
        let (mut c, mut r, mut b) = self.next;
        let mut changes = 0;
        while let Some(change) = self.log.changes.get(c).filter(|x| before(x.at)) {
            if let Some(o) = self
                .opportunities
                .iter_mut()
                .find(|o| o.opportunity_id == change.opportunity_id)
            {
                o.status = change.to;
                o.implemented_at = (change.to == ProgressStatus::Implemented).then_some(change.at);
            }
            changes += 1;
            c += 1;
        }
        while let Some((_, rate)) = self.log.rates.get(r).filter(|x| before(x.0)) {
            self.rate = Some(*rate);
            r += 1;
        }
        while let Some(award) = self.data.badges.get(b).filter(|x| before(x.earned_at)) {
            self.badges += 1;
            self.points += award.badge.points;
            b += 1;
        }
        self.next = (c, r, b);
        changes
    }

    fn figures(&self) -> Figures {
        Figures {
            summary: progress_summary(&self.opportunities),
            metrics: metrics(&self.opportunities, self.rate, &self.data.analysis.currency),
            badges: self.badges,
            points: self.points,
        }
    }
}

/// The figures at `at` (everything up to and including it).
pub fn figures_at(data: &DashboardData, log: &Log, at: DateTime<Utc>) -> Figures {
    let mut replay = Replay::new(data, log);
    replay.advance(|t| t <= at);
    replay.figures()
}

/// The figures at `since` and at `now`, and the awards in between.
pub fn since(data: &DashboardData, log: &Log, since: DateTime<Utc>, now: DateTime<Utc>) -> Delta {
    let mut replay = Replay::new(data, log);
    replay.advance(|t| t <= since);
    let before = replay.figures();
    replay.advance(|t| t <= now);
    Delta {
        before,
        now: replay.figures(),
        earned: data
            .badges
            .iter()
            .filter(|b| b.earned_at > since && b.earned_at <= now)
            .cloned()
            .collect(),
    }
}

/// One point per local bucket from the one holding `from` to the one holding `to`, oldest
/// first; more than [`MAX_POINTS`], or `from` after `to`, is refused before anything is built.
pub fn history(
    data: &DashboardData,
    log: &Log,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Point>, RuleError> {
    let zone = data.analysis.time_zone;
    let starts = bucket_starts(zone, granularity, from, to)?;
    let mut replay = Replay::new(data, log);
    // what happened before the first bucket is its starting state, not its changes
    let first = zone.start_of(starts[0]);
    replay.advance(|t| t < first);
    let mut points = Vec::with_capacity(starts.len());
    for start in starts {
        let end = zone.start_of(next(granularity, start));
        let changes = replay.advance(|t| t < end);
        points.push(Point {
            at: zone.start_of(start),
            figures: replay.figures(),
            changes,
        });
    }
    Ok(points)
}

/// The first local day of each bucket in the range.
fn bucket_starts(
    zone: TimeZone,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<NaiveDate>, RuleError> {
    if from > to {
        return Err(RuleError::InvalidInput("from must not be after to".into()));
    }
    let (first, last) = (
        start_of(granularity, zone.day_of(from)),
        start_of(granularity, zone.day_of(to)),
    );
    let count = match granularity {
        Granularity::Day => (last - first).num_days() + 1,
        Granularity::Week => (last - first).num_days() / 7 + 1,
        Granularity::Month => {
            i64::from(last.year() - first.year()) * 12 + i64::from(last.month())
                - i64::from(first.month())
                + 1
        }
    };
    if count > MAX_POINTS as i64 {
        return Err(RuleError::InvalidInput(format!(
            "a history has at most {MAX_POINTS} points; from..to holds {count}: narrow the range or use a larger granularity"
        )));
    }
    // counted, not compared: a bucket past the calendar's end saturates instead of overflowing
    let mut starts = Vec::with_capacity(count as usize);
    let mut day = first;
    for _ in 0..count {
        starts.push(day);
        day = next(granularity, day);
    }
    Ok(starts)
}

fn start_of(granularity: Granularity, day: NaiveDate) -> NaiveDate {
    match granularity {
        Granularity::Day => day,
        Granularity::Week => TimeZone::monday_of(day),
        Granularity::Month => day.with_day(1).unwrap_or(day),
    }
}

fn next(granularity: Granularity, start: NaiveDate) -> NaiveDate {
    match granularity {
        Granularity::Day => start.succ_opt(),
        Granularity::Week => start.checked_add_days(chrono::Days::new(7)),
        Granularity::Month => start.checked_add_months(Months::new(1)),
    }
    .unwrap_or(NaiveDate::MAX)
}

/// When an answer holding history computed at `now` stops holding: the start of the bucket after
/// now's (a new point appears, and the default `to` moves into it).
pub fn holds_until(zone: TimeZone, granularity: Granularity, now: DateTime<Utc>) -> DateTime<Utc> {
    zone.start_of(next(granularity, start_of(granularity, zone.day_of(now))))
}
