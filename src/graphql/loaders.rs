//! Dataloaders: every read of the GraphQL layer goes through one `Reader`, which batches keys of
//! one kind into a fixed number of SQL statements. Built per request, so nothing is cached across
//! requests at this level.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use crate::db::dashboard::{self, DashboardData};
use crate::db::{badges, DbPool};
use crate::domain::badge::BadgeDefinition;
use crate::error::AppError;

/// Key: one analysis' dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DashboardKey(pub Uuid);

/// Key: the active badge catalog (there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CatalogKey;

pub struct Reader {
    pool: DbPool,
}

pub type Loaders = DataLoader<Reader>;

pub fn loaders(pool: DbPool) -> Loaders {
    DataLoader::new(Reader { pool }, tokio::spawn)
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
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut conn = self.pool.get().await.map_err(|e| Arc::new(e.into()))?;
        let loaded = dashboard::load_many(&mut conn, &ids)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(loaded
            .into_iter()
            .map(|(id, d)| (DashboardKey(id), Arc::new(d)))
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
        let mut conn = self.pool.get().await.map_err(|e| Arc::new(e.into()))?;
        let catalog = badges::active_catalog(&mut conn)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(HashMap::from([(CatalogKey, Arc::new(catalog))]))
    }
}
