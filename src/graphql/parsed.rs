//! What the HTTP path remembers about the documents it has seen, because front ends send the
//! same few over and over, all in one map keyed by the document's text:
//! - the parsed document (parsing was about a tenth of a cached dashboard read), handed to the
//!   request itself (`Request::set_parsed_query`) rather than through a schema extension: with
//!   any extension installed, async-graphql routes every field through the extension chain and a
//!   registry lookup, which cost more than the parse it saved;
//! - the uses of it known to be valid (validation was the next fifth): the specification lets a
//!   service skip validating "that exact same request" once it has been validated, so a use is
//!   the operation name and the variables, beside the document.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_graphql::parser::{parse_query, types::ExecutableDocument};
use async_graphql::{Request, Response};

/// Documents kept; the map starts over when full (a few distinct documents is the normal case).
const DOCUMENTS: usize = 1000;
/// Valid uses kept per document, likewise.
const USES_PER_DOCUMENT: usize = 1000;
/// Longer documents are left to the executor every time.
const MAX_QUERY_BYTES: usize = 16 * 1024;

struct Seen {
    doc: ExecutableDocument,
    /// `operation name \0 variables (JSON)` of requests that passed validation.
    valid: HashSet<String>,
}

#[derive(Default, Clone)]
pub struct KnownDocuments(Arc<Mutex<HashMap<String, Seen>>>);

/// What [`KnownDocuments::prepare`] found out about a request.
pub struct Prepared {
    /// This exact request passed validation before.
    pub known_valid: bool,
    /// The document and use to remember once it passes (none when already known or not kept).
    pending: Option<(String, String)>,
}

impl KnownDocuments {
    /// Gives `request` its parsed document, from memory or parsed now, and tells whether the
    /// request is known to be valid. A document that does not parse is left to the executor,
    /// which reports the syntax error the usual way; it is not remembered.
    pub fn prepare(&self, request: &mut Request) -> Prepared {
        let unknown = Prepared {
            known_valid: false,
            pending: None,
        };
        if request.query.len() > MAX_QUERY_BYTES {
            return unknown;
        }
        let Ok(variables) = serde_json::to_string(&request.variables) else {
            return unknown;
        };
        let operation = request.operation_name.as_deref().unwrap_or("");
        let usage = format!("{operation}\u{0}{variables}");
        let seen_valid = {
            let docs = self.0.lock().expect("documents lock");
            docs.get(&request.query).map(|seen| {
                request.set_parsed_query(seen.doc.clone());
                seen.valid.contains(&usage)
            })
        };
        match seen_valid {
            Some(true) => Prepared {
                known_valid: true,
                pending: None,
            },
            Some(false) => Prepared {
                known_valid: false,
                pending: Some((request.query.clone(), usage)),
            },
            None => {
                let Ok(doc) = parse_query(&request.query) else {
                    return unknown;
                };
                let mut docs = self.0.lock().expect("documents lock");
                if docs.len() >= DOCUMENTS {
                    docs.clear();
                }
                let seen = Seen {
                    doc: doc.clone(),
                    valid: HashSet::new(),
                };
                docs.insert(request.query.clone(), seen);
                request.set_parsed_query(doc);
                Prepared {
                    known_valid: false,
                    pending: Some((request.query.clone(), usage)),
                }
            }
        }
    }

    /// After execution: remembers the request as valid unless GraphQL itself refused it. Its own
    /// errors (syntax, validation, variables) carry no code yet; resolver errors all carry one,
    /// and do not make the request invalid.
    pub fn record(&self, prepared: Prepared, response: &Response) {
        let Some((query, usage)) = prepared.pending else {
            return;
        };
        let refused = response.errors.iter().any(|e| {
            e.extensions
                .as_ref()
                .is_none_or(|x| x.get("code").is_none())
        });
        if refused {
            return;
        }
        if let Some(seen) = self.0.lock().expect("documents lock").get_mut(&query) {
            if seen.valid.len() >= USES_PER_DOCUMENT {
                seen.valid.clear();
            }
            seen.valid.insert(usage);
        }
    }

    /// Documents remembered.
    pub fn documents(&self) -> usize {
        self.0.lock().expect("documents lock").len()
    }

    /// Requests (document and use) remembered as valid.
    pub fn valid_requests(&self) -> usize {
        let docs = self.0.lock().expect("documents lock");
        docs.values().map(|seen| seen.valid.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Variables;

    fn request(query: &str, operation: Option<&str>, id: &str) -> Request {
        let r =
            Request::new(query).variables(Variables::from_json(serde_json::json!({ "id": id })));
        match operation {
            Some(name) => r.operation_name(name),
            None => r,
        }
    }

    #[test]
    fn parses_once_and_leaves_bad_documents_to_the_executor() {
        let known = KnownDocuments::default();
        let mut first = Request::new("{ badgeCatalog { slug } }");
        known.prepare(&mut first);
        assert!(first.parsed_query().is_ok());
        let mut again = Request::new("{ badgeCatalog { slug } }");
        known.prepare(&mut again);
        assert_eq!(known.documents(), 1);

        let mut bad = Request::new("{ badgeCatalog { ");
        known.prepare(&mut bad);
        assert_eq!(known.documents(), 1, "a syntax error is not remembered");
        assert!(bad.parsed_query().is_err(), "and is still reported");
    }

    #[test]
    fn a_valid_request_is_known_by_its_document_operation_and_variables() {
        let query = "query Q($id: UUID!) { dashboard(analysisId: $id) { id } }";
        let known = KnownDocuments::default();
        let prepared = known.prepare(&mut request(query, Some("Q"), "a"));
        assert!(!prepared.known_valid);
        known.record(prepared, &Response::new(async_graphql::Value::Null));

        assert!(
            known
                .prepare(&mut request(query, Some("Q"), "a"))
                .known_valid
        );
        assert!(
            !known
                .prepare(&mut request(query, Some("Q"), "b"))
                .known_valid
        );
        assert!(!known.prepare(&mut request(query, None, "a")).known_valid);
        assert_eq!(known.valid_requests(), 1);
    }

    #[test]
    fn a_request_refused_by_graphql_is_not_remembered() {
        let query = "query Q($id: UUID!) { dashboard(analysisId: $id) { id } }";
        let known = KnownDocuments::default();
        let prepared = known.prepare(&mut request(query, Some("Q"), "a"));
        let refused = Response::from_errors(vec![async_graphql::ServerError::new("invalid", None)]);
        known.record(prepared, &refused);
        assert!(
            !known
                .prepare(&mut request(query, Some("Q"), "a"))
                .known_valid
        );
    }
}
