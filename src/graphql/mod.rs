//! The GraphQL layer: schema, roots, output types, dataloaders and the error contract.
//! Resolvers load through dataloaders or call a service; they never write SQL.

pub mod access;
pub mod dashboard;
pub mod errors;
pub mod inputs;
pub mod language;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod observe;
pub mod operations;
pub mod parsed;
pub mod persisted;
pub mod pipeline;
pub mod query;
pub mod reads;
pub mod reports;
pub mod response_cache;
pub mod stats;
pub mod subscription;
pub mod timeline;
pub mod topic;
pub mod transport;
pub mod types;

use async_graphql::{Schema, ValidationMode};

use crate::service::Services;

pub use errors::RequestId;

pub type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Deepest selection a client may send (the deepest real query nests 4 levels; the introspection
/// query of the playground, GraphiQL 5, nests 14).
pub const MAX_DEPTH: usize = 15;
/// Upper bound on the cost of an operation: each field counts 1, and a list field counts its
/// children as many times as the list can be long (`dashboards` its number of ids, opportunities
/// `MAX_OPPORTUNITIES`, badges `MAX_BADGES`). One whole dashboard costs about 1,500, so ten fit.
pub const MAX_COMPLEXITY: usize = 20_000;

pub fn build_schema(services: Option<Services>) -> AppSchema {
    build_schema_with(services, ValidationMode::Strict)
}

/// The schema for requests already known to be valid (`parsed::DocumentCache`): `Fast` still
/// enforces the depth and complexity limits but skips the rules the request has passed before.
pub fn build_prevalidated_schema(services: Option<Services>) -> AppSchema {
    build_schema_with(services, ValidationMode::Fast)
}

fn build_schema_with(services: Option<Services>, mode: ValidationMode) -> AppSchema {
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot,
        subscription::SubscriptionRoot,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .validation_mode(mode);
    if let Some(s) = services {
        let config = &s.state.config;
        // trusted documents only: the schema is not for browsing either
        if !config.server.introspection || config.server.trusted_documents.is_some() {
            // Suggestions ("did you mean …") would spell out the schema one field at a time.
            builder = builder.disable_introspection().disable_suggestions();
        }
        builder = builder.data(s);
    }
    builder.finish()
}

/// The SDL written to `schema.graphql` (`export-schema`); a test fails when the file is stale.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
