//! GraphQL over HTTP: `POST /graphql` takes `application/json` bodies only, bounded in size; `GET
//! /graphql` takes queries in the URL (never mutations) or upgrades to a WebSocket. Every
//! document passes the limits (`graphql::limits`) before it is parsed, and every reply is
//! bounded in size. Responses go out as the client accepts (`negotiate`).

use crate::graphql::language::RequestLanguage;
use crate::http::negotiate::reader;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use async_graphql::Variables;
use serde::Deserialize;

use super::negotiate::ResponseType;
use super::App;
use super::{error_response, rate, request_id, ws};
use crate::domain::access::Caller;
use crate::error::ErrorCode;
use crate::error::{json_error, AppError};
use crate::graphql::pipeline::{refusal_body, Incoming, Refused, Transport};
use crate::graphql::response_cache::ResponseKey;

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
    let lang = reader(headers);
    let key = app
        .pipeline
        .response_key(Transport::Get, &caller, lang, query.as_bytes());
    if let Some(stored) = stored(app, key, &caller, kind, &id).await {
        return stored;
    }
    match async_graphql::http::parse_query_string(query) {
        Ok(request) if !request.query.is_empty() || names_a_document(&request) => {
            let request = request.data(caller).data(RequestLanguage(lang));
            run(app, Transport::Get, kind, request, id, key).await
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
    let lang = reader(headers);
    let key = app
        .pipeline
        .response_key(Transport::Post, &caller, lang, &bytes);
    if let Some(stored) = stored(app, key, &caller, kind, &id).await {
        return stored;
    }
    match serde_json::from_slice::<Params>(&bytes) {
        Ok(params) => {
            let request = params.into_request();
            if request.query.is_empty() && !names_a_document(&request) {
                return malformed("missing field `query`", id);
            }
            let request = request.data(caller).data(RequestLanguage(lang));
            run(app, Transport::Post, kind, request, id, key).await
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

/// The stored answer to this exact request, when there is one that still holds for this caller.
async fn stored(
    app: &App,
    key: Option<ResponseKey>,
    caller: &Caller,
    kind: ResponseType,
    id: &str,
) -> Option<Response> {
    let body = app.pipeline.stored(key, caller, id).await?;
    Some(respond(body, false, kind, HeaderMap::new()))
}

/// A request through the pipeline (`graphql::pipeline`); it keeps the answer for next time when
/// it may.
async fn run(
    app: &App,
    transport: Transport,
    kind: ResponseType,
    request: async_graphql::Request,
    id: String,
    key: Option<ResponseKey>,
) -> Response {
    let incoming = Incoming {
        request,
        request_id: id.clone(),
        transport,
        key,
    };
    let admitted = match app.pipeline.admit(incoming).await {
        Ok(admitted) => admitted,
        // refused before execution: no `data` entry; the status says whether it is a request
        // error (Apollo's clients answer a 200 PersistedQueryNotFound by sending the document)
        Err(Refused::Response(response, request_error)) => {
            let body = refusal_body(&response, &id);
            return respond(body, request_error, kind, HeaderMap::new());
        }
        Err(Refused::MutationOverGet) => {
            return json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::InvalidInput,
                "Mutations must be sent with POST".into(),
                id,
            )
        }
    };
    let executed = app.pipeline.execute(admitted).await;
    let reply = app.pipeline.reply(executed);
    respond(reply.body, reply.request_error, kind, reply.headers)
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
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.content_type()),
            ),
            // the words in an answer are its reader's (Accept-Language)
            (header::VARY, HeaderValue::from_static("accept-language")),
        ],
        body,
    )
        .into_response();
    http.headers_mut().extend(headers);
    http
}
