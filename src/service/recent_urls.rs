//! URL de-duplication through the cache: the analysis recorded for a normalised URL in the last
//! seven days, without a query when the cache knows it.

use crate::domain::ids::AnalysisId;
use chrono::{DateTime, Utc};

use crate::cache::{ttl, Cache};

fn key(cache: &dyn Cache, normalized_url: &str) -> String {
    cache.key(&format!("url:{normalized_url}"))
}

/// The analysis recorded for this normalised URL at or after `since`, from the cache.
pub async fn recent(
    cache: &dyn Cache,
    normalized_url: &str,
    since: DateTime<Utc>,
) -> Option<AnalysisId> {
    let key = key(cache, normalized_url);
    let value = cache.get_many(std::slice::from_ref(&key)).await.pop()??;
    let (id, created_at): (AnalysisId, DateTime<Utc>) = serde_json::from_slice(&value).ok()?;
    (created_at >= since).then_some(id)
}

/// Remembers the analysis of a normalised URL for the de-duplication window.
pub async fn remember(
    cache: &dyn Cache,
    normalized_url: &str,
    id: AnalysisId,
    created_at: DateTime<Utc>,
) {
    let value = serde_json::to_vec(&(id, created_at)).expect("serialises");
    cache
        .put(
            &key(cache, normalized_url),
            created_at.timestamp_micros(),
            value,
            ttl::URL_DEDUP,
        )
        .await;
}
