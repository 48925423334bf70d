//! Platform KPIs per period, computed only while someone listens: one ticker per period with
//! subscribers, computing once per tick for all of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::clock::SharedClock;
use crate::db::platform::{figures, PlatformFigures};
use crate::db::DbPool;
pub use crate::domain::period::Period;

#[derive(Debug, Clone, PartialEq)]
pub struct PlatformSnapshot {
    pub period: Period,
    pub at: DateTime<Utc>,
    pub figures: PlatformFigures,
}

type Latest = watch::Receiver<Option<Arc<PlatformSnapshot>>>;

struct Ticker {
    latest: Latest,
    subscribers: usize,
    task: tokio::task::JoinHandle<()>,
}

pub struct PlatformKpis {
    pool: DbPool,
    clock: SharedClock,
    /// Overrides every period's tick (tests, demos); the window stays the period's.
    tick: Option<Duration>,
    tickers: Mutex<HashMap<Period, Ticker>>,
    /// Per period, in [`Period::ALL`]'s order.
    computations: [AtomicU64; 3],
}

/// One listener; dropping it stops the ticker when it was the last.
pub struct PlatformSubscription {
    pub latest: Latest,
    manager: Arc<PlatformKpis>,
    period: Period,
}

impl Drop for PlatformSubscription {
    fn drop(&mut self) {
        let mut tickers = self.manager.tickers.lock().expect("tickers lock");
        if let Some(t) = tickers.get_mut(&self.period) {
            t.subscribers -= 1;
            if t.subscribers == 0 {
                t.task.abort();
                tickers.remove(&self.period);
            }
        }
    }
}

impl PlatformKpis {
    pub fn new(pool: DbPool, clock: SharedClock, tick: Option<Duration>) -> Self {
        Self {
            pool,
            clock,
            tick,
            tickers: Mutex::default(),
            computations: Default::default(),
        }
    }

    pub fn subscribe(self: &Arc<Self>, period: Period) -> PlatformSubscription {
        let mut tickers = self.tickers.lock().expect("tickers lock");
        let ticker = tickers.entry(period).or_insert_with(|| {
            let (tx, latest) = watch::channel(None);
            let task = tokio::spawn(Arc::clone(self).run(period, tx));
            Ticker {
                latest,
                subscribers: 0,
                task,
            }
        });
        ticker.subscribers += 1;
        PlatformSubscription {
            latest: ticker.latest.clone(),
            manager: self.clone(),
            period,
        }
    }

    async fn run(
        self: Arc<Self>,
        period: Period,
        tx: watch::Sender<Option<Arc<PlatformSnapshot>>>,
    ) {
        let mut tick = tokio::time::interval(self.tick.unwrap_or(period.duration()));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let at = self.clock.now();
            let from = at - chrono::Duration::from_std(period.duration()).expect("short period");
            let result = async {
                let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
                figures(&mut conn, from, at)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            self.computations[period.index()].fetch_add(1, Ordering::Relaxed);
            match result {
                Ok(figures) => {
                    let _ = tx.send(Some(Arc::new(PlatformSnapshot {
                        period,
                        at,
                        figures,
                    })));
                }
                Err(e) => tracing::warn!(error = %e, ?period, "platform KPIs: computation failed"),
            }
        }
    }

    /// Listeners per period.
    pub fn subscribers(&self) -> Vec<(Period, usize)> {
        let tickers = self.tickers.lock().expect("tickers lock");
        Period::ALL
            .iter()
            .map(|p| (*p, tickers.get(p).map_or(0, |t| t.subscribers)))
            .collect()
    }

    /// How many times figures were computed (once per tick per period with listeners).
    pub fn computations(&self) -> u64 {
        Period::ALL.iter().map(|p| self.computations_of(*p)).sum()
    }

    /// How many times one period's figures were computed.
    pub fn computations_of(&self, period: Period) -> u64 {
        self.computations[period.index()].load(Ordering::Relaxed)
    }
}

/// At most this many points in one platform history.
pub const MAX_HISTORY_POINTS: i64 = 1_000;

/// The platform figures of every period ending in `from..=to`, oldest first, computed from the
/// log for the range (no listener needed, nothing stored).
pub async fn history(
    pool: &DbPool,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> crate::error::AppResult<Vec<PlatformSnapshot>> {
    use crate::error::AppError;
    if from > to {
        return Err(AppError::invalid_input("from must not be after to"));
    }
    // the database's calendar is narrower than the API's: refused here, not by it
    let earliest = DateTime::<Utc>::UNIX_EPOCH;
    let latest = "9999-12-31T23:59:59Z"
        .parse::<DateTime<Utc>>()
        .expect("a valid instant");
    if from < earliest || to > latest {
        return Err(AppError::invalid_input(
            "from and to must be between 1970-01-01 and 9999-12-31",
        ));
    }
    let Some((first, last, count)) = period.ends_within(from, to) else {
        return Ok(Vec::new());
    };
    if count > MAX_HISTORY_POINTS {
        return Err(AppError::invalid_input(format!(
            "a platform history has at most {MAX_HISTORY_POINTS} points; from..to holds {count}: narrow the range or use a longer period"
        )));
    }
    let mut conn = pool.get().await?;
    let points = crate::db::platform::history(&mut conn, first, last, period.unit()).await?;
    Ok(points
        .into_iter()
        .map(|p| PlatformSnapshot {
            period,
            at: p.at,
            figures: p.figures,
        })
        .collect())
}
