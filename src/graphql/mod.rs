//! The GraphQL layer: schema, roots, output types, dataloaders and the error contract.
//! Resolvers load through dataloaders or call a service; they never write SQL.

pub mod errors;
pub mod inputs;
pub mod loaders;
pub mod mutation;
pub mod parsed;
pub mod query;
pub mod reports;
pub mod stats;
pub mod subscription;
pub mod types;

use async_graphql::Schema;

use crate::app::Services;

pub use errors::RequestId;

pub type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Deepest selection a client may send (the deepest real query nests 4 levels).
pub const MAX_DEPTH: usize = 12;
/// Upper bound on fields per operation.
pub const MAX_COMPLEXITY: usize = 5_000;

pub fn build_schema(services: Option<Services>) -> AppSchema {
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot,
        subscription::SubscriptionRoot,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY);
    if let Some(s) = services {
        builder = builder.data(s);
    }
    builder.finish()
}

/// The SDL written to `schema.graphql` (`export-schema`); a test fails when the file is stale.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
