//! The refusals each endpoint may answer, described once for the OpenAPI document.

use super::shapes::ErrorResponse;

/// The refusals every GET may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description of responses, never built
pub(super) enum ReadRefusals {
    #[response(status = 400, description = "Invalid analysis id")]
    Invalid(ErrorResponse),
    #[response(status = 401, description = "No valid bearer token")]
    Unauthenticated(ErrorResponse),
    #[response(
        status = 404,
        description = "Analysis not found (or hidden from this caller)"
    )]
    NotFound(ErrorResponse),
    #[response(
        status = 429,
        description = "Rate limited: retry after Retry-After seconds"
    )]
    RateLimited(ErrorResponse),
    #[response(
        status = 500,
        description = "Internal server error (quote the request_id)"
    )]
    Internal(ErrorResponse),
    #[response(status = 503, description = "Busy or a dependency away: retry later")]
    Unavailable(ErrorResponse),
}

/// The refusals every POST may answer besides its own 400 and 404.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description of responses, never built
pub(super) enum WriteRefusals {
    #[response(status = 401, description = "No valid bearer token")]
    Unauthenticated(ErrorResponse),
    #[response(status = 403, description = "The caller may only read this analysis")]
    Forbidden(ErrorResponse),
    #[response(status = 413, description = "Body larger than MAX_BODY_BYTES")]
    TooLarge(ErrorResponse),
    #[response(status = 415, description = "Not a JSON body")]
    NotJson(ErrorResponse),
    #[response(
        status = 429,
        description = "Rate limited: retry after Retry-After seconds"
    )]
    RateLimited(ErrorResponse),
    #[response(
        status = 500,
        description = "Internal server error (quote the request_id)"
    )]
    Internal(ErrorResponse),
    #[response(status = 503, description = "Busy or a dependency away: retry later")]
    Unavailable(ErrorResponse),
}
