//! Reading a JSON request body, bounded: one reader for `POST /graphql` and the REST adapter.
//! A body larger than `MAX_BODY_BYTES` is refused from its `Content-Length` before a byte is
//! read, and otherwise as soon as it grows past the bound.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};

/// Why a body was not read.
#[derive(Debug)]
pub enum BodyError {
    /// Not `application/json`.
    NotJson,
    /// Larger than the bound (bytes).
    TooLarge(usize),
    /// The connection failed while reading.
    Unreadable,
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unreadable => StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::NotJson => "send a JSON body, with Content-Type: application/json".into(),
            Self::TooLarge(limit) => {
                format!("the request body is larger than {limit} bytes (MAX_BODY_BYTES)")
            }
            Self::Unreadable => "the request body could not be read".into(),
        }
    }
}

/// The whole body of a JSON request, at most `limit` bytes.
pub async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, BodyError> {
    if !is_json(headers) {
        return Err(BodyError::NotJson);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if is_length_limit(&e) => Err(BodyError::TooLarge(limit)),
        Err(_) => Err(BodyError::Unreadable),
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// `application/json`, with or without parameters such as `charset=utf-8`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}
