//! The read model of the whole product: the stored facts behind one dashboard. Every figure the
//! API, the reports and the live layer show is derived from these.

use std::sync::Arc;

use super::analysis::{Analysis, Opportunity};
use super::badge::{BadgeDefinition, EarnedBadge};
use super::streak::ActivitySummary;

/// The stored facts behind one dashboard. Cached as JSON without the catalog, which is shared and
/// cached on its own.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DashboardData {
    pub analysis: Analysis,
    /// In the order the pipeline recorded them.
    pub opportunities: Vec<Opportunity>,
    /// Oldest first.
    pub badges: Vec<EarnedBadge>,
    pub activity: ActivitySummary,
    /// The active catalog at load time (shared by every dashboard of one load).
    #[serde(skip)]
    pub catalog: Arc<Vec<BadgeDefinition>>,
}

impl DashboardData {
    /// The state an accepted status move leaves, as the database holds it once the move is
    /// written (`now` already at the database's precision, microseconds): the opportunity's
    /// status and `implemented_at`, and the activity log's day and first implementation.
    pub fn apply_status(
        &mut self,
        opportunity_id: &str,
        to: super::status::ProgressStatus,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        let implemented = to == super::status::ProgressStatus::Implemented;
        if let Some(o) = self
            .opportunities
            .iter_mut()
            .find(|o| o.opportunity_id == opportunity_id)
        {
            o.status = to;
            o.implemented_at = implemented.then_some(now);
        }
        let day = self.analysis.time_zone.day_of(now);
        if let Err(at) = self.activity.days.binary_search(&day) {
            self.activity.days.insert(at, day);
        }
        if implemented {
            let first = &mut self.activity.first_implemented_at;
            *first = Some(first.map_or(now, |f| f.min(now)));
        }
    }

    /// The analysis' own row after a change: the rate when one was given, the time, the version.
    pub fn apply_touch(&mut self, hourly_rate: Option<f64>, now: chrono::DateTime<chrono::Utc>) {
        let a = &mut self.analysis;
        if hourly_rate.is_some() {
            a.hourly_rate = hourly_rate;
        }
        a.updated_at = now;
        a.version += 1;
    }
}
