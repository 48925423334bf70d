//! The read-through repository behind every dashboard read: one MGET for a batch, only the misses
//! go to PostgreSQL (one load per key at a time, [`flight`]), and write-through of the fresh state
//! after every change.

mod flight;
mod memo;
mod pending;
mod reads;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::domain::ids::AnalysisId;

use crate::cache::{ttl, Cache};
use crate::db::replica::Replica;
use crate::db::{analyses, badges, DbPool};
use crate::domain::dashboard::DashboardData;
use crate::error::AppResult;
use flight::SingleFlight;
pub use memo::Catalog;
use memo::{CatalogMemo, DecodedMemo};
use pending::PendingDeletes;

/// Hit and miss counters of dashboard reads.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    /// Reads the cache did not hold.
    pub misses: AtomicU64,
    /// Reads the cache could not answer (its backend away).
    pub errors: AtomicU64,
}

impl CacheStats {
    /// Reads that went to PostgreSQL: misses and errors.
    pub fn to_database(&self) -> u64 {
        self.misses.load(Ordering::Relaxed) + self.errors.load(Ordering::Relaxed)
    }
}

/// Hits and misses of the stored answers in front of the dashboards (`http::answers`).
#[derive(Debug, Default)]
pub struct AnswerStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

pub struct Dashboards {
    pool: DbPool,
    replica: Option<Arc<Replica>>,
    cache: Option<Arc<dyn Cache>>,
    decoded: DecodedMemo,
    catalog: CatalogMemo,
    flights: SingleFlight<Arc<DashboardData>>,
    pending: Arc<PendingDeletes>,
    pub stats: CacheStats,
    pub answer_stats: AnswerStats,
}

fn dashboard_key(cache: &dyn Cache, id: AnalysisId) -> String {
    cache.key(&format!("dash:{id}"))
}

impl Dashboards {
    /// The repository, and (with a cache) the task that retries failed deletes.
    pub fn new(pool: DbPool, replica: Option<Arc<Replica>>, cache: Option<Arc<dyn Cache>>) -> Self {
        let pending = Arc::new(PendingDeletes::default());
        if let Some(cache) = &cache {
            PendingDeletes::spawn_flusher(&pending, cache.clone());
        }
        Self {
            pool,
            replica,
            cache,
            decoded: DecodedMemo::default(),
            catalog: CatalogMemo::default(),
            flights: SingleFlight::default(),
            pending,
            stats: CacheStats::default(),
            answer_stats: AnswerStats::default(),
        }
    }

    pub fn cache(&self) -> Option<&Arc<dyn Cache>> {
        self.cache.as_ref()
    }

    /// Whether the cache backend is known to be away right now.
    pub fn redis_down(&self) -> bool {
        self.cache.as_ref().is_some_and(|c| c.is_down())
    }

    /// The active badge catalog, from memory for an hour at most.
    pub async fn catalog(&self) -> AppResult<Catalog> {
        if let Some(c) = self.catalog.get() {
            return Ok(c);
        }
        let mut conn = self.pool.get().await?;
        let (c, mark) = badges::active_catalog_marked(&mut conn).await?;
        let c = self.catalog.remember(c, mark);
        Ok(c)
    }

    /// The catalog held in memory, if it is still fresh (never loads it).
    pub fn memo_catalog(&self) -> Option<Catalog> {
        self.catalog.get()
    }

    /// The versions the cache holds for `ids`, in order (`None`: not cached, or the cache is
    /// away); no cache at all is `None`. A stored answer is served only while these are the
    /// versions it read.
    pub async fn cached_versions(&self, keys: &[String]) -> Option<Vec<Option<i64>>> {
        let cache = self.cache.as_ref()?;
        self.pending.flush(cache.as_ref()).await;
        Some(cache.versions(keys).await)
    }

