//! One error type for the whole service.
//!
//! Policy: every error a client sees carries a stable machine code (`extensions.code`) and a human
//! message. User errors say what was wrong with the request. Internal errors (database, pool,
//! anything unexpected) are logged in full with the request id and reach the client only as
//! `INTERNAL` plus that request id: never an error chain, SQL, or a hostname.
//!
//! Both edges map errors here and nowhere else: GraphQL through [`ErrorExtensions`] (resolvers
//! write `.extend()?`), plain HTTP through [`IntoResponse`], with the same body shape as GraphQL's
//! errors ([`json_error`]).

use std::fmt;

use async_graphql::ErrorExtensions;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::domain::access::Denied;
use crate::domain::ids::AnalysisId;
use crate::domain::RuleError;

/// The stable codes of the error contract (product brief).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    AnalysisNotFound,
    OpportunityNotFound,
    InvalidStatusTransition,
    InvalidInput,
    Unauthenticated,
    Forbidden,
    RateLimited,
    /// Busy or a dependency down: retry later.
    ServiceUnavailable,
    /// A live subscriber fell too far behind and was closed (it may resubscribe).
    SubscriberLagged,
    /// Apollo's: a persisted-query hash this server does not know; send the document with it.
    PersistedQueryNotFound,
    /// Apollo's: only the deployment's trusted documents run.
    PersistedQueryOnly,
    Internal,
}

impl ErrorCode {
    pub const ALL: [Self; 12] = [
        Self::AnalysisNotFound,
        Self::OpportunityNotFound,
        Self::InvalidStatusTransition,
        Self::InvalidInput,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::SubscriberLagged,
        Self::PersistedQueryNotFound,
        Self::PersistedQueryOnly,
        Self::Internal,
    ];

    /// The code written as `name`, if it is one of the contract's.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AnalysisNotFound => "ANALYSIS_NOT_FOUND",
            Self::OpportunityNotFound => "OPPORTUNITY_NOT_FOUND",
            Self::InvalidStatusTransition => "INVALID_STATUS_TRANSITION",
            Self::InvalidInput => "INVALID_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::RateLimited => "RATE_LIMITED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::SubscriberLagged => "SUBSCRIBER_LAGGED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryOnly => "PERSISTED_QUERY_ONLY",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Error)]
pub enum AppError {
    #[error("analysis {0} not found")]
    AnalysisNotFound(AnalysisId),
    #[error("opportunity {opportunity_id:?} not found in analysis {analysis_id}")]
    OpportunityNotFound {
        analysis_id: AnalysisId,
        opportunity_id: String,
    },
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// No token, or one that does not hold (expired, tampered, wrong audience...).
    #[error("{0}")]
    Unauthenticated(String),
    /// A known analysis, a role too low.
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this subscription fell {0} events behind and was closed; subscribe again (with `since` for badges)")]
    SubscriberLagged(u64),
    /// A dependency is away (PostgreSQL): retryable, refused within the connect timeout.
    #[error("{0}")]
    Unavailable(String),
    /// Logged, never shown: the client gets "internal error" and the request id.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AppError {
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::Rule(RuleError::InvalidInput(message.into()))
    }

    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }

    /// PostgreSQL is away: retry in a moment.
    pub fn unavailable() -> Self {
        Self::Unavailable("the database is unavailable; retry in a moment".into())
    }

    /// Seconds to wait before retrying, for the errors that have them.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }

    /// A refusal of the access rules, about `analysis` when there is one: a hidden analysis
    /// answers exactly as an unknown one.
    pub fn denied(denied: Denied, analysis: Option<AnalysisId>) -> Self {
        match (denied, analysis) {
            (Denied::Hidden, Some(id)) => Self::AnalysisNotFound(id),
            (Denied::Unauthenticated, _) => Self::Unauthenticated(
                "this needs a bearer token (Authorization: Bearer <token>)".into(),
            ),
            (Denied::Forbidden | Denied::Hidden, _) => {
                Self::Forbidden("this token's role does not allow this".into())
            }
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::AnalysisNotFound(_) => ErrorCode::AnalysisNotFound,
            Self::OpportunityNotFound { .. } => ErrorCode::OpportunityNotFound,
            Self::Rule(RuleError::InvalidInput(_)) => ErrorCode::InvalidInput,
            Self::Rule(RuleError::InvalidTransition { .. }) => ErrorCode::InvalidStatusTransition,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::SubscriberLagged(_) => ErrorCode::SubscriberLagged,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Seconds a client is told to wait when a dependency is away.
const UNAVAILABLE_RETRY_SECS: u64 = 1;

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            // the connection broke under the statement: PostgreSQL went away
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | Error::BrokenTransactionManager => {
                tracing::warn!(error = %e, "PostgreSQL connection lost");
                Self::unavailable()
            }
            // SQLSTATE 57P01-57P03 (shutdown, crash, starting up), which diesel does not classify:
            // told apart by PostgreSQL's own (English) words
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().starts_with("terminating connection")
                    || info.message().starts_with("the database system is") =>
            {
                tracing::warn!(error = %e, "PostgreSQL is restarting");
                Self::unavailable()
            }
            e => Self::internal(e),
        }
    }
}

