//! Badge definitions (data, not code) and awards.

/// Badges the catalog may ever hold, active or retired: it bounds every list of badges a query
/// can return (the cost model counts on it), and `migrate` refuses a catalog beyond it.
pub const MAX_BADGES: usize = 32;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ids::BadgeId;

use super::criteria::UnlockCriteria;

/// How rare a badge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rarity {
    Common,
    Rare,
    Epic,
    Legendary,
}

impl Rarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Common => "common",
            Self::Rare => "rare",
            Self::Epic => "epic",
            Self::Legendary => "legendary",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Common, Self::Rare, Self::Epic, Self::Legendary]
            .into_iter()
            .find(|r| r.as_str() == value)
    }
}

/// What a badge rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadgeCategory {
    Progress,
    Consistency,
    Social,
    Milestone,
}

impl BadgeCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Progress => "progress",
            Self::Consistency => "consistency",
            Self::Social => "social",
            Self::Milestone => "milestone",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Progress,
            Self::Consistency,
            Self::Social,
            Self::Milestone,
        ]
        .into_iter()
        .find(|c| c.as_str() == value)
    }
}

/// One badge of the catalog at its current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadgeDefinition {
    pub id: BadgeId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: Option<String>,
    pub rarity: Rarity,
    pub points: i32,
    pub category: BadgeCategory,
    pub criteria: UnlockCriteria,
    pub display_order: i32,
    pub active: bool,
    pub version: i32,
}

/// A badge an analysis earned; never taken back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarnedBadge {
    /// The award's own id.
    pub id: Uuid,
    pub badge: BadgeDefinition,
    pub version_earned: i32,
    pub earned_at: DateTime<Utc>,
}
