//! The in-process cache (moka), for a single instance without Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use moka::future::Cache as Moka;
use moka::ops::compute::Op;
use moka::Expiry;

use super::Cache;

#[derive(Debug)]
struct Entry {
    version: i64,
    value: Vec<u8>,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Arc<Entry>> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, e: &Arc<Entry>, _: Instant) -> Option<Duration> {
        Some(e.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        e: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(e.ttl)
    }
}

pub struct MemoryCache {
    entries: Moka<String, Arc<Entry>>,
}

impl MemoryCache {
    /// Holds up to `max_bytes` of values.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &String, e: &Arc<Entry>| {
                    (k.len() + e.value.len()).try_into().unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .build(),
        }
    }
}

impl Cache for MemoryCache {
    fn get_many<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Vec<Option<Vec<u8>>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push(self.entries.get(k).await.map(|e| e.value.clone()));
            }
            out
        })
    }

    fn versions<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Vec<Option<i64>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push(self.entries.get(k).await.map(|e| e.version));
            }
            out
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        version: i64,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            self.entries
                .entry_by_ref(key)
                .and_compute_with(|current| async move {
                    match current {
                        Some(e) if e.value().version >= version => Op::Nop,
                        _ => Op::Put(Arc::new(Entry {
                            version,
                            value,
                            ttl,
                        })),
                    }
                })
                .await;
            true
        })
    }

    fn delete<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            for k in keys {
                self.entries.invalidate(k).await;
            }
            true
        })
    }

    fn key(&self, suffix: &str) -> String {
        suffix.to_owned()
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }

    fn used_memory(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(async move {
            self.entries.run_pending_tasks().await;
            Some(self.entries.weighted_size())
        })
    }
}
