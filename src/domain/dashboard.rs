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
