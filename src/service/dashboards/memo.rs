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
/// [`ttl::BADGE_CATALOG`] at most: a dashboards load that sees another mark forgets it.
#[derive(Default)]
pub struct CatalogMemo(Mutex<Option<(Instant, Catalog, String)>>);

impl CatalogMemo {
    pub fn get(&self) -> Option<Catalog> {
        match &*self.0.lock().expect("catalog lock") {
            Some((at, c, _)) if at.elapsed() < ttl::BADGE_CATALOG => Some(c.clone()),
            _ => None,
        }
    }

    pub fn remember(&self, c: Catalog, mark: String) {
        *self.0.lock().expect("catalog lock") = Some((Instant::now(), c, mark));
    }

    /// Forgets the catalog unless it carries `mark`; true when it did.
    pub fn forget_unless(&self, mark: &str) -> bool {
        let mut memo = self.0.lock().expect("catalog lock");
        let stale = memo.as_ref().is_some_and(|(_, _, m)| m != mark);
        if stale {
            *memo = None;
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
