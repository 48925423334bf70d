//! The progress dashboard API: a GraphQL server over PostgreSQL for following a company's
//! automation opportunities, progress, badges and savings.
//!
//! Data flows one way: `http` → `graphql` → `service` → `domain` rules and `db` queries.

pub mod app;
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
pub mod reports;
pub mod seed;
pub mod service;
pub mod telemetry;
