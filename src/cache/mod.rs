//! The shared cache: one small interface ([`Cache`]) with a Redis and an in-process (moka)
//! implementation. The read-through dashboard repository above it is `service::dashboards`.
//!
//! Entries carry a version; a write never replaces a newer entry, so a slow reader that loaded
//! old state cannot overwrite what a writer just stored.

pub mod memory;
pub mod redis;

use std::time::Duration;

use futures_util::future::BoxFuture;

/// Time to live per kind of entry (product brief, "Cache policy").
pub mod ttl {
    use std::time::Duration;
    pub const DASHBOARD: Duration = Duration::from_secs(30 * 60);
    pub const BADGE_CATALOG: Duration = Duration::from_secs(60 * 60);
    pub const URL_DEDUP: Duration = Duration::from_secs(7 * 24 * 60 * 60);
    pub const REPORT: Duration = Duration::from_secs(60 * 60);
}

pub trait Cache: Send + Sync + 'static {
    /// The values of `keys`, in order; a key that is absent (or a backend that is down) is `None`.
    fn get_many<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Vec<Option<Vec<u8>>>>;

    /// The versions the entries of `keys` hold, in order, without their values: what a cached
    /// answer checks before it is served again. Absent (or a backend that is down) is `None`.
    fn versions<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Vec<Option<i64>>>;

    /// Stores `value` unless the entry holds a version at least `version`. False when the backend
    /// is unavailable.
    fn put<'a>(
        &'a self,
        key: &'a str,
        version: i64,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, bool>;

    /// Removes entries. False when the backend is unavailable.
    fn delete<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, bool>;

    /// A key under this deployment's prefix.
    fn key(&self, suffix: &str) -> String;

    /// "redis" or "in-process".
    fn kind(&self) -> &'static str;

    /// Whether the backend is known to be unreachable right now.
    fn is_down(&self) -> bool {
        false
    }

    /// Memory the backend uses, when it can tell.
    fn used_memory(&self) -> BoxFuture<'_, Option<u64>>;
}
