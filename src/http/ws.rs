//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws` and the older `graphql-ws`, with
//! small per-socket buffers, a `connection_init` deadline, server keep-alive pings, and a bounded
//! number of operations per connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::http::{
    ClientMessage, WebSocket as GraphQLWs, WebSocketProtocols as Protocols, WsMessage,
};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap};
use axum::response::Response as HttpResponse;
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};

use crate::app::{App, CountGuard, LiveCounts};
use crate::error::ErrorCode;
use crate::graphql::errors::complete;
use crate::graphql::loaders::loaders;
use crate::graphql::{AppSchema, RequestId};

/// Bytes of read buffer per socket (axum's default is 128 KiB).
pub const READ_BUFFER: usize = 1024;
/// Largest client message accepted: a subscription document is small.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// What the client sent in `connection_init`, kept for authentication.
#[derive(Debug, Clone)]
pub struct ConnectionInitPayload(pub serde_json::Value);

/// The first GraphQL subprotocol the client offers, if any.
pub fn protocol(headers: &HeaderMap) -> Option<Protocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| p.trim().parse().ok())
}

pub async fn upgrade(app: App, protocol: Protocols, ws: WebSocketUpgrade) -> HttpResponse {
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        // Written eagerly: no write buffer kept per idle socket.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE * 4)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(app, socket, protocol))
}

/// Runs operations for one connection, at most `max` live at once.
#[derive(Clone)]
struct ConnectionExecutor {
    schema: AppSchema,
    app: App,
    connection_id: Arc<str>,
    active: Arc<AtomicUsize>,
    max: usize,
}

struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnectionExecutor {
    fn prepare(&self, request: Request) -> Request {
        request
            .data(RequestId(self.connection_id.to_string()))
            .data(loaders(self.app.services.store.clone()))
    }
}

impl Executor for ConnectionExecutor {
    async fn execute(&self, request: Request) -> Response {
        let mut response = self.schema.execute(self.prepare(request)).await;
        complete(&mut response, &self.connection_id);
        response
    }

    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let id = self.connection_id.clone();
        if self.active.fetch_add(1, Ordering::Relaxed) >= self.max {
            self.active.fetch_sub(1, Ordering::Relaxed);
            let mut refused = Response::from_errors(vec![async_graphql::ServerError::new(
                format!("at most {} operations per connection", self.max),
                None,
            )]);
            if let Some(e) = refused.errors.first_mut() {
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", ErrorCode::RateLimited.as_str());
            }
            complete(&mut refused, &id);
            return futures_util::stream::once(async move { refused }).boxed();
        }
        let guard = ActiveGuard(self.active.clone());
        self.schema
            .execute_stream_with_session_data(self.prepare(request), session.unwrap_or_default())
            .map(move |mut response| {
                let _held = &guard;
                complete(&mut response, &id);
                response
            })
            .boxed()
    }
}

async fn serve(app: App, socket: WebSocket, protocol: Protocols) {
    let _counted = CountGuard::new(&app.services.counts, |c: &LiveCounts| {
        &c.websocket_connections
    });
    let config = &app.config;
    let connection_id: Arc<str> = uuid::Uuid::new_v4().to_string().into();
    let initialised = Arc::new(AtomicBool::new(false));
    let executor = ConnectionExecutor {
        schema: app.schema.clone(),
        app: app.clone(),
        connection_id: connection_id.clone(),
        active: Arc::default(),
        max: config.ws_max_operations,
    };
    let (mut sink, stream) = socket.split();
    let seen_init = initialised.clone();
    let input = stream
        .take_while(|m| {
            futures_util::future::ready(matches!(m, Ok(m) if !matches!(m, Message::Close(_))))
        })
        .filter_map(|m| {
            futures_util::future::ready(match m {
                Ok(Message::Text(t)) => Some(ClientMessage::from_bytes(t.as_bytes())),
                Ok(Message::Binary(b)) => Some(ClientMessage::from_bytes(&b)),
                _ => None,
            })
        })
        .inspect(move |m| {
            if matches!(m, Ok(ClientMessage::ConnectionInit { .. })) {
                seen_init.store(true, Ordering::Relaxed);
            }
        });
    let mut messages = GraphQLWs::from_message_stream(executor, input, protocol)
        .on_connection_init(|payload| async move {
            let mut data = Data::default();
            data.insert(ConnectionInitPayload(payload));
            Ok(data)
        });
    let ping = match protocol {
        Protocols::GraphQLWS => r#"{"type":"ping"}"#,
        Protocols::SubscriptionsTransportWS => r#"{"type":"ka"}"#,
    };
    let mut pings = tokio::time::interval_at(
        tokio::time::Instant::now() + config.ws_ping_interval,
        config.ws_ping_interval,
    );
    let init_deadline = tokio::time::sleep(config.ws_init_timeout);
    tokio::pin!(init_deadline);
    loop {
        let out = tokio::select! {
            m = messages.next() => match m {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => Message::Close(Some(CloseFrame { code, reason: reason.into() })),
                None => break,
            },
            _ = pings.tick() => Message::Text(ping.into()),
            () = &mut init_deadline, if !initialised.load(Ordering::Relaxed) => {
                Message::Close(Some(CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() }))
            }
        };
        let closing = matches!(out, Message::Close(_));
        if sink.send(out).await.is_err() || closing {
            break;
        }
    }
    tracing::debug!(connection = %connection_id, "websocket closed");
}
