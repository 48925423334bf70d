//! Use cases: each runs one transaction over the database and applies the domain rules, then
//! tells the cache and the live layer. Callers (GraphQL, CLI) pass inputs in domain terms and an
//! explicit `now`.

pub mod documents;
pub mod limiter;
pub mod live;
pub mod publish;
pub mod record_analysis;
pub mod reports;
pub mod update_progress;
