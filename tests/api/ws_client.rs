//! A small GraphQL-over-WebSocket client for the tests (both subprotocols).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY_WS: &str = "graphql-ws";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    socket: Socket,
    protocol: &'static str,
    /// Messages for other operations, kept until asked for.
    pending: HashMap<String, VecDeque<Received>>,
}

/// A message that ends the wait: a payload for an operation, an error, or the socket closing.
#[derive(Debug)]
pub enum Received {
    Data(Value),
    Error(Value),
    Complete,
    Closed(Option<u16>),
}

/// How a test opens a socket: its source address and extra headers.
#[derive(Default)]
pub struct Dial<'a> {
    pub from: Option<&'a str>,
    pub headers: &'a [(&'a str, &'a str)],
}

impl WsClient {
    pub async fn connect(base: &str, protocol: &'static str) -> Self {
        Self::dial(base, protocol, Dial::default())
            .await
            .expect("websocket connects")
    }

    /// Connects as `dial` says; the HTTP status when the upgrade is refused.
    pub async fn dial(base: &str, protocol: &'static str, dial: Dial<'_>) -> Result<Self, u16> {
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        for (name, value) in dial.headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let server: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        let from = dial.from.unwrap_or("127.0.0.1");
        tcp.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let stream = tcp.connect(server).await.unwrap();
        let (socket, response) = match tokio_tungstenite::client_async(
            request,
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
        )
        .await
        {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => return Err(r.status().as_u16()),
            Err(e) => panic!("websocket: {e}"),
        };
        assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
        Ok(Self {
            socket,
            protocol,
            pending: HashMap::new(),
        })
    }

    /// Sends a text frame as it is (for messages that are not JSON).
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    /// The close code the server ends with, reading (and dropping) whatever comes before.
    pub async fn closed_with(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let m = self
                .raw(remaining)
                .await
                .expect("the server closes in time");
            if m["type"] == "__closed" {
                return m["code"].as_u64().map(|c| c as u16);
            }
        }
    }

    /// Waits without reading: pings go unanswered meanwhile.
    pub async fn deaf_for(&mut self, pause: Duration) {
        tokio::time::sleep(pause).await;
    }

    /// Connects and completes the handshake.
    pub async fn ready(base: &str, protocol: &'static str) -> Self {
        let mut c = Self::connect(base, protocol).await;
        c.send(json!({"type": "connection_init", "payload": {"client": "tests"}}))
            .await;
        loop {
            let m = c.raw(Duration::from_secs(5)).await.expect("connection_ack");
            match m["type"].as_str() {
                Some("connection_ack") => return c,
                Some("ka" | "ping" | "pong") => continue,
                other => panic!("expected connection_ack, got {other:?}: {m}"),
            }
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.socket
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.protocol == TRANSPORT_WS {
            "subscribe"
        } else {
            "start"
        };
        self.send(
            json!({"id": id, "type": kind, "payload": {"query": query, "variables": variables}}),
        )
        .await;
    }

    pub async fn unsubscribe(&mut self, id: &str) {
        let kind = if self.protocol == TRANSPORT_WS {
            "complete"
        } else {
            "stop"
        };
        self.send(json!({"id": id, "type": kind})).await;
    }

    /// The next JSON message, answering pings; `None` on timeout.
    pub async fn raw(&mut self, timeout: Duration) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(timeout, self.socket.next())
                .await
                .ok()?;
            match m {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "ping" {
                        // The server may have closed already.
                        let pong = Message::Text(json!({"type": "pong"}).to_string().into());
                        let _ = self.socket.send(pong).await;
                    }
                    return Some(v);
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(
                        json!({"type": "__closed", "code": frame.map(|f| u16::from(f.code))}),
                    )
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(json!({"type": "__closed", "code": null})),
            }
        }
    }

    /// The next event for operation `id` (keep-alives skipped, other operations' messages kept for
    /// later); `None` when nothing came for it within `timeout`.
    pub async fn next(&mut self, id: &str, timeout: Duration) -> Option<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.pending.get_mut(id).and_then(VecDeque::pop_front) {
                return Some(r);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return None;
            }
            let m = self.raw(remaining).await?;
            let received = match m["type"].as_str().unwrap_or_default() {
                "ka" | "ping" | "pong" => continue,
                "__closed" => return Some(Received::Closed(m["code"].as_u64().map(|c| c as u16))),
                "next" | "data" => {
                    let payload = m["payload"].clone();
                    match payload.get("errors") {
                        Some(e) if !e.is_null() => Received::Error(e[0].clone()),
                        _ => Received::Data(payload["data"].clone()),
                    }
                }
                "error" => Received::Error(m["payload"][0].clone()),
                "complete" => Received::Complete,
                other => panic!("unexpected message {other}: {m}"),
            };
            let for_id = m["id"].as_str().unwrap_or_default();
            if for_id == id {
                return Some(received);
            }
            self.pending
                .entry(for_id.to_owned())
                .or_default()
                .push_back(received);
        }
    }

    /// The data of the next event for `id`, which must come within five seconds.
    pub async fn data(&mut self, id: &str) -> Value {
        match self.next(id, Duration::from_secs(5)).await {
            Some(Received::Data(d)) => d,
            other => panic!("expected data for {id}, got {other:?}"),
        }
    }

    /// Nothing for `id` during `quiet`.
    pub async fn silent(&mut self, id: &str, quiet: Duration) {
        if let Some(m) = self.next(id, quiet).await {
            panic!("expected silence on {id}, got {m:?}");
        }
    }
}
