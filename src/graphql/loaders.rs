//! Dataloaders: every read of the GraphQL layer goes through one `Reader`, which batches keys of
//! one kind into one cache round trip plus, for the misses, a fixed number of SQL statements.
//! Built per request; sharing across requests is the dashboards repository's job.
//!
//! The reader also records what it returned into the request's recorder (`reads`), when the
//! request has one: each dashboard at its version, the catalog those dashboards were built on,
//! and any id that was asked for and not found. A resolver cannot read a dashboard or the
//! catalog without its stored answer depending on it.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use tracing::Instrument;

use super::reads::ReadRecorder;
use crate::domain::badge::BadgeDefinition;
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;
use crate::error::AppError;
use crate::service::dashboards::Dashboards;

/// Key: one analysis' dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DashboardKey(pub AnalysisId);

/// Key: the active badge catalog (there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CatalogKey;

pub struct Reader {
    store: Arc<Dashboards>,
    /// The request's recorder, when its answer may be stored.
    reads: Option<ReadRecorder>,
}

pub type Loaders = DataLoader<Reader>;

/// The loaders of a request that records nothing (a mutation, a subscription).
pub fn loaders(store: Arc<Dashboards>) -> Loaders {
    recording_loaders(store, None)
}

/// The loaders of a request whose answer may be stored: what they return is recorded in `reads`.
pub fn recording_loaders(store: Arc<Dashboards>, reads: Option<ReadRecorder>) -> Loaders {
    // No batching delay: every read of a request goes through one `load_many` or `load_one`
    // already, and the default 1 ms timer cost a timer and a wake-up on every request.
    // A batch runs in a task of its own: it carries the span of the request that started it
    // when spans are exported.
    DataLoader::new(Reader { store, reads }, |batch| {
        if crate::traces::exporting() {
            tokio::spawn(batch.in_current_span())
        } else {
            tokio::spawn(batch)
        }
    })
    .delay(std::time::Duration::ZERO)
}

impl Loader<DashboardKey> for Reader {
    type Value = Arc<DashboardData>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[DashboardKey],
    ) -> Result<HashMap<DashboardKey, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<AnalysisId> = keys.iter().map(|k| k.0).collect();
        let span = tracing::debug_span!(
            "dataloader",
            otel.name = "dataloader dashboards",
            keys = ids.len()
        );
        let loaded = self
            .store
            .load(&ids)
            .instrument(span)
            .await
            .map_err(Arc::new)?;
        if let Some(reads) = &self.reads {
            reads.dashboards(&ids, &loaded);
        }
        Ok(loaded
            .into_iter()
            .map(|(id, d)| (DashboardKey(id), d))
            .collect())
    }
}

impl Loader<CatalogKey> for Reader {
    type Value = Arc<Vec<BadgeDefinition>>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[CatalogKey],
    ) -> Result<HashMap<CatalogKey, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let span = tracing::debug_span!("dataloader", otel.name = "dataloader catalog", keys = 1);
        let catalog = self
            .store
            .catalog()
            .instrument(span)
            .await
            .map_err(Arc::new)?;
        if let Some(reads) = &self.reads {
            reads.catalog(&catalog);
        }
        Ok(HashMap::from([(CatalogKey, catalog)]))
    }
}
