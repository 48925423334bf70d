//! Use cases: each runs one transaction over the database and applies the domain rules.
//! Callers (GraphQL, CLI) pass inputs in domain terms and an explicit `now`.

pub mod record_analysis;
pub mod update_progress;
