//! GraphQL over HTTP: `POST /graphql` takes `application/json` bodies only, bounded in size; `GET
//! /graphql` takes queries in the URL (never mutations) or upgrades to a WebSocket. Every
//! document passes the limits (`graphql::limits`) before it is parsed, and every reply is
//! bounded in size. Responses go out as the client accepts (`negotiate`).

use std::net::SocketAddr;

use async_graphql::parser::types::OperationType;
use axum::body::{Body, Bytes};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use async_graphql::Variables;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::negotiate::ResponseType;
use super::response_cache::ResponseKey;
use super::App;
use super::{error_response, rate, request_id, ws};
use crate::domain::access::Caller;
use crate::domain::persisted::PersistedError;
use crate::error::ErrorCode;
use crate::error::{json_error, AppError};
use crate::graphql::errors::{complete, is_request_error, request_error_response};
use crate::graphql::limits::MAX_REPLY_BYTES;
use crate::graphql::loaders::recording_loaders;
use crate::graphql::observe::{first_code, operation_of, operation_span};
use crate::graphql::reads::ReadRecorder;
use crate::graphql::RequestId;
use crate::series::OperationKind;

/// GET /graphql: a WebSocket upgrade (subscriptions), or a query in the URL.
pub async fn get(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    rate::limited(&app, peer.ip(), &headers, |caller| async {
        match upgrade {
            // the socket names its caller in `connection_init`, which browsers can send
            Ok(upgrade) => ws::upgrade(app.clone(), peer, &headers, upgrade).await,
            Err(_) => get_query(&app, caller, &headers, &uri).await,
        }
    })
    .await
}

async fn get_query(
    app: &App,
    caller: Result<Caller, AppError>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let id = request_id(headers);
    let Some(kind) = ResponseType::negotiate(headers) else {
        return not_acceptable(id);
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return error_response(e, &id),
    };
    let query = uri.query().unwrap_or_default();
    let key = app
        .response_cache
        .key(&Method::GET, &caller, query.as_bytes());
    if let Some(stored) = stored(app, key, &caller, kind, &id).await {
        return stored;
    }
    match async_graphql::http::parse_query_string(query) {
        Ok(request) if !request.query.is_empty() || names_a_document(&request) => {
            run(app, Method::GET, kind, request.data(caller), id, key).await
        }
        Ok(_) => malformed("a `query` parameter is required", id),
        Err(e) => malformed(e, id),
    }
}

/// POST /graphql with a JSON body.
pub async fn post(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    rate::limited(&app, peer.ip(), &headers, |caller| {
        post_body(&app, caller, &headers, body)
    })
    .await
}

async fn post_body(
    app: &App,
    caller: Result<Caller, AppError>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let id = request_id(headers);
    let Some(kind) = ResponseType::negotiate(headers) else {
        return not_acceptable(id);
    };
    let bytes = match super::body::read_json(headers, body, app.config.limits.max_body_bytes).await
    {
        Ok(bytes) => bytes,
        Err(e) => return json_error(e.status(), ErrorCode::InvalidInput, e.message(), id),
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return error_response(e, &id),
    };
    let key = app.response_cache.key(&Method::POST, &caller, &bytes);
    if let Some(stored) = stored(app, key, &caller, kind, &id).await {
        return stored;
    }
    match serde_json::from_slice::<Params>(&bytes) {
        Ok(params) => {
            let request = params.into_request();
            if request.query.is_empty() && !names_a_document(&request) {
                return malformed("missing field `query`", id);
            }
            run(app, Method::POST, kind, request.data(caller), id, key).await
        }
        Err(e) => malformed(e, id),
    }
}

/// Whether a request names its document by a persisted-query hash instead of sending it.
fn names_a_document(request: &async_graphql::Request) -> bool {
    request.extensions.contains_key("persistedQuery")
}

/// The parameters of a GraphQL-over-HTTP request body. Each may be `null` but `query`, which is
/// a string, required unless `extensions.persistedQuery` names the document; `variables` and
/// `extensions` are maps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<Variables>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Params {
    fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query.unwrap_or_default());
        request.operation_name = self.operation_name;
        request.variables = self.variables.unwrap_or_default();
        if let Some(e) = self.extensions {
            for (key, value) in e {
                request.extensions.insert(
                    key,
                    async_graphql::Value::from_json(value).unwrap_or_default(),
                );
            }
        }
        request
    }
}

fn not_acceptable(id: String) -> Response {
    json_error(
        StatusCode::NOT_ACCEPTABLE,
        ErrorCode::InvalidInput,
        "Accept must allow application/graphql-response+json or application/json".into(),
        id,
    )
}

fn malformed(e: impl std::fmt::Display, id: String) -> Response {
    let detail = e.to_string();
    let detail = crate::graphql::limits::shorten(&detail).unwrap_or(detail);
    json_error(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidInput,
        format!("Malformed GraphQL request: {detail}"),
        id,
    )
}

