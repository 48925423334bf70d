//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws` and the older `graphql-ws`
//! (subscriptions-transport-ws), implemented here rather than by async-graphql's helper so that
//! each rule of the protocol holds and nothing a client sends can grow or stall the server:
//! - connections counted per instance and per client address, upgrades only from allowed origins;
//! - small per-socket buffers; a `connection_init` deadline (4408), one init only (4429), no
//!   operation before the acknowledgement (4401), an id in use refused (4409), a message that is
//!   not the protocol's closes with 4400, an init payload over 4 KiB is refused (4403);
//! - each document passes the same limits as over HTTP; at most `WS_MAX_OPERATIONS` live;
//! - a reply over the size limit becomes an error for its operation, never a dropped socket;
//! - pings both ways; a peer silent for a whole ping interval is closed; a reader too slow to
//!   take one message within `WS_SEND_TIMEOUT_MS` is dropped.
//!
//! One concern a file: `gate` (connection caps and origins), `messages` (the protocols' messages
//! and close reasons), `connection` (the connection's loop), `token` (the caller's token through
//! the connection's life: init, re-authentication, revocation, expiry), `operations` (starting,
//! answering and ending operations, the reply bound) and `members` (membership in shared runs).

mod connection;
mod gate;
mod members;
mod messages;
mod operations;
mod token;

pub use gate::{origin_allowed, GateFull, WsGate, WsTicket};

use std::net::SocketAddr;

use async_graphql::http::WebSocketProtocols as Protocols;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response as HttpResponse;

use crate::error::json_error;
use crate::error::ErrorCode;
use crate::graphql::limits::MAX_REPLY_BYTES;
use crate::http::App;
use crate::service::limiter::client_key;
use connection::Connection;

/// Bytes of read buffer per socket (axum's default is 128 KiB).
pub const READ_BUFFER: usize = 1024;
/// Largest client message accepted: a subscription document is small.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Longest operation id accepted.
const MAX_ID: usize = 128;
/// Largest `connection_init` payload accepted (it holds credentials, not data): larger ones are
/// refused at init (4403).
pub const MAX_INIT_PAYLOAD: usize = 4 * 1024;

/// The first GraphQL subprotocol the client offers, if any.
pub fn protocol(headers: &HeaderMap) -> Option<Protocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| p.trim().parse().ok())
}

pub async fn upgrade(
    app: App,
    peer: SocketAddr,
    headers: &HeaderMap,
    ws: WebSocketUpgrade,
) -> HttpResponse {
    let id = super::request_id(headers);
    let Some(protocol) = protocol(headers) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
            "Unsupported WebSocket subprotocol: use graphql-transport-ws or graphql-ws".into(),
            id,
        );
    };
    if !origin_allowed(headers, &app.config.server.allowed_origins) {
        return json_error(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "WebSocket connections from this origin are not allowed (CORS_ALLOWED_ORIGINS)".into(),
            id,
        );
    }
    // A stopping instance, or a full one, accepts the upgrade and closes at once with a code
    // clients reconnect on (1001 going away, 1013 try again later): refused at the handshake (an
    // HTTP 503), `graphql-ws` takes the socket's error as fatal and never comes back.
    if *app.stopping.borrow() {
        return go_elsewhere(ws, 1001, "this instance is stopping; connect to another");
    }
    let ticket = match app.ws_gate.enter(client_key(super::rate::client_of(
        &app,
        peer.ip(),
        headers,
    ))) {
        Ok(t) => t,
        Err(full) => {
            let GateFull::Client = full else {
                return go_elsewhere(
                    ws,
                    1013,
                    "this instance holds as many WebSocket connections as it may (WS_MAX_CONNECTIONS); try again",
                );
            };
            // a client over its own cap is refused outright: it should not come straight back
            let mut response = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "too many WebSocket connections from this address (WS_MAX_CONNECTIONS_PER_CLIENT)"
                    .into(),
                id,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
    };
    bounded(ws)
        // Room for the largest reply: a bigger one is refused before it reaches the socket.
        .max_write_buffer_size(MAX_REPLY_BYTES + (1 << 20))
        .on_upgrade(move |socket| async move {
            let _ticket = ticket;
            // the connection's language is none until connection_init names one
            let reader = std::cell::Cell::new(None);
            let connection = Connection::new(app, protocol).run(socket);
            crate::error::READER.scope(reader, connection).await;
        })
}

/// Upgrades only to close at once with `code`: the socket's whole life is one close frame.
fn go_elsewhere(ws: WebSocketUpgrade, code: u16, reason: &'static str) -> HttpResponse {
    bounded(ws).on_upgrade(move |mut socket| async move {
        let _ = socket.send(messages::close(code, reason)).await;
    })
}

/// Our protocols, and the socket's buffers and message sizes bounded.
fn bounded(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        // Written eagerly: no write buffer kept per idle socket.
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
}
