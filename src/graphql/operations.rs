//! The playground's example operations (`playground/examples.json`), and the trusted-documents
//! manifest that lists them (`export-operations`).

use async_graphql::parser::types::OperationType;
use serde::Deserialize;

/// The examples as the playground page embeds them.
pub const EXAMPLES: &str = include_str!("../../playground/examples.json");

#[derive(Deserialize)]
struct Example {
    title: String,
    query: String,
}

/// Apollo's persisted-query manifest of every example (`TRUSTED_DOCUMENTS` takes it).
pub fn examples_manifest() -> Result<serde_json::Value, String> {
    let examples: Vec<Example> = serde_json::from_str(EXAMPLES).map_err(|e| e.to_string())?;
    let mut operations = Vec::with_capacity(examples.len());
    for example in &examples {
        let document = async_graphql::parser::parse_query(&example.query)
            .map_err(|e| format!("example {}: {e}", example.title))?;
        let kind = match document.operations.iter().next().map(|(_, op)| op.node.ty) {
            Some(OperationType::Mutation) => "mutation",
            Some(OperationType::Subscription) => "subscription",
            _ => "query",
        };
        operations.push((example.title.as_str(), kind, example.query.as_str()));
    }
    Ok(crate::domain::persisted::manifest_json(operations))
}

#[cfg(test)]
mod tests {
    use crate::domain::persisted::Manifest;

    #[test]
    fn the_examples_manifest_reads_back() {
        let manifest = super::examples_manifest().unwrap();
        let read = Manifest::parse(&manifest.to_string()).unwrap();
        assert!(read.len() >= 10, "{}", read.len());
        assert_eq!(manifest["operations"][0]["type"], "query");
    }
}
