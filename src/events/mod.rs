//! Live events and the bus that carries them between instances.
//!
//! One small interface ([`EventBus`]) with two implementations: Redis pub/sub (one subscriber
//! connection per process) and in-process (when `REDIS_URL` is unset). Either way, events reach
//! local subscribers through the [`Hub`], which fans out per analysis with `tokio::sync::broadcast`.

pub mod hub;
pub mod memory;
pub mod redis;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::domain::badge::EarnedBadge;
use crate::domain::ids::AnalysisId;
use crate::domain::metrics::{Metrics, ProgressSummary};

pub use hub::Hub;

/// Something that happened to one analysis, or to a caller's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A badge was awarded (one event per award).
    BadgeAwarded {
        analysis_id: AnalysisId,
        award: EarnedBadge,
    },
    /// The analysis changed: its metrics and progress after the change.
    KpiUpdated {
        analysis_id: AnalysisId,
        metrics: Metrics,
        summary: ProgressSummary,
        at: DateTime<Utc>,
    },
    /// `sub`'s tokens issued before `before` (seconds since the epoch) no longer hold, and its
    /// open sockets close, on every instance.
    SessionsRevoked { sub: String, before: i64 },
}

impl Event {
    /// Its kind, as metric labels name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadgeAwarded { .. } => "badge_awarded",
            Self::KpiUpdated { .. } => "kpi_updated",
            Self::SessionsRevoked { .. } => "sessions_revoked",
        }
    }

    /// The analysis it is about, if it is about one.
    pub fn analysis_id(&self) -> Option<AnalysisId> {
        match self {
            Self::BadgeAwarded { analysis_id, .. } | Self::KpiUpdated { analysis_id, .. } => {
                Some(*analysis_id)
            }
            Self::SessionsRevoked { .. } => None,
        }
    }
}

/// Carries events to every instance's [`Hub`].
pub trait EventBus: Send + Sync + 'static {
    /// Publishes events; true when they reached the bus (every instance), false when only this
    /// instance's subscribers got them (the outbox then tries again later).
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, bool>;

    /// "redis" or "in-process".
    fn kind(&self) -> &'static str;

    /// Whether events from other instances reach this one right now.
    fn connected(&self) -> bool {
        true
    }
}
