//! A cache of parsed operations keyed by their text: front ends send the same few documents over
//! and over, and parsing was about a tenth of a cached dashboard read (perf, bench/RESULTS.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// Documents kept; the map starts over when full (a few distinct documents is the normal case).
const CAPACITY: usize = 1000;
/// Longer documents are parsed every time.
const MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Default, Clone)]
pub struct ParsedQueries(Arc<Mutex<HashMap<String, ExecutableDocument>>>);

impl ExtensionFactory for ParsedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParsedQueries {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(doc) = self.0.lock().expect("parsed lock").get(query) {
            return Ok(doc.clone());
        }
        // Errors are not cached: a bad document is parsed (and refused) every time.
        let doc = next.run(ctx, query, variables).await?;
        if query.len() <= MAX_QUERY_BYTES {
            let mut docs = self.0.lock().expect("parsed lock");
            if docs.len() >= CAPACITY {
                docs.clear();
            }
            docs.insert(query.to_owned(), doc.clone());
        }
        Ok(doc)
    }
}
