//! A streaming replica for the reads that need not see the latest write. A probe every
//! half-second reads how far its replay lags; past the bound, or when it does not answer, it is
//! skipped for the primary, and taken back when it has caught up. A read on it is kept only when
//! the replica has replayed the version its reader must see (the caller checks; see
//! `service::dashboards` and `service::history`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::Double;

use super::DbPool;

/// How often the lag is read.
const PROBE_EVERY: Duration = Duration::from_millis(500);

pub struct Replica {
    pool: DbPool,
    max_lag: Duration,
    in_use: AtomicBool,
    /// The last lag read, in ms (`u64::MAX`: it did not answer).
    lag_ms: AtomicU64,
}

/// What the replica's state is, in `/ready`'s words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    InUse,
    Lagging,
    Unreachable,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InUse => "ok",
            Self::Lagging => "lagging",
            Self::Unreachable => "unreachable",
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Lag {
    #[diesel(sql_type = Double)]
    lag_ms: f64,
}

/// Nothing to replay (all received WAL replayed, or not a standby at all) is no lag; otherwise the
/// age of the last transaction replayed (PostgreSQL's own measure: it overstates a replica that
/// is a moment behind an idle primary, which errs on the primary's side).
const LAG_SQL: &str = "SELECT CASE \
    WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0) \
    END::float8 AS lag_ms";

impl Replica {
    /// Starts the probe; the replica is in use from its first good reading.
    pub fn start(pool: DbPool, max_lag: Duration) -> Arc<Self> {
        let replica = Arc::new(Self {
            pool,
            max_lag,
            in_use: AtomicBool::new(false),
            lag_ms: AtomicU64::new(u64::MAX),
        });
        let probing = Arc::downgrade(&replica);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PROBE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(replica) = probing.upgrade() else {
                    return;
                };
                replica.probe().await;
            }
        });
        replica
    }

    async fn probe(&self) {
        use diesel_async::RunQueryDsl;
        let read = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            diesel::sql_query(LAG_SQL)
                .get_result::<Lag>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        };
        let lag = match tokio::time::timeout(PROBE_EVERY * 2, read).await {
            Ok(Ok(lag)) => Some(Duration::from_secs_f64(lag.lag_ms.max(0.0) / 1000.0)),
            Ok(Err(e)) => {
                self.skip(&e);
                None
            }
            Err(_) => {
                self.skip(&"timed out");
                None
            }
        };
        let Some(lag) = lag else { return };
        self.lag_ms.store(lag.as_millis() as u64, Ordering::Relaxed);
        let fits = lag <= self.max_lag;
        let was = self.in_use.swap(fits, Ordering::AcqRel);
        match (was, fits) {
            (false, true) => tracing::info!(lag_ms = lag.as_millis() as u64, "read replica in use"),
            (true, false) => tracing::warn!(
                lag_ms = lag.as_millis() as u64,
                max_lag_ms = self.max_lag.as_millis() as u64,
                "read replica lags past its bound: reads go to the primary"
            ),
            _ => {}
        }
    }

    /// Stops using the replica until a probe finds it well (a read on it failed, or the probe).
    pub fn skip(&self, why: &dyn std::fmt::Display) {
        self.lag_ms.store(u64::MAX, Ordering::Relaxed);
        if self.in_use.swap(false, Ordering::AcqRel) {
            tracing::warn!(error = %why, "read replica unavailable: reads go to the primary");
        }
    }

    /// The replica's pool while it is in use.
    pub fn reader(&self) -> Option<&DbPool> {
        self.in_use.load(Ordering::Acquire).then_some(&self.pool)
    }

    /// The last lag read; `None` when the replica did not answer (or before the first probe).
    pub fn lag(&self) -> Option<Duration> {
        match self.lag_ms.load(Ordering::Relaxed) {
            u64::MAX => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    pub fn standing(&self) -> Standing {
        match (
            self.in_use.load(Ordering::Acquire),
            self.lag_ms.load(Ordering::Relaxed),
        ) {
            (true, _) => Standing::InUse,
            (false, u64::MAX) => Standing::Unreachable,
            (false, _) => Standing::Lagging,
        }
    }
}
