//! The read-through store behind every dashboard read: one MGET for a batch, only the misses go to
//! PostgreSQL (one load per key at a time, however many requests miss it together), and
//! write-through of the fresh state after every change.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use super::{ttl, Cache};
use crate::db::dashboard::{self, DashboardData};
use crate::db::{badges, DbPool};
use crate::domain::badge::BadgeDefinition;
use crate::error::AppResult;

type Catalog = Arc<Vec<BadgeDefinition>>;
/// What a leader hands to the requests waiting on the same key: `Err` when it failed (they then
/// load for themselves).
type Flight = Option<Result<Option<Arc<DashboardData>>, ()>>;

/// Hit and miss counters of dashboard reads.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

/// A dashboard decoded from the cached bytes it holds.
struct Decoded {
    bytes: Vec<u8>,
    data: Arc<DashboardData>,
}

/// Hot dashboards kept decoded: JSON decoding was a tenth of a cached read (bench/profile.sh),
/// and the bytes compared first make a stale reuse impossible.
const DECODED_DASHBOARDS: u64 = 2_000;

pub struct Store {
    pool: DbPool,
    cache: Option<Arc<dyn Cache>>,
    decoded: moka::future::Cache<Uuid, Arc<Decoded>>,
    catalog: Mutex<Option<(Instant, Catalog)>>,
    inflight: Mutex<HashMap<Uuid, watch::Receiver<Flight>>>,
    /// Keys whose write-through failed while the cache was down: deleted once it is back.
    pending: Mutex<HashSet<String>>,
    pub stats: CacheStats,
}

/// Removes a leader's keys from the in-flight map, even if its request is dropped midway.
struct FlightGuard<'a> {
    store: &'a Store,
    ids: Vec<Uuid>,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut inflight = self.store.inflight.lock().expect("inflight lock");
        for id in &self.ids {
            inflight.remove(id);
        }
    }
}

impl Store {
    pub fn new(pool: DbPool, cache: Option<Arc<dyn Cache>>) -> Self {
        Self {
            pool,
            cache,
            decoded: moka::future::Cache::builder()
                .max_capacity(DECODED_DASHBOARDS)
                .time_to_live(ttl::DASHBOARD)
                .build(),
            catalog: Mutex::new(None),
            inflight: Mutex::default(),
            pending: Mutex::default(),
            stats: CacheStats::default(),
        }
    }

    pub fn cache(&self) -> Option<&Arc<dyn Cache>> {
        self.cache.as_ref()
    }

    /// Whether the cache backend is known to be away right now.
    pub fn redis_down(&self) -> bool {
        self.cache.as_ref().is_some_and(|c| c.is_down())
    }

    fn dashboard_key(cache: &dyn Cache, id: Uuid) -> String {
        cache.key(&format!("dash:{id}"))
    }

    /// The active badge catalog, from memory for an hour at most.
    pub async fn catalog(&self) -> AppResult<Catalog> {
        if let Some((at, c)) = &*self.catalog.lock().expect("catalog lock") {
            if at.elapsed() < ttl::BADGE_CATALOG {
                return Ok(c.clone());
            }
        }
        let mut conn = self.pool.get().await?;
        let c = Arc::new(badges::active_catalog(&mut conn).await?);
        self.remember_catalog(c.clone());
        Ok(c)
    }

    fn remember_catalog(&self, c: Catalog) {
        *self.catalog.lock().expect("catalog lock") = Some((Instant::now(), c));
    }