/// A response refused before execution: errors, and no `data` entry.
#[derive(Serialize)]
struct RequestError<'a> {
    errors: &'a [async_graphql::ServerError],
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

/// The stored answer to this exact request, when there is one that still holds for this caller.
async fn stored(
    app: &App,
    key: Option<ResponseKey>,
    caller: &Caller,
    kind: ResponseType,
    id: &str,
) -> Option<Response> {
    let key = key?;
    let services = &app.services;
    let now = services.state.clock.now();
    let body = app
        .response_cache
        .serve(key, caller, &services.dashboards, now)
        .instrument(crate::traces::child(|| {
            tracing::debug_span!("answer", otel.name = "stored answer", request_id = id)
        }))
        .await?;
    Some(respond(body, false, kind, HeaderMap::new()))
}

async fn run(
    app: &App,
    method: Method,
    kind: ResponseType,
    mut request: async_graphql::Request,
    id: String,
    key: Option<ResponseKey>,
) -> Response {
    if let Err(e) = super::persisted::apply(&app.persisted, &mut request).await {
        // Apollo's clients answer a 200 PersistedQueryNotFound by sending the document
        let request_error = e != PersistedError::NotFound;
        let (body, _) = encode(&super::persisted::error_response(&e, &id), true, &id);
        return respond(body, request_error, kind, HeaderMap::new());
    }
    let reads = key.map(|_| ReadRecorder::default());
    let mut request = request.data(RequestId(id.clone())).data(recording_loaders(
        app.services.dashboards.clone(),
        reads.clone(),
    ));
    if let Some(reads) = &reads {
        request = request.data(reads.clone());
    }
    let prepared = match app.known.prepare(&mut request) {
        Ok(p) => p,
        Err(refusal) => return reply(request_error_response(refusal.0, &id), true, kind, &id),
    };
    // GET is for reads only: a link or an image tag must never change anything.
    if method == Method::GET && has_mutation(&mut request) {
        return json_error(
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
    let (operation, op_kind) = operation_of(&mut request);
    let span = operation_span(&operation, op_kind, &id);
    let started = std::time::Instant::now();
    let mut response = schema.execute(request).instrument(span.clone()).await;
    let code = first_code(&response);
    operation.record(op_kind, code, Some(started.elapsed()));
    if let Some(code) = code {
        span.record("graphql.error.code", code.as_str());
    }
    app.known.record(prepared, &response);
    let request_error = is_request_error(&response);
    let keep = response.errors.is_empty()
        && response.http_headers.is_empty()
        && op_kind == OperationKind::Query;
    complete(&mut response, &id);
    let headers = response.http_headers.clone();
    let (body, request_error) = encode(&response, request_error, &id);
    if let (Some(key), Some(reads), true, false) = (key, reads, keep, request_error) {
        let dashboards = &app.services.dashboards;
        app.response_cache
            .store(key, reads.take(), body.clone(), operation, dashboards);
    }
    respond(body, request_error, kind, headers)
}

/// The response in the negotiated type, or an error in its place when it would be larger than
/// the limit.
fn reply(
    response: async_graphql::Response,
    request_error: bool,
    kind: ResponseType,
    id: &str,
) -> Response {
    let (body, request_error) = encode(&response, request_error, id);
    respond(body, request_error, kind, response.http_headers)
}

/// The response's body, or an error in its place when it would be larger than the limit (then
/// a request error).
fn encode(response: &async_graphql::Response, request_error: bool, id: &str) -> (Bytes, bool) {
    let mut body = if request_error {
        serde_json::to_vec(&RequestError {
            errors: &response.errors,
        })
    } else {
        serde_json::to_vec(response)
    }
    .unwrap_or_default();
    let mut request_error = request_error;
    if body.len() > MAX_REPLY_BYTES {
        let too_large = request_error_response(
            format!(
                "the reply would be {} bytes; the limit is {MAX_REPLY_BYTES} (MAX_REPLY_BYTES): ask for fewer fields or ids",
                body.len()
            ),
            id,
        );
        body = serde_json::to_vec(&RequestError {
            errors: &too_large.errors,
        })
        .unwrap_or_default();
        request_error = true;
    }
    (Bytes::from(body), request_error)
}

/// A request error (refused before execution) has no `data` entry, and is a 400 as
/// `application/graphql-response+json`; as `application/json` every GraphQL response is a 200.
fn respond(body: Bytes, request_error: bool, kind: ResponseType, headers: HeaderMap) -> Response {
    let status = match (request_error, kind) {
        (true, ResponseType::GraphQL) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut http = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(kind.content_type()),
        )],
        body,
    )
        .into_response();
    http.headers_mut().extend(headers);
    http
}
