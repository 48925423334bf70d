//! The HTTP surface: `/graphql` (POST, GET, and WebSocket), the playground at `/`, `/health` and
//! `/ready`.

pub mod reports;
pub mod ws;

use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql_axum::{rejection::GraphQLRejection, GraphQLRequest, GraphQLResponse};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::app::App;
use crate::error::ErrorCode;
use crate::graphql::errors::complete;
use crate::graphql::{loaders::loaders, RequestId};

/// The playground page with its example operations filled in.
static PLAYGROUND: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    include_str!("../../playground/index.html").replace(
        "/*EXAMPLES*/[]",
        include_str!("../../playground/examples.json").trim(),
    )
});
const REQUEST_ID: &str = "x-request-id";

pub fn router(app: App) -> Router {
    let timeout = app.config.request_timeout;
    Router::new()
        .route("/", get(playground))
        .route("/toasts", get(toasts))
        .route("/reports/{analysis_id}", get(reports::document))
        .route("/unsubscribe/{token}", get(reports::unsubscribe_page).post(reports::unsubscribe))
        .route("/graphql", get(graphql_get).post(graphql))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(app)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                        let id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                .layer(
                    CorsLayer::new()
                        .allow_origin(Any)
                        .allow_methods([Method::GET, Method::POST])
                        .allow_headers(Any)
                        .max_age(Duration::from_secs(3600)),
                ),
        )
}

pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// An error in the contract's shape, for failures before GraphQL runs.
fn error_response(
    status: StatusCode,
    code: ErrorCode,
    message: String,
    request_id: String,
) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code.as_str(), "requestId": request_id}}]});
    (status, Json(body)).into_response()
}

fn has_mutation(request: &mut async_graphql::Request) -> bool {
    request
        .parsed_query()
        .map(|doc| {
            doc.operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Mutation)
        })
        .unwrap_or(false)
}

/// GET /graphql: a WebSocket upgrade (subscriptions), or a query in the URL.
async fn graphql_get(
    State(app): State<App>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    method: Method,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    match (upgrade.ok(), ws::protocol(&headers)) {
        (Some(upgrade), Some(protocol)) => ws::upgrade(app, protocol, upgrade).await,
        (Some(_), None) => error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
            "Unsupported WebSocket subprotocol: use graphql-transport-ws or graphql-ws".into(),
            request_id(&headers),
        ),
        _ => graphql(State(app), method, headers, request).await,
    }
}

async fn graphql(
    State(app): State<App>,
    method: Method,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let id = request_id(&headers);
    let request = match request {
        Ok(r) => r.into_inner(),
        Err(rejection) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidInput,
                format!("Malformed GraphQL request: {}", rejection.0),
                id,
            )
        }
    };
    let mut request = request
        .data(RequestId(id.clone()))
        .data(loaders(app.services.store.clone()));
    let prepared = app.known.prepare(&mut request);
    // GET is for reads only: a link or an image tag must never change anything.
    if method == Method::GET && has_mutation(&mut request) {
        return error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InvalidInput,
            "Mutations must be sent with POST".into(),
            id,
        );
    }
    let schema = if prepared.known_valid {
        &app.prevalidated
    } else {
        &app.schema
    };
    let mut response = schema.execute(request).await;
    app.known.record(prepared, &response);
    complete(&mut response, &id);
    GraphQLResponse::from(response).into_response()
}

async fn playground() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Html(PLAYGROUND.as_str()),
    )
}

/// A small page that moves opportunities and pops a toast on `badgeAwarded`.
async fn toasts() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Html(include_str!("../../playground/toasts.html")),
    )
}

async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers within two seconds.
async fn ready(State(app): State<App>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), crate::db::ping(&app.services.pool)).await {
        Ok(Ok(())) => Json(json!({"status": "ready", "database": "ok"})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "timeout"})),
        )
            .into_response(),
    }
}
