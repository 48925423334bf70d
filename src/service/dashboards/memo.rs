//! What the dashboard store keeps in process memory: the badge catalog for an hour, and the last
//! decoding of hot cached dashboards.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::domain::ids::AnalysisId;

use crate::cache::ttl;
use crate::domain::badge::BadgeDefinition;
use crate::domain::dashboard::DashboardData;

pub type Catalog = Arc<Vec<BadgeDefinition>>;

/// The active badge catalog and its mark (`db::badges::catalog_mark_sql`), remembered for
/// [`ttl::BADGE_CATALOG`] at most: a dashboards load that sees another mark forgets it. A catalog
/// read again with the same content keeps its `Arc`, so that what was decoded or answered with
/// the old one (compared by pointer) still holds.
#[derive(Default)]
pub struct CatalogMemo(Mutex<Memo>);

#[derive(Default)]
struct Memo {
    catalog: Option<Catalog>,
    /// When the catalog was read, and its mark; `None` once it must be read again.
    fresh: Option<(Instant, String)>,
}

impl CatalogMemo {
    pub fn get(&self) -> Option<Catalog> {
        let memo = self.0.lock().expect("catalog lock");
        match &memo.fresh {
            Some((at, _)) if at.elapsed() < ttl::BADGE_CATALOG => memo.catalog.clone(),
            _ => None,
        }
    }

    /// Remembers a catalog just read; the one to use (the one held, when it reads the same).
    pub fn remember(&self, c: Vec<BadgeDefinition>, mark: String) -> Catalog {
        let mut memo = self.0.lock().expect("catalog lock");
        let c = match &memo.catalog {
            Some(held) if **held == c => held.clone(),
            _ => Arc::new(c),
        };
        memo.catalog = Some(c.clone());
        memo.fresh = Some((Instant::now(), mark));
        c
    }

    /// Forgets the catalog unless it carries `mark`; true when it did.
    pub fn forget_unless(&self, mark: &str) -> bool {
        let mut memo = self.0.lock().expect("catalog lock");
        let stale = memo.fresh.as_ref().is_some_and(|(_, m)| m != mark);
        if stale {
            memo.fresh = None;
        }
        stale
    }
}

/// A dashboard decoded from the cached bytes it holds.
struct Decoded {
    bytes: Vec<u8>,
    data: Arc<DashboardData>,
}

/// Hot dashboards kept decoded: JSON decoding was a tenth of a cached read (bench/profile.sh),
/// and the bytes compared first make a stale reuse impossible.
const DECODED_DASHBOARDS: u64 = 2_000;

pub struct DecodedMemo(moka::future::Cache<AnalysisId, Arc<Decoded>>);

impl Default for DecodedMemo {
    fn default() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(DECODED_DASHBOARDS)
                .time_to_live(ttl::DASHBOARD)
                .build(),
        )
    }
}

impl DecodedMemo {
    /// A cached dashboard's bytes, decoded; the last decoding of the same bytes is reused (an
    /// undecodable entry is `None`: a miss).
    pub async fn decode(
        &self,
        id: AnalysisId,
        bytes: Vec<u8>,
        catalog: &Catalog,
    ) -> Option<Arc<DashboardData>> {
        if let Some(hit) = self.0.get(&id).await {
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
        self.0.insert(id, Arc::new(decoded)).await;
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_read_again_unchanged_keeps_its_arc() {
        let memo = CatalogMemo::default();
        let first = memo.remember(Vec::new(), "0/0/".into());
        let again = memo.remember(Vec::new(), "0/0/".into());
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!memo.forget_unless("0/0/"));
        assert!(memo.forget_unless("1/1/x"));
        assert!(memo.get().is_none(), "forgotten: read again before use");
        let added = crate::domain::achievements::tests::badge(serde_json::json!({"type": "t",
            "conditions": [{"field": "opportunities_total", "operator": ">=", "value": 1}]}));
        let new = memo.remember(vec![added], "1/1/x".into());
        assert!(!Arc::ptr_eq(&first, &new));
        assert!(Arc::ptr_eq(&memo.get().unwrap(), &new));
    }
}
