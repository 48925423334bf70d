//! The breaker in front of Redis: open for a second after a failure, one warning per outage.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a failed Redis stays skipped before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Default)]
struct BreakerState {
    down_since: Option<Instant>,
    retry_at: Option<Instant>,
}

/// Open after a failure, for a second; logs once per outage.
#[derive(Default)]
pub struct Breaker(Mutex<BreakerState>);

impl Breaker {
    pub(super) fn allow(&self) -> bool {
        let s = self.0.lock().expect("breaker lock");
        s.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    pub(super) fn failure(&self, error: &dyn std::fmt::Display) {
        let mut s = self.0.lock().expect("breaker lock");
        if s.down_since.is_none() {
            tracing::warn!(error = %error, "Redis unavailable: serving from PostgreSQL until it returns");
            s.down_since = Some(Instant::now());
        }
        s.retry_at = Some(Instant::now() + RETRY_AFTER);
    }

    pub(super) fn success(&self) {
        let mut s = self.0.lock().expect("breaker lock");
        if let Some(since) = s.down_since.take() {
            tracing::info!(
                outage_ms = since.elapsed().as_millis() as u64,
                "Redis is back"
            );
        }
        s.retry_at = None;
    }

    pub fn is_down(&self) -> bool {
        self.0.lock().expect("breaker lock").down_since.is_some()
    }
}
