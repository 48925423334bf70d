//! The progress dashboard API: a GraphQL server over PostgreSQL for following a company's
//! automation opportunities, progress, badges and savings.
//!
//! Data flows one way: `http` → `graphql` → `service` → `domain` rules and `db` queries. The
//! top-level modules form these layers, top first; a module imports only modules on lower lines
//! (`tests/api/architecture.rs` checks it):
//!
//! ```text
//! startup                 composition root: builds state, router, background tasks
//! telemetry               logs, and the metrics recorder behind /metrics
//! http                    axum routes, WebSocket glue, report downloads
//! graphql                 schema, roots, types, loaders: call services, never SQL
//! service                 use cases (one transaction each) and repositories that remember
//! state                   the shared services handed to the layers above
//! cache events reports    interfaces and their backends; the mailer and the renderer
//! db redis_link           every SQL statement; the one Redis connection
//! series traces           the metric series, by name; spans and their export
//! error config clock      one error type, typed configuration, time
//! release                 which release this is (version, commit)
//! domain                  pure rules and types; the read model (DashboardData)
//! ```

pub mod cache;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod redis_link;
pub mod release;
pub mod reports;
pub mod series;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod traces;