impl From<diesel_async::pooled_connection::bb8::RunError> for AppError {
    /// No pooled connection within `DATABASE_CONNECT_TIMEOUT_MS`, or none could be opened.
    fn from(e: diesel_async::pooled_connection::bb8::RunError) -> Self {
        tracing::warn!(error = %e, "no PostgreSQL connection");
        Self::unavailable()
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// What an internal error tells the client (with the request id beside it).
const INTERNAL_MESSAGE: &str = "Internal error; quote the request id when reporting it";

tokio::task_local! {
    /// The id of the HTTP request being handled, for error bodies built outside GraphQL.
    pub static REQUEST_ID: String;
    /// The language the request (HTTP: `Accept-Language`) or connection (WebSocket:
    /// `connection_init`) being handled asked for: error messages are written for it.
    pub static READER: std::cell::Cell<Option<crate::domain::reports::Lang>>;
}

/// The language the request being handled asked for, if any.
pub fn reader() -> Option<crate::domain::reports::Lang> {
    READER.try_with(std::cell::Cell::get).ok().flatten()
}

/// An error's message as its reader reads it: for a reader of another language than the
/// server's (English), their sentence for the code, and the original beside it as the detail.
/// A code without an `error-` message keeps its words (Apollo's persisted-query errors: clients
/// match them).
pub fn for_reader(code: &str, message: String) -> (String, Option<String>) {
    let Some(lang) = reader() else {
        return (message, None);
    };
    match crate::domain::messages::error_text(code, lang) {
        Some(text) => (text, Some(message)),
        None => (message, None),
    }
}

impl AppError {
    /// The message a client sees. An internal error's cause is logged here, inside the request's
    /// span (so the line carries the request id), and replaced by [`INTERNAL_MESSAGE`].
    pub fn client_message(&self) -> String {
        match self {
            Self::Internal(source) => {
                tracing::error!(error = %source, detail = ?source, "internal error");
                INTERNAL_MESSAGE.to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The HTTP status of this error outside GraphQL.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::AnalysisNotFound(_) | Self::OpportunityNotFound { .. } => StatusCode::NOT_FOUND,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Rule(_) | Self::SubscriberLagged(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.client_message()).extend_with(|_, ext| {
            ext.set("code", self.code().as_str());
            if let Some(secs) = self.retry_after() {
                ext.set("retryAfter", secs);
            }
        })
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let request_id = REQUEST_ID.try_with(String::clone).unwrap_or_default();
        let mut extensions =
            serde_json::json!({"code": self.code().as_str(), "requestId": request_id});
        let retry_after = self.retry_after();
        if let Some(secs) = retry_after {
            extensions["retryAfter"] = secs.into();
        }
        let mut response = error_response(self.status(), self.client_message(), extensions);
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        if let Self::Unauthenticated(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// An error in the contract's shape (`errors[0].message` and `extensions.code`, `requestId`), for
/// failures outside GraphQL: refusals of the HTTP layer and [`AppError`]'s responses.
pub fn json_error(
    status: StatusCode,
    code: ErrorCode,
    message: String,
    request_id: String,
) -> Response {
    let extensions = serde_json::json!({"code": code.as_str(), "requestId": request_id});
    error_response(status, message, extensions)
}

/// The one body shape of errors outside GraphQL.
fn error_response(
    status: StatusCode,
    message: String,
    mut extensions: serde_json::Value,
) -> Response {
    let code = extensions["code"].as_str().unwrap_or_default().to_owned();
    let (message, detail) = for_reader(&code, message);
    if let Some(detail) = detail {
        extensions["detail"] = detail.into();
    }
    let body = serde_json::json!({"errors": [{"message": message, "extensions": extensions}]});
    (status, axum::Json(body)).into_response()
}
