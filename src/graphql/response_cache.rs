//! Whole answers to queries, kept per instance and served again without parsing or executing
//! anything, for as long as what they read is unchanged. Front ends send the same few requests
//! over and over, and executing one cost most of a cached dashboard read (bench/profile.sh).
//!
//! - The key is the request's exact bytes (the body, or the URL's query), its method and the
//!   caller's kind; a client chooses them, so the store is bounded in bytes.
//! - An answer remembers what it read (`graphql::reads`): each dashboard and its version, the
//!   catalog, every access decision, and until when its time-dependent fields hold.
//! - A hit is served only when the caller is granted and refused exactly what the stored answer
//!   was, the catalog is the one in memory, the time is before that limit, and the shared cache
//!   holds every dashboard at the version read: one round trip to it, the same as reading the
//!   dashboards, so read-after-write holds on every instance as it did before.
//! - Only queries that finished without an error are kept.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::parsed::Hasher128;
use super::reads::{Check, Recorded};
use super::transport::Transport;
use crate::domain::access::{Caller, Role};
use crate::domain::ids::AnalysisId;
use crate::series::{Operation, OperationKind};
use crate::service::dashboards::{Catalog, Dashboards};

/// Bytes an entry costs beyond its body and keys (the map's own, the checks).
const ENTRY_OVERHEAD: usize = 256;

struct Answer {
    body: Bytes,
    /// The shared cache's keys of the dashboards read, and the versions read.
    keys: Vec<String>,
    versions: Vec<i64>,
    checks: Vec<(Check, bool)>,
    catalog: Option<Catalog>,
    until: Option<DateTime<Utc>>,
    operation: Arc<Operation>,
}

pub struct ResponseCache {
    entries: Option<moka::sync::Cache<u128, Arc<Answer>>>,
    hasher: Hasher128,
}

/// A request's key in the store.
#[derive(Clone, Copy)]
pub struct ResponseKey(u128);

impl ResponseCache {
    /// A store of `max_bytes`; none at all when that is zero or there is no shared cache to check
    /// versions against.
    pub fn new(max_bytes: u64, dashboards: &Dashboards) -> Self {
        let entries = (max_bytes > 0 && dashboards.cache().is_some()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, a: &Arc<Answer>| {
                    let keys: usize = a.keys.iter().map(|k| k.len() + 8).sum();
                    (a.body.len() + keys + ENTRY_OVERHEAD)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .time_to_live(crate::cache::ttl::DASHBOARD)
                .build()
        });
        Self {
            entries,
            hasher: Hasher128::new(),
        }
    }

    /// The key of a request, or `None` when the store is off.
    pub fn key(
        &self,
        transport: Transport,
        caller: &Caller,
        lang: Option<crate::domain::reports::Lang>,
        request: &[u8],
    ) -> Option<ResponseKey> {
        self.entries.as_ref()?;
        let kind: &[u8] = match caller {
            Caller::Open => b"open",
            Caller::Anonymous => b"anonymous",
            Caller::Token(c) => match c.role {
                Role::Viewer => b"viewer",
                Role::Owner => b"owner",
                Role::Admin => b"admin",
            },
        };
        let lang = lang.map_or("-", |l| l.as_str());
        Some(ResponseKey(self.hasher.hash(&[
            transport.label().as_bytes(),
            kind,
            lang.as_bytes(),
            request,
        ])))
    }

    /// The stored answer's body, if it may be served to `caller` at `now`.
    pub async fn serve(
        &self,
        key: ResponseKey,
        caller: &Caller,
        dashboards: &Dashboards,
        now: DateTime<Utc>,
    ) -> Option<Bytes> {
        let started = Instant::now();
        let answer = self.entries.as_ref()?.get(&key.0);
        let served = match answer {
            Some(a) if current(&a, caller, dashboards, now).await => a,
            _ => {
                dashboards
                    .answer_stats
                    .misses
                    .fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        dashboards.answer_stats.hits.fetch_add(1, Ordering::Relaxed);
        dashboards
            .stats
            .hits
            .fetch_add(served.keys.len() as u64, Ordering::Relaxed);
        served
            .operation
            .record(OperationKind::Query, None, Some(started.elapsed()));
        Some(served.body.clone())
    }

    /// Keeps the answer to a query that finished without an error, unless it read something no
    /// check could confirm later.
    pub fn store(
        &self,
        key: ResponseKey,
        read: Recorded,
        body: Bytes,
        operation: Arc<Operation>,
        dashboards: &Dashboards,
    ) {
        let Some(entries) = &self.entries else { return };
        if read.unrepeatable {
            return;
        }
        let mut keys = Vec::with_capacity(read.dashboards.len());
        let mut versions = Vec::with_capacity(read.dashboards.len());
        for (id, version) in dedup(read.dashboards) {
            let Some(k) = dashboards.cache_key(id) else {
                return;
            };
            keys.push(k);
            versions.push(version);
        }
        let mut checks = read.checks;
        checks.dedup();
        entries.insert(
            key.0,
            Arc::new(Answer {
                body,
                keys,
                versions,
                checks,
                catalog: read.catalog,
                until: read.until,
                operation,
            }),
        );
    }

    /// Bytes held, by the store's own weighing (its bound).
    pub fn bytes(&self) -> u64 {
        self.entries.as_ref().map_or(0, |e| {
            e.run_pending_tasks();
            e.weighted_size()
        })
    }
}

/// Each dashboard once (a query may read one twice, always at one version per request).
fn dedup(mut read: Vec<(AnalysisId, i64)>) -> Vec<(AnalysisId, i64)> {
    let mut seen = std::collections::HashSet::with_capacity(read.len());
    read.retain(|(id, _)| seen.insert(*id));
    read
}

/// Whether a stored answer still says what running the query would.
async fn current(a: &Answer, caller: &Caller, dashboards: &Dashboards, now: DateTime<Utc>) -> bool {
    if a.until.is_some_and(|until| now >= until) {
        return false;
    }
    if a.checks
        .iter()
        .any(|(check, allowed)| check.allows(caller) != *allowed)
    {
        return false;
    }
    if let Some(read) = &a.catalog {
        match dashboards.memo_catalog() {
            // the memo keeps one `Arc` per content, so a pointer tells
            Some(now) if Arc::ptr_eq(read, &now) => {}
            _ => return false,
        }
    }
    if a.keys.is_empty() {
        return true;
    }
    match dashboards.cached_versions(&a.keys).await {
        Some(held) => held
            .iter()
            .zip(&a.versions)
            .all(|(held, read)| *held == Some(*read)),
        None => false,
    }
}
