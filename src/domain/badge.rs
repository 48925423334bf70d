//! Badge definitions (data, not code) and awards.

/// Badges the catalog may ever hold, active or retired: it bounds every list of badges a query
/// can return (the cost model counts on it), and `migrate` refuses a catalog beyond it.
pub const MAX_BADGES: usize = 32;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ids::BadgeId;

use super::criteria::UnlockCriteria;
use super::reports::Lang;

/// A badge's words in a language other than the catalog's default (French); what one leaves
/// out is read in the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wording {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The other languages' words of a badge, by language.
pub type Translations = BTreeMap<Lang, Wording>;

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
    /// Name and description in the other languages (absent from values cached before them).
    #[serde(default)]
    pub translations: Translations,
}

impl BadgeDefinition {
    /// The badge's name as a reader of `lang` reads it (the default's when not translated).
    pub fn name_in(&self, lang: Lang) -> &str {
        self.translations
            .get(&lang)
            .and_then(|w| w.name.as_deref())
            .unwrap_or(&self.name)
    }

    /// The badge's description as a reader of `lang` reads it.
    pub fn description_in(&self, lang: Lang) -> &str {
        self.translations
            .get(&lang)
            .and_then(|w| w.description.as_deref())
            .unwrap_or(&self.description)
    }
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
