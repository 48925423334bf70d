//! Persisted documents: Apollo's automatic persisted queries (a client sends the SHA-256 of a
//! document, and the document itself only when the server does not know it yet) and trusted
//! documents (a manifest of the only documents a deployment runs, in Apollo's
//! `apollo-persisted-query-manifest` format). Pure rules; the store is `service::persisted`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Why a request's persisted document is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PersistedError {
    /// A hash the server does not know (yet): send the document with it once.
    #[error("PersistedQueryNotFound")]
    NotFound,
    /// Trusted documents only, and this one is not in the manifest.
    #[error("only the deployment's trusted documents run here: send a listed document's id (extensions.persistedQuery.sha256Hash)")]
    Only,
    /// A malformed `persistedQuery` extension, or a document that does not match its hash.
    #[error("{0}")]
    Invalid(String),
}

/// The lowercase hex SHA-256 of a document: its id under both protocols.
pub fn document_id(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A `sha256Hash` as the client sent it, checked to be 64 hex digits (compared lowercase).
pub fn parse_hash(hash: &str) -> Result<String, PersistedError> {
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash.to_ascii_lowercase())
    } else {
        Err(PersistedError::Invalid(
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits".into(),
        ))
    }
}

/// Whether a document sent with a hash is the one the hash names.
pub fn check_pair(text: &str, hash: &str) -> Result<(), PersistedError> {
    if document_id(text) == hash {
        Ok(())
    } else {
        Err(PersistedError::Invalid(
            "provided sha does not match query".into(),
        ))
    }
}

/// The trusted documents of a deployment, by id.
#[derive(Debug, Default)]
pub struct Manifest {
    documents: HashMap<String, Arc<str>>,
}

#[derive(Deserialize)]
struct ManifestFile {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

/// One operation of the manifest; `name` and `type` are Apollo's, kept for the reader.
#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

/// The manifest format Apollo's tools write and read.
pub const MANIFEST_FORMAT: &str = "apollo-persisted-query-manifest";

impl Manifest {
    /// Reads a manifest; every id must be its body's SHA-256, so a stale manifest is caught at
    /// start-up rather than as refusals later.
    pub fn parse(json: &str) -> Result<Self, String> {
        let file: ManifestFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if file.format != MANIFEST_FORMAT || file.version != 1 {
            return Err(format!(
                "expected format {MANIFEST_FORMAT:?} version 1, found {:?} version {}",
                file.format, file.version
            ));
        }
        let mut documents = HashMap::with_capacity(file.operations.len());
        for op in file.operations {
            let id = document_id(&op.body);
            if !op.id.eq_ignore_ascii_case(&id) {
                return Err(format!(
                    "operation {} is not the SHA-256 of its body ({id})",
                    op.id
                ));
            }
            documents.insert(id, op.body.into());
        }
        Ok(Self { documents })
    }

    /// How many documents it lists.
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// The document a trusted-only request runs: the listed one its hash names, or the text it
    /// sent when that text is listed as it is.
    pub fn resolve(
        &self,
        text: Option<&str>,
        hash: Option<&str>,
    ) -> Result<Arc<str>, PersistedError> {
        match (text, hash) {
            (text, Some(hash)) => {
                let listed = self.documents.get(&parse_hash(hash)?);
                match (listed, text) {
                    (Some(listed), Some(text)) if **listed != *text => Err(PersistedError::Only),
                    (Some(listed), _) => Ok(listed.clone()),
                    (None, Some(_)) => Err(PersistedError::Only),
                    (None, None) => Err(PersistedError::NotFound),
                }
            }
            (Some(text), None) => self
                .documents
                .get(&document_id(text))
                .cloned()
                .ok_or(PersistedError::Only),
            (None, None) => Err(PersistedError::Only),
        }
    }
}

/// Writes a manifest of `(operation name, operation type, body)` documents, ids computed.
pub fn manifest_json<'a>(
    operations: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> serde_json::Value {
    let operations: Vec<_> = operations
        .into_iter()
        .map(|(name, kind, body)| {
            serde_json::json!({"id": document_id(body), "name": name, "type": kind, "body": body})
        })
        .collect();
    serde_json::json!({"format": MANIFEST_FORMAT, "version": 1, "operations": operations})
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "query Q { badgeCatalog { slug } }";

    fn manifest() -> Manifest {
        let json = manifest_json([("Q", "query", DOC)]).to_string();
        Manifest::parse(&json).unwrap()
    }

    #[test]
    fn ids_are_sha256_hex() {
        assert_eq!(
            document_id(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(parse_hash("abc").is_err());
        assert_eq!(
            parse_hash(&document_id(DOC).to_uppercase()).unwrap(),
            document_id(DOC)
        );
        assert!(check_pair(DOC, &document_id(DOC)).is_ok());
        assert!(check_pair("query { x }", &document_id(DOC)).is_err());
    }

    #[test]
    fn a_manifest_with_a_wrong_id_is_refused() {
        let good = manifest_json([("Q", "query", DOC)]);
        let mut bad = good.clone();
        bad["operations"][0]["id"] = document_id("other").into();
        assert!(Manifest::parse(&bad.to_string()).is_err());
        let mut format = good;
        format["format"] = "something-else".into();
        assert!(Manifest::parse(&format.to_string()).is_err());
    }

    #[test]
    fn trusted_mode_runs_only_listed_documents() {
        let m = manifest();
        let id = document_id(DOC);
        assert_eq!(&*m.resolve(None, Some(&id)).unwrap(), DOC);
        assert_eq!(&*m.resolve(Some(DOC), Some(&id)).unwrap(), DOC);
        assert_eq!(&*m.resolve(Some(DOC), None).unwrap(), DOC);
        let other = "query { badgeCatalog { name } }";
        assert_eq!(m.resolve(Some(other), None), Err(PersistedError::Only));
        assert_eq!(m.resolve(Some(other), Some(&id)), Err(PersistedError::Only));
        let unknown = document_id(other);
        assert_eq!(
            m.resolve(None, Some(&unknown)),
            Err(PersistedError::NotFound)
        );
        assert_eq!(
            m.resolve(Some(other), Some(&unknown)),
            Err(PersistedError::Only)
        );
        assert_eq!(m.resolve(None, None), Err(PersistedError::Only));
    }
}
