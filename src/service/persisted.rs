//! Where persisted documents are kept: the trusted manifest when `TRUSTED_DOCUMENTS` names one,
//! else the documents clients registered by automatic persisted queries, in Redis when it is
//! configured (`apq:<sha256>`, shared by every instance) with a bounded copy in this process
//! that also serves alone without Redis or while it is away.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::persisted::{check_pair, parse_hash, Manifest, PersistedError};
use crate::redis_link::Redis;

/// How long a registered document is kept after its last registration.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// Most bytes of registered documents kept in this process.
pub const MEMORY_BYTES: u64 = 16 << 20;
/// Largest document registered: a longer one runs, but is not kept (its client goes on sending
/// it whole), so that registrations cannot fill Redis at the body limit's size. The
/// playground's largest example is about 1.5 KiB.
pub const MAX_DOCUMENT_BYTES: usize = 32 << 10;

/// What a request's document turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Run the text the request carries (it had no hash).
    AsSent,
    /// Run this stored or listed document.
    Stored(Arc<str>),
    /// Run the text the request carries, and register it under its hash once it passes the
    /// limits.
    Register(String),
}

pub struct PersistedDocuments {
    trusted: Option<Manifest>,
    redis: Option<Redis>,
    memory: moka::sync::Cache<String, Arc<str>>,
}

impl PersistedDocuments {
    pub fn new(trusted: Option<Manifest>, redis: Option<Redis>) -> Self {
        Self {
            trusted,
            redis,
            memory: moka::sync::Cache::builder()
                .max_capacity(MEMORY_BYTES)
                .weigher(|k: &String, v: &Arc<str>| {
                    (k.len() + v.len()).try_into().unwrap_or(u32::MAX)
                })
                .time_to_live(KEEP_FOR)
                .build(),
        }
    }

    /// Whether only the manifest's documents run.
    pub fn trusted_only(&self) -> bool {
        self.trusted.is_some()
    }

    /// The document to run for a request with this text (if any) and persisted-query hash (if
    /// any).
    pub async fn resolve(
        &self,
        text: Option<&str>,
        hash: Option<&str>,
    ) -> Result<Resolved, PersistedError> {
        if let Some(manifest) = &self.trusted {
            return manifest.resolve(text, hash).map(Resolved::Stored);
        }
        let Some(hash) = hash else {
            return Ok(Resolved::AsSent);
        };
        let hash = parse_hash(hash)?;
        if let Some(text) = text {
            check_pair(text, &hash)?;
            return Ok(Resolved::Register(hash));
        }
        if let Some(found) = self.memory.get(&hash) {
            return Ok(Resolved::Stored(found));
        }
        let redis = self.redis.as_ref().ok_or(PersistedError::NotFound)?;
        let stored = redis.get(&redis.key(&format!("apq:{hash}"))).await;
        let text = stored
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(PersistedError::NotFound)?;
        let text: Arc<str> = text.into();
        self.memory.insert(hash, text.clone());
        Ok(Resolved::Stored(text))
    }

    /// Keeps a document (checked against its hash by [`resolve`](Self::resolve)), unless it
    /// is over [`MAX_DOCUMENT_BYTES`].
    pub async fn register(&self, hash: String, text: &str) {
        if text.len() > MAX_DOCUMENT_BYTES {
            return;
        }
        if let Some(redis) = &self.redis {
            let key = redis.key(&format!("apq:{hash}"));
            redis.set_for(&key, text.as_bytes(), KEEP_FOR).await;
        }
        self.memory.insert(hash, text.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::persisted::document_id;

    #[tokio::test]
    async fn registered_documents_are_found_by_hash_in_memory() {
        let store = PersistedDocuments::new(None, None);
        let doc = "{ badgeCatalog { slug } }";
        let hash = document_id(doc);
        assert_eq!(
            store.resolve(None, Some(&hash)).await,
            Err(PersistedError::NotFound)
        );
        assert_eq!(
            store.resolve(Some(doc), Some(&hash)).await,
            Ok(Resolved::Register(hash.clone()))
        );
        store.register(hash.clone(), doc).await;
        assert_eq!(
            store.resolve(None, Some(&hash)).await,
            Ok(Resolved::Stored(doc.into()))
        );
        assert!(matches!(
            store.resolve(Some("{ x }"), Some(&hash)).await,
            Err(PersistedError::Invalid(_))
        ));
        assert_eq!(store.resolve(Some(doc), None).await, Ok(Resolved::AsSent));
    }
}
