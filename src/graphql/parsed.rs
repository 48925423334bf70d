//! A cache of parsed operations keyed by their text: front ends send the same few documents over
//! and over, and parsing was about a tenth of a cached dashboard read (perf, bench/RESULTS.md).
//! It hands the document to the request itself (`Request::set_parsed_query`) rather than being a
//! schema extension: with any extension installed, async-graphql routes every field through the
//! extension chain and a registry lookup, which cost more than the parse it saved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::{parse_query, types::ExecutableDocument};
use async_graphql::Request;

/// Documents kept; the map starts over when full (a few distinct documents is the normal case).
const CAPACITY: usize = 1000;
/// Longer documents are parsed every time.
const MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Default, Clone)]
pub struct ParsedQueries(Arc<Mutex<HashMap<String, ExecutableDocument>>>);

impl ParsedQueries {
    /// Gives `request` its parsed document, from the cache or parsed now. A document that does
    /// not parse is left to the executor, which reports the syntax error the usual way; errors
    /// are not cached.
    pub fn prepare(&self, request: &mut Request) {
        let query = request.query.as_str();
        if let Some(doc) = self.0.lock().expect("parsed lock").get(query) {
            request.set_parsed_query(doc.clone());
            return;
        }
        let Ok(doc) = parse_query(query) else {
            return;
        };
        if query.len() <= MAX_QUERY_BYTES {
            let mut docs = self.0.lock().expect("parsed lock");
            if docs.len() >= CAPACITY {
                docs.clear();
            }
            docs.insert(query.to_owned(), doc.clone());
        }
        request.set_parsed_query(doc);
    }

    pub fn len(&self) -> usize {
        self.0.lock().expect("parsed lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_leaves_bad_documents_to_the_executor() {
        let cache = ParsedQueries::default();
        let mut first = Request::new("{ badgeCatalog { slug } }");
        cache.prepare(&mut first);
        assert!(first.parsed_query().is_ok());
        let mut again = Request::new("{ badgeCatalog { slug } }");
        cache.prepare(&mut again);
        assert_eq!(cache.len(), 1);

        let mut bad = Request::new("{ badgeCatalog { ");
        cache.prepare(&mut bad);
        assert_eq!(cache.len(), 1, "a syntax error is not cached");
        assert!(bad.parsed_query().is_err(), "and is still reported");
    }
}
