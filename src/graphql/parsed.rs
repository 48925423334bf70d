//! What the HTTP path remembers about requests it has seen, because front ends send the same few
//! documents over and over:
//! - parsed documents, keyed by their text (parsing was about a tenth of a cached dashboard
//!   read), handed to the request itself (`Request::set_parsed_query`) rather than through a
//!   schema extension: with any extension installed, async-graphql routes every field through
//!   the extension chain and a registry lookup, which cost more than the parse it saved;
//! - requests known to be valid (validation was the next fifth): the specification lets a
//!   service skip validating "that exact same request" once it has been validated, so the key is
//!   the document, the operation name and the variables, all three.

use std::collections::{HashMap, HashSet};
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

/// Requests (document, operation name, variables) that passed full validation.
#[derive(Default, Clone)]
pub struct KnownValid(Arc<Mutex<HashSet<String>>>);

impl KnownValid {
    /// The request's identity for validation, or `None` when it is too big to remember.
    pub fn key(request: &Request) -> Option<String> {
        if request.query.len() > MAX_QUERY_BYTES {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        let operation = request.operation_name.as_deref().unwrap_or("");
        Some(format!("{operation}\u{0}{variables}\u{0}{}", request.query))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.lock().expect("valid lock").contains(key)
    }

    pub fn len(&self) -> usize {
        self.0.lock().expect("valid lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn insert(&self, key: String) {
        let mut known = self.0.lock().expect("valid lock");
        if known.len() >= CAPACITY * 10 {
            known.clear();
        }
        known.insert(key);
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

    #[test]
    fn a_valid_request_is_known_by_its_document_operation_and_variables() {
        let query = "query Q($id: UUID!) { dashboard(analysisId: $id) { id } }";
        let with =
            |id: &str| {
                Request::new(query).operation_name("Q").variables(
                    async_graphql::Variables::from_json(serde_json::json!({ "id": id })),
                )
            };
        let known = KnownValid::default();
        known.insert(KnownValid::key(&with("a")).unwrap());
        assert!(known.contains(&KnownValid::key(&with("a")).unwrap()));
        assert!(!known.contains(&KnownValid::key(&with("b")).unwrap()));
        let unnamed = Request::new(query).variables(async_graphql::Variables::from_json(
            serde_json::json!({ "id": "a" }),
        ));
        assert!(!known.contains(&KnownValid::key(&unnamed).unwrap()));
    }
}
