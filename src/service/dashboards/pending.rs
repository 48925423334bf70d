//! Keys whose write-through or delete failed while the cache was down: deleted once it is back,
//! so other instances stop seeing stale entries soon after it returns.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cache::Cache;

#[derive(Default)]
pub struct PendingDeletes(Mutex<HashSet<String>>);

impl PendingDeletes {
    pub fn add(&self, key: String) {
        self.0.lock().expect("pending lock").insert(key);
    }

    /// Deletes the pending keys; those the cache refused stay pending.
    pub async fn flush(&self, cache: &dyn Cache) {
        let keys: Vec<String> = {
            let pending = self.0.lock().expect("pending lock");
            if pending.is_empty() {
                return;
            }
            pending.iter().cloned().collect()
        };
        if cache.delete(&keys).await {
            let mut pending = self.0.lock().expect("pending lock");
            for k in &keys {
                pending.remove(k);
            }
        }
    }

    /// Flushes every half second for as long as `pending` lives.
    pub fn spawn_flusher(pending: &Arc<Self>, cache: Arc<dyn Cache>) {
        let pending = Arc::downgrade(pending);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let Some(pending) = pending.upgrade() else {
                    return;
                };
                pending.flush(cache.as_ref()).await;
            }
        });
    }
}
