//! The request rate limit: so many requests a minute per client address and per token subject.
//! Counted in Redis (one atomic script for both keys, one fixed window a minute) so that it holds
//! across instances; in process memory (governor: the same number a minute, refilled evenly)
//! when there is no Redis or it is away.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::middleware::StateInformationMiddleware;
use sha2::{Digest, Sha256};

use crate::redis_link::Redis;
use crate::service::limiter::{client_key, KeyedLimit};

const WINDOW: Duration = Duration::from_secs(60);
/// Callers counted in memory at once. Past this, those whose budget is whole again are swept;
/// while it is still full of recent callers a new one waits a second (about 12 MB at most).
const LOCAL_KEYS: usize = 250_000;

/// Where a caller stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the whole budget is back (refused: until the next request may pass).
    pub reset_secs: u64,
    pub allowed: bool,
}

/// What is counted: a client (an IPv4 address or an IPv6 /64), or a token's subject by its hash
/// (a subject may be an email address, and Redis keys are visible to its operators).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Counted {
    Client(IpAddr),
    Subject([u8; 12]),
}

impl Counted {
    fn subject(sub: &str) -> Self {
        let digest = Sha256::digest(sub.as_bytes());
        let mut short = [0; 12];
        short.copy_from_slice(&digest[..12]);
        Self::Subject(short)
    }

    fn redis_key(&self, redis: &Redis, window: u64) -> String {
        match self {
            Self::Client(ip) => redis.key(&format!("rl:addr:{ip}:{window}")),
            Self::Subject(digest) => {
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                redis.key(&format!("rl:sub:{hex}:{window}"))
            }
        }
    }
}

pub struct RateLimit {
    per_minute: u64,
    redis: Option<Redis>,
    local: Option<KeyedLimit<Counted, StateInformationMiddleware>>,
}

impl RateLimit {
    /// `per_minute` 0: off.
    pub fn new(per_minute: u32, redis: Option<Redis>) -> Self {
        Self {
            per_minute: per_minute.into(),
            redis,
            local: NonZeroU32::new(per_minute).map(|n| KeyedLimit::per_minute(n, LOCAL_KEYS)),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Counts one request from `client`, and from `subject` when the request carries a token, at
    /// `now` (seconds since the epoch); the tighter standing of the two.
    pub async fn hit(&self, client: IpAddr, subject: Option<&str>, now: u64) -> RateLimitStatus {
        let client = Counted::Client(client_key(client));
        let subject = subject.map(Counted::subject);
        let counted = [Some(client), subject];
        let counted = counted.iter().flatten();
        if let Some(redis) = &self.redis {
            let window = now / WINDOW.as_secs();
            let keys: Vec<String> = counted
                .clone()
                .map(|c| c.redis_key(redis, window))
                .collect();
            if let Some(used) = redis.count_hits(&keys, WINDOW).await {
                let reset_secs = WINDOW.as_secs() - now % WINDOW.as_secs();
                let remaining = self.per_minute.saturating_sub(used);
                return self.standing(remaining, used <= self.per_minute, reset_secs);
            }
        }
        counted
            .map(|c| self.hit_locally(c))
            .min_by_key(|s| (s.allowed, s.remaining))
            .expect("a client is always counted")
    }

    fn hit_locally(&self, counted: &Counted) -> RateLimitStatus {
        let Some(local) = &self.local else {
            return self.standing(self.per_minute, true, 0);
        };
        match local.check(counted) {
            Ok(snapshot) => {
                let remaining = u64::from(snapshot.remaining_burst_capacity());
                let empty = self.per_minute - remaining.min(self.per_minute);
                let refill = (empty * WINDOW.as_secs()).div_ceil(self.per_minute);
                self.standing(remaining, true, refill)
            }
            Err(wait_secs) => self.standing(0, false, wait_secs),
        }
    }

    fn standing(&self, remaining: u64, allowed: bool, reset_secs: u64) -> RateLimitStatus {
        RateLimitStatus {
            limit: self.per_minute,
            remaining,
            reset_secs,
            allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_clients_and_subjects_in_memory() {
        let limit = RateLimit::new(3, None);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = limit.hit(a, None, 0).await;
        assert_eq!((first.limit, first.remaining, first.allowed), (3, 2, true));
        assert_eq!(
            first.reset_secs, 20,
            "one of three used: back in a third of a minute"
        );
        limit.hit(a, Some("ann"), 0).await;
        let third = limit.hit(a, None, 0).await;
        assert_eq!((third.remaining, third.allowed), (0, true));
        let fourth = limit.hit(a, None, 0).await;
        assert!(!fourth.allowed);
        assert!((1..=20).contains(&fourth.reset_secs), "{fourth:?}");
        // ann from another address has used one of hers: the tighter of the two counts
        let elsewhere = limit.hit(b, Some("ann"), 0).await;
        assert_eq!((elsewhere.remaining, elsewhere.allowed), (1, true));
        limit.hit(b, None, 0).await;
        limit.hit(b, None, 0).await;
        let bob = limit.hit(b, Some("bob"), 0).await;
        assert!(!bob.allowed, "bob is new, but b's own budget is spent");
    }
}