    /// Dashboards of `ids` (unknown ids are absent).
    pub async fn load(&self, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Arc<DashboardData>>> {
        let mut out = HashMap::with_capacity(ids.len());
        let mut misses = Vec::new();
        match &self.cache {
            None => misses.extend_from_slice(ids),
            Some(cache) => {
                self.flush_pending(cache.as_ref()).await;
                let keys: Vec<String> = ids
                    .iter()
                    .map(|id| Self::dashboard_key(cache.as_ref(), *id))
                    .collect();
                let values = cache.get_many(&keys).await;
                // one catalog for the whole batch of hits
                let mut catalog: Option<Catalog> = None;
                for (id, value) in ids.iter().zip(values) {
                    let Some(bytes) = value else {
                        misses.push(*id);
                        continue;
                    };
                    let catalog = match &catalog {
                        Some(c) => c,
                        None => catalog.insert(self.catalog().await?),
                    };
                    match self.decode(*id, bytes, catalog).await {
                        Some(d) => {
                            out.insert(*id, d);
                        }
                        None => misses.push(*id),
                    }
                }
                self.stats
                    .hits
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                self.stats
                    .misses
                    .fetch_add(misses.len() as u64, Ordering::Relaxed);
            }
        }
        if !misses.is_empty() {
            out.extend(self.load_misses(&misses).await?);
        }
        Ok(out)
    }

    /// A cached dashboard's bytes, decoded; the last decoding of the same bytes is reused (an
    /// undecodable entry is a miss).
    async fn decode(
        &self,
        id: Uuid,
        bytes: Vec<u8>,
        catalog: &Catalog,
    ) -> Option<Arc<DashboardData>> {
        if let Some(hit) = self.decoded.get(&id).await {
            if hit.bytes == bytes && Arc::ptr_eq(&hit.data.catalog, catalog) {
                return Some(hit.data.clone());
            }
        }
        let mut d: DashboardData = serde_json::from_slice(&bytes).ok()?;
        d.catalog = catalog.clone();
        let data = Arc::new(d);
        let decoded = Decoded {
            bytes,
            data: data.clone(),
        };
        self.decoded.insert(id, Arc::new(decoded)).await;
        Some(data)
    }

    /// Loads misses from PostgreSQL, leading the keys nobody is loading and waiting on the rest.
    async fn load_misses(&self, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Arc<DashboardData>>> {
        let (lead, follow): (Vec<Uuid>, Vec<(Uuid, watch::Receiver<Flight>)>) = {
            let inflight = self.inflight.lock().expect("inflight lock");
            let mut lead = Vec::new();
            let mut follow = Vec::new();
            for id in ids {
                match inflight.get(id) {
                    Some(rx) => follow.push((*id, rx.clone())),
                    None => lead.push(*id),
                }
            }
            (lead, follow)
        };
        let mut out = HashMap::new();
        if !lead.is_empty() {
            let senders: Vec<_> = {
                let mut inflight = self.inflight.lock().expect("inflight lock");
                lead.iter()
                    .map(|id| {
                        let (tx, rx) = watch::channel(None);
                        inflight.insert(*id, rx);
                        (*id, tx)
                    })
                    .collect()
            };
            let _guard = FlightGuard {
                store: self,
                ids: lead.clone(),
            };
            match self.load_from_db(&lead).await {
                Ok(loaded) => {
                    for (id, tx) in senders {
                        let d = loaded.get(&id).cloned();
                        let _ = tx.send(Some(Ok(d)));
                    }
                    out.extend(loaded);
                }
                Err(e) => {
                    for (_, tx) in senders {
                        let _ = tx.send(Some(Err(())));
                    }
                    return Err(e);
                }
            }
        }
        for (id, mut rx) in follow {
            let flight = rx
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|v| v.clone());
            match flight {
                Some(Ok(Some(d))) => {
                    out.insert(id, d);
                }
                Some(Ok(None)) => {}
                // The leader failed or went away: load it ourselves.
                _ => out.extend(self.load_from_db(&[id]).await?),
            }
        }
        Ok(out)
    }

    async fn load_from_db(&self, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Arc<DashboardData>>> {
        let loaded = {
            let mut conn = self.pool.get().await?;
            dashboard::load_many(&mut conn, ids).await?
        };
        if let Some(d) = loaded.values().next() {
            self.remember_catalog(d.catalog.clone());
        }
        let loaded: HashMap<Uuid, Arc<DashboardData>> = loaded
            .into_iter()
            .map(|(id, d)| (id, Arc::new(d)))
            .collect();
        for d in loaded.values() {
            self.write_through(d).await;
        }
        Ok(loaded)
    }

    /// Stores the state a change just committed, so the next read (on any instance) sees it.
    pub async fn write_through(&self, d: &DashboardData) {
        let Some(cache) = &self.cache else { return };
        let key = Self::dashboard_key(cache.as_ref(), d.analysis.id);
        let value = serde_json::to_vec(d).expect("dashboards serialise");
        if !cache
            .put(&key, d.analysis.version, value, ttl::DASHBOARD)
            .await
        {
            self.pending.lock().expect("pending lock").insert(key);
        }
    }

    /// Evicts a dashboard (when the fresh state is not at hand).
    pub async fn evict(&self, id: Uuid) {
        let Some(cache) = &self.cache else { return };
        let key = Self::dashboard_key(cache.as_ref(), id);
        if !cache.delete(std::slice::from_ref(&key)).await {
            self.pending.lock().expect("pending lock").insert(key);
        }
    }

    async fn flush_pending(&self, cache: &dyn Cache) {
        let keys: Vec<String> = {
            let pending = self.pending.lock().expect("pending lock");
            if pending.is_empty() {
                return;
            }
            pending.iter().cloned().collect()
        };
        if cache.delete(&keys).await {
            let mut pending = self.pending.lock().expect("pending lock");
            for k in &keys {
                pending.remove(k);
            }
        }
    }

    /// Deletes entries written while the cache was away, every half second, so other instances
    /// stop seeing them soon after it returns.
    pub fn spawn_pending_flusher(self: &Arc<Self>) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let Some(store) = store.upgrade() else { return };
                store.flush_pending(cache.as_ref()).await;
            }
        });
    }

    /// The analysis recorded for this normalised URL at or after `since`, from the cache.
    pub async fn recent_url(&self, normalized_url: &str, since: DateTime<Utc>) -> Option<Uuid> {
        let cache = self.cache.as_ref()?;
        let key = cache.key(&format!("url:{normalized_url}"));
        let value = cache.get_many(std::slice::from_ref(&key)).await.pop()??;
        let (id, created_at): (Uuid, DateTime<Utc>) = serde_json::from_slice(&value).ok()?;
        (created_at >= since).then_some(id)
    }

    /// Remembers the analysis of a normalised URL for the de-duplication window.
    pub async fn remember_url(&self, normalized_url: &str, id: Uuid, created_at: DateTime<Utc>) {
        let Some(cache) = &self.cache else { return };
        let key = cache.key(&format!("url:{normalized_url}"));
        let value = serde_json::to_vec(&(id, created_at)).expect("serialises");
        cache
            .put(&key, created_at.timestamp_micros(), value, ttl::URL_DEDUP)
            .await;
    }

    /// Loads the `count` most recently changed dashboards into the cache.
    pub async fn warm(&self, count: i64) -> AppResult<usize> {
        if self.cache.is_none() || count <= 0 {
            return Ok(0);
        }
        let ids = {
            let mut conn = self.pool.get().await?;
            crate::db::analyses::most_recently_changed(&mut conn, count).await?
        };
        let mut warmed = 0;
        for chunk in ids.chunks(100) {
            warmed += self.load_from_db(chunk).await?.len();
        }
        Ok(warmed)
    }

    pub fn hit_rate(&self) -> Option<f64> {
        let hits = self.stats.hits.load(Ordering::Relaxed) as f64;
        let total = hits + self.stats.misses.load(Ordering::Relaxed) as f64;
        (total > 0.0).then(|| hits / total)
    }
}
