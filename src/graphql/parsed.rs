//! What the HTTP path remembers about the documents it has seen, because front ends send the
//! same few over and over, all in one map keyed by a hash of the document's text and bounded in
//! bytes (a client chooses the keys; neither its text nor its variables are kept):
//! - the parsed document (parsing was about a tenth of a cached dashboard read), handed to the
//!   request itself (`Request::set_parsed_query`) rather than through a schema extension: with
//!   any extension installed, async-graphql routes every field through the extension chain and a
//!   registry lookup, which cost more than the parse it saved;
//! - the uses of it known to be valid (validation was the next fifth): the specification lets a
//!   service skip validating "that exact same request" once it has been validated, so a use is
//!   the operation name and the variables, beside the document.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use async_graphql::parser::{parse_query, types::ExecutableDocument};
use async_graphql::{Request, Response};

use super::errors::is_request_error;
use super::limits::{check_document, check_variables, scan_document, Refusal};

/// Bytes the memo may hold, by the estimate below; it starts over when full (a few distinct
/// documents is the normal case, so honest clients refill it at once).
const MAX_BYTES: usize = 32 << 20;
/// A parsed document takes about this many times its text (names, positions, vectors).
const BYTES_PER_DOCUMENT_BYTE: usize = 16;
/// Valid uses kept per document, likewise started over when full.
const USES_PER_DOCUMENT: usize = 256;
/// Longer documents are parsed every time and never kept.
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Requests with longer variables (as JSON) are validated every time and never kept.
const MAX_REMEMBERED_VARIABLES: usize = 4 * 1024;

/// 128 bits from two independently keyed SipHashes: the key of a document or of a use, so that
/// neither the text nor the variables are kept.
#[derive(Clone)]
pub(crate) struct Hasher128(RandomState, RandomState);

impl Hasher128 {
    pub(crate) fn new() -> Self {
        Self(RandomState::new(), RandomState::new())
    }

    pub(crate) fn hash<T: std::hash::Hash + ?Sized>(&self, parts: &T) -> u128 {
        (u128::from(self.0.hash_one(parts)) << 64) | u128::from(self.1.hash_one(parts))
    }
}

struct Seen {
    doc: ExecutableDocument,
    /// Hashes of the uses (operation name, variables) that passed validation.
    valid: HashSet<u128>,
}

struct Memo {
    docs: HashMap<u128, Seen>,
    /// Estimated bytes held.
    bytes: usize,
}

#[derive(Clone)]
pub struct DocumentCache {
    memo: Arc<Mutex<Memo>>,
    hasher: Hasher128,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            memo: Arc::new(Mutex::new(Memo {
                docs: HashMap::new(),
                bytes: 0,
            })),
            hasher: Hasher128::new(),
        }
    }
}

/// What [`DocumentCache::prepare`] found out about a request.
pub struct Prepared {
    /// This exact request passed validation before.
    pub known_valid: bool,
    /// The document and use to remember once it passes (none when already known or not kept).
    pending: Option<(u128, u128)>,
}

const UNKNOWN: Prepared = Prepared {
    known_valid: false,
    pending: None,
};

/// Checks a request against the limits and gives it its parsed document. A document that does
/// not parse is left to the executor, which reports the syntax error the usual way (the scan has
/// already bounded what the parser may recurse over).
pub fn admit(request: &mut Request) -> Result<(), Refusal> {
    check_variables(&request.variables)?;
    if let Some(doc) = parse_checked(&request.query)? {
        request.set_parsed_query(doc);
    }
    Ok(())
}

/// The document, measured before it is parsed and checked after; `None` when it does not parse.
fn parse_checked(query: &str) -> Result<Option<ExecutableDocument>, Refusal> {
    scan_document(query)?;
    let Ok(doc) = parse_query(query) else {
        return Ok(None);
    };
    check_document(&doc)?;
    Ok(Some(doc))
}

impl DocumentCache {
    /// [`admit`], with the parse and the limits' verdict remembered per document, and tells
    /// whether the request is known to be valid.
    pub fn prepare(&self, request: &mut Request) -> Result<Prepared, Refusal> {
        if request.query.len() > MAX_QUERY_BYTES {
            admit(request)?;
            return Ok(UNKNOWN);
        }
        check_variables(&request.variables)?;
        let doc_key = self.hasher.hash(&[&request.query]);
        let usage = serde_json::to_string(&request.variables)
            .ok()
            .filter(|v| v.len() <= MAX_REMEMBERED_VARIABLES)
            .map(|v| {
                let operation = request.operation_name.as_deref().unwrap_or("");
                self.hasher.hash(&[operation, &v])
            });
        let seen_valid = {
            let memo = self.memo.lock().expect("documents lock");
            memo.docs.get(&doc_key).map(|seen| {
                request.set_parsed_query(seen.doc.clone());
                usage.is_some_and(|u| seen.valid.contains(&u))
            })
        };
        let pending = usage.map(|u| (doc_key, u));
        match seen_valid {
            Some(true) => Ok(Prepared {
                known_valid: true,
                pending: None,
            }),
            Some(false) => Ok(Prepared {
                known_valid: false,
                pending,
            }),
            None => {
                let Some(doc) = parse_checked(&request.query)? else {
                    return Ok(UNKNOWN);
                };
                let weight = request.query.len() * BYTES_PER_DOCUMENT_BYTE + USES_PER_DOCUMENT * 32;
                let mut memo = self.memo.lock().expect("documents lock");
                if memo.bytes + weight > MAX_BYTES {
                    memo.docs.clear();
                    memo.bytes = 0;
                }
                let seen = Seen {
                    doc: doc.clone(),
                    valid: HashSet::new(),
                };
                if memo.docs.insert(doc_key, seen).is_none() {
                    memo.bytes += weight;
                }
                request.set_parsed_query(doc);
                Ok(Prepared {
                    known_valid: false,
                    pending,
                })
            }
        }
    }

