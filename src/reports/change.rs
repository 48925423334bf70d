//! What a report says of change: what moved since the previous report (opportunities, weekly
//! hours, badges, the streak), and implemented hours per week, week by week. Both are replayed
//! from the activity log (`domain::history`).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::numbers::hours;
use crate::domain::dashboard::DashboardData;
use crate::domain::history::{self, Granularity, Log};
use crate::domain::messages::Message;
use crate::domain::reports::Lang;
use crate::domain::streak::current_streak;

/// Weeks the progress chart shows, the current one last.
pub const CHART_WEEKS: i64 = 12;

/// Since the previous report.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Opportunities whose status changed.
    pub moved: usize,
    /// Implemented hours per week gained (signed: "+5", "-2,5", "0").
    pub hours_gained: String,
    /// Badges earned.
    pub badges: usize,
    /// Consecutive local days with activity, now.
    pub streak: u32,
    /// The four figures above as sentences in the reader's language.
    pub lines: Vec<String>,
}

/// One week of the progress chart.
#[derive(Debug, Clone, Serialize)]
pub struct WeekBar {
    /// Its Monday, local, as a short date.
    pub week: String,
    /// Implemented hours per week at its end.
    pub hours: String,
    /// 1..100, against the analysis' potential hours per week.
    pub width: u32,
}

/// The last [`CHART_WEEKS`] weeks (from the analysis' creation at the earliest).
pub fn weeks(data: &DashboardData, log: &Log, now: DateTime<Utc>, lang: Lang) -> Vec<WeekBar> {
    let from = (now - Duration::weeks(CHART_WEEKS - 1)).max(data.analysis.created_at);
    let Ok(points) = history::history(data, log, Granularity::Week, from.min(now), now) else {
        return Vec::new();
    };
    let potential: f64 = data.opportunities.iter().map(|o| o.hours_per_week).sum();
    points
        .into_iter()
        .map(|p| {
            let h = p.figures.metrics.time_saved.implemented_weekly;
            WeekBar {
                week: week_label(data.analysis.time_zone.day_of(p.at), lang),
                hours: hours(h, lang),
                width: if potential > 0.0 {
                    ((h / potential * 100.0).round() as u32).clamp(1, 100)
                } else {
                    1
                },
            }
        })
        .collect()
}

/// A week by its Monday, as its reader writes a short date: 16/03, Mar 16.
fn week_label(monday: chrono::NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Fr => monday.format("%d/%m").to_string(),
        Lang::En => monday.format("%b %-d").to_string(),
    }
}

/// What changed over (since, now].
pub fn since(
    data: &DashboardData,
    log: &Log,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    lang: Lang,
) -> Change {
    let delta = history::since(data, log, since, now);
    let moved: HashSet<&str> = log
        .changes
        .iter()
        .filter(|c| c.at > since && c.at <= now)
        .map(|c| c.opportunity_id.as_str())
        .collect();
    let gained = delta.now.metrics.time_saved.implemented_weekly
        - delta.before.metrics.time_saved.implemented_weekly;
    let sign = if gained > 0.0 { "+" } else { "" };
    let hours_gained = format!("{sign}{}", hours(gained, lang));
    let streak = current_streak(&data.activity.days, data.analysis.time_zone.day_of(now));
    let count = |id, n: f64| Message::new(id).number("count", n).render(lang);
    let lines = vec![
        count("report-changes-moved", moved.len() as f64),
        Message::new("report-changes-hours")
            .text("hours", hours_gained.clone())
            .render(lang),
        count("report-changes-badges", delta.earned.len() as f64),
        count("report-changes-streak", f64::from(streak)),
    ];
    Change {
        moved: moved.len(),
        hours_gained,
        badges: delta.earned.len(),
        streak,
        lines,
    }
}
