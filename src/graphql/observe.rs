//! What every transport records about an operation: its name and kind as metric labels, its span,
//! and the code of its outcome. One definition, so that POST, GET and WebSocket count alike.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;

use crate::error::ErrorCode;
use crate::series::{self, OperationKind};

/// The operation a request runs, as metric labels: its name (bounded) and kind.
pub fn operation_of(
    request: &mut async_graphql::Request,
) -> (Arc<series::Operation>, OperationKind) {
    let wanted = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return (series::operation(None), OperationKind::Query);
    };
    let found = doc.operations.iter().find(|(name, _)| match &wanted {
        Some(w) => name.is_some_and(|n| n.as_str() == w),
        None => true,
    });
    let Some((name, op)) = found else {
        return (series::operation(None), OperationKind::Query);
    };
    let kind = match op.node.ty {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        OperationType::Subscription => OperationKind::Subscription,
    };
    (series::operation(name.map(|n| n.as_str())), kind)
}

/// The span of one operation's execution, named by the operation (bounded as for its metrics).
pub fn operation_span(
    operation: &series::Operation,
    kind: OperationKind,
    request_id: &str,
) -> tracing::Span {
    tracing::debug_span!(
        "graphql",
        otel.name = %format_args!("{} {}", kind.label(), operation.name()),
        graphql.operation.name = operation.name(),
        graphql.operation.type = kind.label(),
        request_id,
        graphql.error.code = tracing::field::Empty,
    )
}

/// `None` when a response has no error, else the code of its first.
pub fn first_code(response: &async_graphql::Response) -> Option<ErrorCode> {
    let first = response.errors.first()?;
    let code = first.extensions.as_ref().and_then(|x| x.get("code"));
    Some(match code {
        Some(async_graphql::Value::String(s)) => {
            ErrorCode::from_name(s).unwrap_or(ErrorCode::Internal)
        }
        _ => ErrorCode::Internal,
    })
}