    /// The cache key of a dashboard, when there is a cache.
    pub fn cache_key(&self, id: AnalysisId) -> Option<String> {
        self.cache.as_ref().map(|c| dashboard_key(c.as_ref(), id))
    }

    /// Dashboards of `ids` (unknown ids are absent).
    pub async fn load(
        &self,
        ids: &[AnalysisId],
    ) -> AppResult<HashMap<AnalysisId, Arc<DashboardData>>> {
        let (mut out, misses) = match &self.cache {
            None => (HashMap::new(), ids.to_vec()),
            Some(cache) => self.load_cached(cache.as_ref(), ids).await?,
        };
        if !misses.is_empty() {
            let loaded = self
                .flights
                .load(&misses, |ids| async move { self.load_from_db(&ids).await })
                .await?;
            out.extend(loaded);
        }
        Ok(out)
    }

    /// The hits of one MGET, decoded, and the ids that missed.
    async fn load_cached(
        &self,
        cache: &dyn Cache,
        ids: &[AnalysisId],
    ) -> AppResult<(HashMap<AnalysisId, Arc<DashboardData>>, Vec<AnalysisId>)> {
        self.pending.flush(cache).await;
        let keys: Vec<String> = ids.iter().map(|id| dashboard_key(cache, *id)).collect();
        let values = cache.get_many(&keys).await;
        let mut out = HashMap::with_capacity(ids.len());
        let mut misses = Vec::new();
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
            match self.decoded.decode(*id, bytes, catalog).await {
                Some(d) => {
                    out.insert(*id, d);
                }
                None => misses.push(*id),
            }
        }
        self.stats
            .hits
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        let missed = if cache.is_down() {
            &self.stats.errors
        } else {
            &self.stats.misses
        };
        missed.fetch_add(misses.len() as u64, Ordering::Relaxed);
        Ok((out, misses))
    }

    async fn load_from_db(
        &self,
        ids: &[AnalysisId],
    ) -> AppResult<HashMap<AnalysisId, Arc<DashboardData>>> {
        // the catalog from memory (read on its own only when stale), then one statement
        let catalog = self.catalog().await?;
        let (mut loaded, mark) =
            reads::read(&self.pool, self.replica.as_deref(), ids, &catalog).await?;
        if mark.is_some_and(|m| self.catalog.forget_unless(&m)) {
            // the catalog changed since it was read: read it again for these and what follows
            let catalog = self.catalog().await?;
            for d in loaded.values_mut() {
                d.catalog = catalog.clone();
            }
        }
        let loaded: HashMap<AnalysisId, Arc<DashboardData>> = loaded
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
        let key = dashboard_key(cache.as_ref(), d.analysis.id);
        let value = serde_json::to_vec(d).expect("dashboards serialise");
        if !cache
            .put(&key, d.analysis.version, value, ttl::DASHBOARD)
            .await
        {
            self.pending.add(key);
        }
    }

    /// Evicts a dashboard (when the fresh state is not at hand).
    pub async fn evict(&self, id: AnalysisId) {
        let Some(cache) = &self.cache else { return };
        let key = dashboard_key(cache.as_ref(), id);
        if !cache.delete(std::slice::from_ref(&key)).await {
            self.pending.add(key);
        }
    }

    /// Loads the `count` most recently changed dashboards into the cache.
    pub async fn warm(&self, count: i64) -> AppResult<usize> {
        if self.cache.is_none() || count <= 0 {
            return Ok(0);
        }
        let ids = {
            let mut conn = self.pool.get().await?;
            analyses::most_recently_changed(&mut conn, count).await?
        };
        let mut warmed = 0;
        for chunk in ids.chunks(100) {
            warmed += self.load_from_db(chunk).await?.len();
        }
        Ok(warmed)
    }

    pub fn hit_rate(&self) -> Option<f64> {
        let hits = self.stats.hits.load(Ordering::Relaxed) as f64;
        let total = hits + self.stats.to_database() as f64;
        (total > 0.0).then(|| hits / total)
    }
}
