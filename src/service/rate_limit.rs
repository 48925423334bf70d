//! The request rate limit: so many requests a minute per client address and per token subject,
//! counted in Redis (one atomic script per key and minute) so that it holds across instances, and
//! in process memory when there is no Redis or it is away.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::redis_link::Redis;

const WINDOW: Duration = Duration::from_secs(60);
/// Windows kept in memory at once (the in-process count); the oldest go first.
const LOCAL_WINDOWS: u64 = 100_000;

/// Where a caller stands in the current minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window ends.
    pub reset_secs: u64,
    pub allowed: bool,
}

pub struct RateLimit {
    per_minute: u64,
    redis: Option<Redis>,
    local: moka::sync::Cache<String, Arc<AtomicU64>>,
}

impl RateLimit {
    /// `per_minute` 0: off.
    pub fn new(per_minute: u32, redis: Option<Redis>) -> Self {
        Self {
            per_minute: per_minute.into(),
            redis,
            local: moka::sync::Cache::builder()
                .max_capacity(LOCAL_WINDOWS)
                .time_to_live(WINDOW)
                .build(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Counts one request for each of `keys` (`addr:…`, `sub:…`) at `now` (seconds since the
    /// epoch); the tightest standing among them.
    pub async fn hit(&self, keys: &[String], now: u64) -> Standing {
        let window = now / WINDOW.as_secs();
        let reset_secs = WINDOW.as_secs() - now % WINDOW.as_secs();
        let mut used = 0;
        for key in keys {
            let key = format!("rl:{key}:{window}");
            used = used.max(self.count(&key).await);
        }
        Standing {
            limit: self.per_minute,
            remaining: self.per_minute.saturating_sub(used),
            reset_secs,
            allowed: used <= self.per_minute,
        }
    }

    async fn count(&self, key: &str) -> u64 {
        if let Some(redis) = &self.redis {
            if let Some(n) = redis.count_hit(&redis.key(key), WINDOW).await {
                return n;
            }
        }
        self.local
            .get_with(key.to_owned(), Arc::default)
            .fetch_add(1, Ordering::Relaxed)
            + 1
    }
}
