//! Apollo's persisted-query protocol on a request, the same over POST, GET and WebSocket: a
//! request naming a document by `extensions.persistedQuery.sha256Hash` runs the stored (or,
//! in trusted mode, listed) document; a document sent with its hash is registered once it
//! passes the lexical limits.

use async_graphql::{Request, Response, Value};

use super::errors::complete;
use super::limits::scan_document;
use crate::domain::persisted::PersistedError;
use crate::error::ErrorCode;
use crate::service::persisted::{PersistedDocuments, Resolved};

/// The document the request runs put in place, or why it is refused (send [`refusal`]).
pub async fn apply(
    store: &PersistedDocuments,
    request: &mut Request,
) -> Result<(), PersistedError> {
    let hash = hash_of(request)?;
    if hash.is_none() && !store.trusted_only() {
        return Ok(());
    }
    let text = (!request.query.is_empty()).then_some(request.query.as_str());
    match store.resolve(text, hash.as_deref()).await? {
        Resolved::AsSent => {}
        Resolved::Stored(document) => {
            if *request.query != *document {
                request.query = document.to_string();
            }
        }
        Resolved::Register(hash) => {
            if scan_document(&request.query).is_ok() {
                store.register(hash, &request.query).await;
            }
        }
    }
    Ok(())
}

/// The `sha256Hash` of `extensions.persistedQuery` (version 1), when the request has one.
fn hash_of(request: &Request) -> Result<Option<String>, PersistedError> {
    let Some(extension) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let invalid = |m: &str| PersistedError::Invalid(m.into());
    let Value::Object(fields) = extension else {
        return Err(invalid("extensions.persistedQuery must be an object"));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => {
            return Err(invalid(
                "PersistedQuery version not supported: use version 1",
            ))
        }
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) => Ok(Some(hash.clone())),
        _ => Err(invalid(
            "extensions.persistedQuery.sha256Hash must be a string",
        )),
    }
}

/// A refusal in the shape Apollo's clients read: `PersistedQueryNotFound` makes them send the
/// document with its hash.
pub fn error_response(error: &PersistedError, request_id: &str) -> Response {
    let code = match error {
        PersistedError::NotFound => ErrorCode::PersistedQueryNotFound,
        PersistedError::Only => ErrorCode::PersistedQueryOnly,
        PersistedError::Invalid(_) => ErrorCode::InvalidInput,
    };
    let mut server_error = async_graphql::ServerError::new(error.to_string(), None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code.as_str());
    server_error.extensions = Some(extensions);
    let mut response = Response::from_errors(vec![server_error]);
    complete(&mut response, request_id);
    response
}
