//! Shared state and the server's life cycle.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::{self, DbPool, StatementCounter};
use crate::error::BoxError;
use crate::graphql::{self, AppSchema};

/// What resolvers and handlers share: the pool, the clock, and the statement counter.
#[derive(Clone)]
pub struct Services {
    pub pool: DbPool,
    pub clock: SharedClock,
    pub statements: StatementCounter,
}

/// A built server, ready to serve on any listener.
#[derive(Clone)]
pub struct App {
    pub services: Services,
    pub schema: AppSchema,
    pub config: Config,
}

impl App {
    /// Migrates (when configured to) and opens the pool.
    pub async fn build(config: Config, clock: SharedClock) -> Result<Self, BoxError> {
        if config.migrate_on_start {
            let report = db::migrate::run(&config.database_url).await?;
            tracing::info!(applied = ?report.applied, catalog = ?report.catalog, "database migrated");
        }
        let statements = StatementCounter::default();
        let pool = db::pool::build(&config, statements.clone()).await?;
        let services = Services {
            pool,
            clock,
            statements,
        };
        Ok(Self {
            schema: graphql::build_schema(Some(services.clone())),
            services,
            config,
        })
    }

    /// Binds `HOST:PORT` (port 0 picks a free one).
    pub async fn bind(&self) -> std::io::Result<TcpListener> {
        TcpListener::bind(SocketAddr::new(self.config.host, self.config.port)).await
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = crate::http::router(self);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
