//! Rate limits keyed by something a client chooses or controls (its address, an analysis id), in
//! bounded memory: governor's GCRA keeps one small state per key; past `max_keys` the keys idle
//! long enough to be full again are swept (at most once a second, so a flood of new keys never
//! makes every call scan), and while the map is still full new callers are refused as busy.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::{NoOpMiddleware, RateLimitingMiddleware};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{NotUntil, Quota, RateLimiter};

/// Keys kept per limiter before sweeping.
pub const MAX_KEYS: usize = 100_000;
/// The instant governor's default clock tells.
type Moment = <DefaultClock as Clock>::Instant;

const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// `M`: what a granted check tells (nothing by default; governor's `StateInformationMiddleware`
/// tells how much is left).
pub struct KeyedLimit<K: Hash + Eq + Clone, M = NoOpMiddleware<Moment>>
where
    M: RateLimitingMiddleware<Moment>,
{
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, M>,
    clock: DefaultClock,
    max_keys: usize,
    last_sweep: Mutex<Option<Instant>>,
}

impl<K, M> KeyedLimit<K, M>
where
    K: Hash + Eq + Clone,
    M: RateLimitingMiddleware<Moment, NegativeOutcome = NotUntil<Moment>>,
{
    /// `per_minute` at once, then one more every `60 / per_minute` seconds.
    pub fn per_minute(per_minute: NonZeroU32, max_keys: usize) -> Self {
        Self::with(Quota::per_minute(per_minute), max_keys)
    }

    /// `per_hour` at once, then one more every `3600 / per_hour` seconds.
    pub fn per_hour(per_hour: NonZeroU32, max_keys: usize) -> Self {
        Self::with(Quota::per_hour(per_hour), max_keys)
    }

    fn with(quota: Quota, max_keys: usize) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<M>(),
            clock: DefaultClock::default(),
            max_keys,
            last_sweep: Mutex::new(None),
        }
    }

    /// `Err(seconds to wait)` when `key` is over its rate, or the limiter is full.
    pub fn check(&self, key: &K) -> Result<M::PositiveOutcome, u64> {
        if self.limiter.len() >= self.max_keys {
            self.sweep();
            if self.limiter.len() >= self.max_keys {
                return Err(SWEEP_EVERY.as_secs().max(1));
            }
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }

    fn sweep(&self) {
        let mut last = self.last_sweep.lock().expect("sweep lock");
        if last.is_some_and(|t| t.elapsed() < SWEEP_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// A client as rate limits see it: its IPv4 address, or its IPv6 /64 (one host usually holds a
/// whole /64, so single IPv6 addresses would be free to make).
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6([s[0], s[1], s[2], s[3], 0, 0, 0, 0].into())
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_stays_bounded() {
        let limit: KeyedLimit<i32> = KeyedLimit::per_minute(NonZeroU32::new(2).unwrap(), 3);
        assert!(limit.check(&1).is_ok());
        assert!(limit.check(&1).is_ok());
        let wait = limit.check(&1).unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(limit.check(&2).is_ok(), "another key has its own budget");
        limit.check(&3).unwrap();
        // Full of recent keys: a new one is refused rather than grown into.
        assert!(limit.check(&4).is_err());
        assert!(limit.len() <= 3);
    }

    #[test]
    fn ipv6_clients_are_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let v4: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(v4), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
