//! `/api/v1`: the original specification's REST contract, for the front end written against it.
//! Thin adapters over the same services as GraphQL: the same caller and access rules (a hidden
//! analysis is a 404 like an unknown one), rate limit, dashboard cache and body limit; the
//! specification's shapes, status codes and error body (`{error, detail, timestamp,
//! request_id}`); `ETag` / `If-None-Match` on the GETs. The OpenAPI 3.1 document is generated
//! from these handlers and types (`openapi`).

pub mod handlers;
pub mod openapi;
mod refusals;
pub mod report;
pub mod shapes;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::App;
use crate::domain::RuleError;
use crate::error::{AppError, ErrorCode};
use shapes::ErrorResponse;

/// The routes under `/api/v1`.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/dashboard/{analysis_id}", get(handlers::get_dashboard))
        .route(
            "/dashboard/{analysis_id}/progress",
            post(handlers::update_progress),
        )
        .route(
            "/dashboard/{analysis_id}/recommendations",
            get(handlers::get_recommendations),
        )
        .route("/dashboard/{analysis_id}/badges", get(handlers::get_badges))
        .route(
            "/dashboard/{analysis_id}/report/generate",
            get(report::generate_report),
        )
        .route(
            "/dashboard/{analysis_id}/subscribe",
            post(handlers::subscribe_reports),
        )
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::docs_page))
        .fallback(not_found)
}

async fn not_found() -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such endpoint under /api/v1 (see /api/v1/docs)".into(),
        "",
    )
}

/// An application error in the specification's error body, with the specification's codes
/// where it names them (`NOT_FOUND`, `INVALID_TRANSITION`, `INTERNAL_SERVER_ERROR`) and the
/// contract's otherwise; internal details stay in the log.
pub fn error_response(e: AppError, request_id: &str) -> Response {
    let (status, code, detail) = match &e {
        AppError::AnalysisNotFound(id) => (
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Analysis with ID {id} not found"),
        ),
        AppError::OpportunityNotFound { opportunity_id, .. } => (
            StatusCode::NOT_FOUND,
            "OPPORTUNITY_NOT_FOUND",
            format!("Opportunity '{opportunity_id}' not found in analysis results"),
        ),
        AppError::Rule(RuleError::InvalidTransition { from, to }) => (
            StatusCode::BAD_REQUEST,
            "INVALID_TRANSITION",
            format!("Cannot transition from {from} to {to}"),
        ),
        _ => {
            let code = match e.code() {
                ErrorCode::Internal => "INTERNAL_SERVER_ERROR",
                other => other.as_str(),
            };
            // an internal error's cause is logged here, under the request's span
            let detail = e.client_message();
            let mut response = error_body(e.status(), code, detail, request_id);
            let h = response.headers_mut();
            if let Some(secs) = e.retry_after() {
                h.insert(header::RETRY_AFTER, secs.into());
            }
            if let AppError::Unauthenticated(_) = e {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return response;
        }
    };
    error_body(status, code, detail, request_id)
}

/// The error body; for a reader who asked for another language than the server's, `detail` is
/// their sentence for the code and the server's own words are `technical_detail`.
pub fn error_body(status: StatusCode, code: &str, detail: String, request_id: &str) -> Response {
    // the GraphQL contract's name of the specification's code: the messages are filed by it
    let contract_code = match code {
        "NOT_FOUND" => "ANALYSIS_NOT_FOUND",
        "INVALID_TRANSITION" => "INVALID_STATUS_TRANSITION",
        "INTERNAL_SERVER_ERROR" => "INTERNAL",
        other => other,
    };
    let (detail, technical_detail) = crate::error::for_reader(contract_code, detail);
    let body = ErrorResponse {
        error: code.into(),
        detail,
        technical_detail,
        timestamp: chrono::Utc::now(),
        request_id: request_id.into(),
    };
    (status, axum::Json(body)).into_response()
}

/// A 200 (or `status`) JSON answer; for a GET, with its `ETag`, or a 304 when the client's
/// `If-None-Match` already names it.
pub fn json<T: Serialize>(status: StatusCode, body: &T, request: Option<&HeaderMap>) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => Bytes::from(b),
        Err(e) => return error_response(AppError::internal(e), ""),
    };
    let Some(request) = request else {
        return (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response();
    };
    let tag = etag(&bytes);
    let headers = [
        (header::ETAG, tag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ),
        // the words in a body are the reader's (Accept-Language)
        (header::VARY, HeaderValue::from_static("accept-language")),
    ];
    if matches_none_of(request, &tag) {
        let mut response =
            (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response();
        response.headers_mut().extend(headers);
        response
    } else {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    }
}

/// A strong tag of the body's bytes.
fn etag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
}

/// False when `If-None-Match` names the tag (weakly: `W/` is ignored, as RFC 9110 says for
/// this header) or is `*`.
fn matches_none_of(request: &HeaderMap, tag: &HeaderValue) -> bool {
    let tag = tag.to_str().unwrap_or_default();
    !request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag() {
        let tag = etag(b"{}");
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, v.parse().unwrap());
            h
        };
        let t = tag.to_str().unwrap();
        assert!(!matches_none_of(&with(t), &tag));
        assert!(!matches_none_of(&with(&format!("\"x\", W/{t}")), &tag));
        assert!(!matches_none_of(&with("*"), &tag));
        assert!(matches_none_of(&with("\"other\""), &tag));
        assert!(matches_none_of(&HeaderMap::new(), &tag));
    }
}
