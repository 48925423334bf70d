//! The error contract on a finished GraphQL response: `extensions.code` and
//! `extensions.requestId` on every error, including those GraphQL raises itself. Application
//! errors are mapped in `crate::error`.

use async_graphql::{Response, Value};

use crate::error::ErrorCode;

/// The id of the HTTP request, as logged and as returned in `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Completes the contract on a finished response: the request id on every error, and
/// `INVALID_INPUT` on errors raised by GraphQL itself (syntax, validation, bad variables), since
/// every resolver error already carries its own code. Long messages (a syntax error quotes the
/// whole line it met) are cut, so a reply never echoes the client's document back.
pub fn complete(response: &mut Response, request_id: &str) {
    for error in &mut response.errors {
        if let Some(short) = super::limits::shorten(&error.message) {
            error.message = short;
        }
        if let Some(named) = name_the_limit(&error.message) {
            error.message = named;
        }
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", ErrorCode::InvalidInput.as_str());
        }
        ext.set("requestId", Value::String(request_id.to_owned()));
        let code = match ext.get("code") {
            Some(Value::String(code)) => code.clone(),
            _ => String::new(),
        };
        let (message, detail) = crate::error::for_reader(&code, std::mem::take(&mut error.message));
        error.message = message;
        if let Some(detail) = detail {
            ext.set("detail", Value::String(detail));
        }
    }
}

/// async-graphql's own refusals, reworded to name the limit met.
fn name_the_limit(message: &str) -> Option<String> {
    match message {
        "Query is too complex." => Some(format!(
            "the operation costs more than {} (MAX_COMPLEXITY): each field counts once per item its lists may hold (dashboards: per id; opportunities: {}; badges: {}); ask for fewer ids or fields",
            super::MAX_COMPLEXITY,
            crate::service::record_analysis::MAX_OPPORTUNITIES,
            crate::domain::badge::MAX_BADGES,
        )),
        "Query is nested too deep." => Some(format!(
            "the operation nests fields deeper than {} levels (MAX_DEPTH)",
            super::MAX_DEPTH
        )),
        _ => None,
    }
}

/// Whether GraphQL refused the request before executing it (syntax, validation, variables): no
/// data, and errors none of which has a code yet. Ask before [`complete`], which gives them one
/// (every resolver error carries its own).
pub fn is_request_error(response: &Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .is_none_or(|x| x.get("code").is_none())
        })
}

/// A response refused before execution (a limit), in the contract's shape.
pub fn request_error_response(message: impl Into<String>, request_id: &str) -> Response {
    let mut response =
        Response::from_errors(vec![async_graphql::ServerError::new(message.into(), None)]);
    complete(&mut response, request_id);
    response
}