    /// After execution (before `errors::complete`): remembers the request as valid unless
    /// GraphQL itself refused it; resolver errors do not make a request invalid.
    pub fn record(&self, prepared: Prepared, response: &Response) {
        let Some((doc_key, usage)) = prepared.pending else {
            return;
        };
        if is_request_error(response) {
            return;
        }
        if let Some(seen) = self
            .memo
            .lock()
            .expect("documents lock")
            .docs
            .get_mut(&doc_key)
        {
            if seen.valid.len() >= USES_PER_DOCUMENT {
                seen.valid.clear();
            }
            seen.valid.insert(usage);
        }
    }

    /// Documents remembered.
    pub fn documents(&self) -> usize {
        self.memo.lock().expect("documents lock").docs.len()
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> usize {
        self.memo.lock().expect("documents lock").bytes
    }

    /// Requests (document and use) remembered as valid.
    pub fn valid_requests(&self) -> usize {
        let memo = self.memo.lock().expect("documents lock");
        memo.docs.values().map(|seen| seen.valid.len()).sum()
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
        let known = DocumentCache::default();
        let mut first = Request::new("{ badgeCatalog { slug } }");
        known.prepare(&mut first).unwrap();
        assert!(first.parsed_query().is_ok());
        let mut again = Request::new("{ badgeCatalog { slug } }");
        known.prepare(&mut again).unwrap();
        assert_eq!(known.documents(), 1);

        let mut bad = Request::new("{ badgeCatalog { ");
        known.prepare(&mut bad).unwrap();
        assert_eq!(known.documents(), 1, "a syntax error is not remembered");
        assert!(bad.parsed_query().is_err(), "and is still reported");
    }

    #[test]
    fn a_valid_request_is_known_by_its_document_operation_and_variables() {
        let query = "query Q($id: UUID!) { dashboard(analysisId: $id) { id } }";
        let known = DocumentCache::default();
        let prepared = known.prepare(&mut request(query, Some("Q"), "a")).unwrap();
        assert!(!prepared.known_valid);
        known.record(prepared, &Response::new(async_graphql::Value::Null));

        assert!(
            known
                .prepare(&mut request(query, Some("Q"), "a"))
                .unwrap()
                .known_valid
        );
        assert!(
            !known
                .prepare(&mut request(query, Some("Q"), "b"))
                .unwrap()
                .known_valid
        );
        assert!(
            !known
                .prepare(&mut request(query, None, "a"))
                .unwrap()
                .known_valid
        );
        assert_eq!(known.valid_requests(), 1);
    }

    #[test]
    fn a_request_refused_by_graphql_is_not_remembered() {
        let query = "query Q($id: UUID!) { dashboard(analysisId: $id) { id } }";
        let known = DocumentCache::default();
        let prepared = known.prepare(&mut request(query, Some("Q"), "a")).unwrap();
        let refused = Response::from_errors(vec![async_graphql::ServerError::new("invalid", None)]);
        known.record(prepared, &refused);
        assert!(
            !known
                .prepare(&mut request(query, Some("Q"), "a"))
                .unwrap()
                .known_valid
        );
    }

    #[test]
    fn memory_stays_bounded_whatever_the_documents_and_variables() {
        let known = DocumentCache::default();
        let big = "x".repeat(1 << 20);
        for i in 0..50 {
            let query = format!("query Q{i}($id: UUID!) {{ dashboard(analysisId: $id) {{ id }} }}");
            let mut r = request(&query, None, &big);
            let prepared = known.prepare(&mut r).unwrap();
            known.record(prepared, &Response::new(async_graphql::Value::Null));
        }
        assert_eq!(
            known.valid_requests(),
            0,
            "large variables are never remembered"
        );
        let filler = "__typename ".repeat(1400);
        for i in 0..300 {
            let mut r = Request::new(format!("query Q{i} {{ {filler} }}"));
            known.prepare(&mut r).unwrap();
            assert!(known.bytes() <= MAX_BYTES);
        }
    }

    #[test]
    fn hostile_documents_are_refused_before_parsing() {
        let known = DocumentCache::default();
        let deep = format!("{{ a(x: {}{}) }}", "[".repeat(100_000), "]".repeat(100_000));
        let e = known.prepare(&mut Request::new(deep)).err().unwrap();
        assert!(e.0.contains("MAX_NESTING"));
        assert_eq!(known.documents(), 0);
    }
}
