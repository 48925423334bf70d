//! The protocols' messages, both ways, and close reasons.

use async_graphql::{Request, Response};
use axum::extract::ws::{CloseFrame, Message};
use serde::{Deserialize, Serialize};

/// Messages a client may send, under either protocol (each accepts only its own names).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ClientMessage {
    ConnectionInit {
        payload: Option<serde_json::Value>,
    },
    Subscribe {
        id: String,
        payload: Request,
    },
    Complete {
        id: String,
    },
    Ping {
        /// `{"authorization": "Bearer …"}` replaces the connection's token in place.
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Pong {},
    // graphql-ws (legacy) names.
    Start {
        id: String,
        payload: Request,
    },
    Stop {
        id: String,
    },
    ConnectionTerminate,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ServerMessage<'a> {
    ConnectionAck,
    Next {
        id: &'a str,
        payload: &'a Response,
    },
    Data {
        id: &'a str,
        payload: &'a Response,
    },
    Error {
        id: &'a str,
        payload: &'a [async_graphql::ServerError],
    },
    Complete {
        id: &'a str,
    },
    Ping,
    Pong,
    Ka,
}

pub(super) fn text(message: &ServerMessage<'_>) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

pub(super) fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

pub(super) fn invalid(detail: &str) -> String {
    format!("Invalid message: {}", short(detail))
}

/// Close reasons are at most 123 bytes.
pub(super) fn short(s: &str) -> &str {
    let mut end = s.len().min(80);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
