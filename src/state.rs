//! The shared services every layer above is handed: the pool, the cache, the event bus, the clock,
//! the configuration, the mailer and the process's counters. Built once by `startup`; a leaf of
//! the module graph (it imports only the layers below it).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::replica::Replica;
use crate::db::{DbPool, StatementCounter};
use crate::events::{EventBus, Hub};
use crate::redis_link::Redis;
use crate::reports::Reports;

/// What the process shares between requests and tasks. Cheap to clone.
#[derive(Clone)]
pub struct Resources {
    pub config: Arc<Config>,
    pub pool: DbPool,
    /// The read replica, when configured.
    pub replica: Option<Arc<Replica>>,
    pub clock: SharedClock,
    /// SQL statements sent (the benchmarks' and tests' window on the database).
    pub statements: StatementCounter,
    /// The shared cache; `None` when `CACHE_ENABLED=false`.
    pub cache: Option<Arc<dyn Cache>>,
    /// Carries events between instances.
    pub bus: Arc<dyn EventBus>,
    /// This instance's subscribers, per analysis.
    pub hub: Arc<Hub>,
    pub counts: Arc<LiveCounts>,
    /// Email reports and documents.
    pub reports: Arc<Reports>,
    /// The shared Redis, when configured (shared counters: the rate limit).
    pub redis: Option<Redis>,
}

/// Live connection and subscription counts of this instance.
#[derive(Debug, Default)]
pub struct LiveCounts {
    pub websocket_connections: AtomicI64,
    pub badge_awarded: AtomicI64,
    pub kpi_updated: AtomicI64,
}

/// Holds a count up while alive.
pub struct CountGuard(Arc<LiveCounts>, fn(&LiveCounts) -> &AtomicI64);

impl CountGuard {
    pub fn new(counts: &Arc<LiveCounts>, which: fn(&LiveCounts) -> &AtomicI64) -> Self {
        which(counts).fetch_add(1, Ordering::Relaxed);
        Self(counts.clone(), which)
    }
}

impl Drop for CountGuard {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::Relaxed);
    }
}
