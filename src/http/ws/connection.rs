//! One connection's loop: messages in, operations' items out, pings, the token's expiry.

use crate::graphql::language::RequestLanguage;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::WebSocketProtocols as Protocols;
use async_graphql::{Data, Response};
use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{AbortHandle, BoxStream, SelectAll};
use futures_util::{SinkExt, StreamExt};

use tokio::sync::watch;

use super::messages::{close, invalid, text, ClientMessage, ServerMessage};
use super::MAX_MESSAGE;
use crate::domain::access::Caller;
use crate::http::shared::RunItem;
use crate::http::App;
use crate::state::{CountGuard, LiveCounts};

/// One operation's next item, or its end.
pub(super) type Item = (Arc<str>, Option<Out>);

/// An operation's next item.
pub(super) enum Out {
    /// A response of its own, completed, and whether GraphQL refused it before execution.
    Own(Box<Response>, bool),
    /// A shared run's (`shared`): its JSON as it is, or when it holds errors, completed here.
    Shared(Arc<RunItem>),
}

pub(super) struct Connection {
    pub(super) app: App,
    pub(super) protocol: Protocols,
    pub(super) connection_id: Arc<str>,
    /// Set once `connection_init` is acknowledged.
    pub(super) session: Option<Arc<Data>>,
    /// The caller that live operations recheck on every event; replaced by a re-authenticating
    /// ping.
    pub(super) live: Option<watch::Sender<Caller>>,
    /// When the token expires: the connection closes then (4403) unless a fresh one came.
    pub(super) expires: Option<tokio::time::Instant>,
    pub(super) init_seen: bool,
    /// The language `connection_init` asked for (`{"language": "en"}`), for every operation.
    pub(super) language: RequestLanguage,
    pub(super) operations: HashMap<Arc<str>, AbortHandle>,
    pub(super) running: SelectAll<BoxStream<'static, Item>>,
}

/// What handling one client message leads to.
pub(super) enum Step {
    Send(Vec<Message>),
    Close(u16, String),
    Stop,
}

impl Connection {
    pub(super) fn new(app: App, protocol: Protocols) -> Self {
        Self {
            app,
            protocol,
            connection_id: uuid::Uuid::new_v4().to_string().into(),
            session: None,
            live: None,
            expires: None,
            init_seen: false,
            language: RequestLanguage::default(),
            operations: HashMap::new(),
            running: SelectAll::new(),
        }
    }

    pub(super) fn legacy(&self) -> bool {
        self.protocol == Protocols::SubscriptionsTransportWS
    }

    pub(super) async fn run(mut self, socket: WebSocket) {
        let _counted = CountGuard::new(&self.app.services.state.counts, |c: &LiveCounts| {
            &c.websocket_connections
        });
        // Copied out: nothing of the configuration is kept per connection but these.
        let (ping_every, send_timeout) = (
            self.app.config.live.ws_ping_interval,
            self.app.config.live.ws_send_timeout,
        );
        let (mut sink, mut stream) = socket.split();
        let mut pings =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let mut heard = true;
        let init_deadline = tokio::time::sleep(self.app.config.live.ws_init_timeout);
        tokio::pin!(init_deadline);
        let expiry = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(expiry);
        let mut armed = None;
        let mut revocations = self.app.services.state.hub.revocations();
        let mut stopping = self.app.stopping.subscribe();
        loop {
            if armed != self.expires {
                armed = self.expires;
                if let Some(at) = armed {
                    expiry.as_mut().reset(at);
                }
            }
            let out = tokio::select! {
                frame = stream.next() => {
                    heard = true;
                    match frame {
                        Some(Ok(Message::Text(t))) => Box::pin(self.handle(t.as_bytes())).await,
                        Some(Ok(Message::Binary(b))) => Box::pin(self.handle(&b)).await,
                        // Pings are answered by the socket itself.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        // Over the size limits (tungstenite says "Space limit exceeded").
                        Some(Err(e)) if e.to_string().contains("limit") => {
                            Step::Close(1009, format!("messages are limited to {MAX_MESSAGE} bytes"))
                        }
                        Some(Ok(Message::Close(_)) | Err(_)) | None => Step::Stop,
                    }
                }
                Some((id, item)) = self.running.next(), if !self.running.is_empty() => {
                    Step::Send(self.reply(&id, item))
                }
                _ = pings.tick() => {
                    if !heard {
                        Step::Close(1001, "no answer to pings".into())
                    } else {
                        heard = false;
                        let keepalive = if self.legacy() { ServerMessage::Ka } else { ServerMessage::Ping };
                        Step::Send(vec![Message::Ping(Default::default()), text(&keepalive)])
                    }
                }
                () = &mut init_deadline, if self.session.is_none() => {
                    Step::Close(4408, "Connection initialisation timeout".into())
                }
                Ok(event) = revocations.recv() => match self.revoked(&event) {
                    true => Step::Close(4403, "Forbidden: the session was revoked".into()),
                    false => continue,
                },
                Ok(()) = stopping.changed() => {
                    Step::Close(1001, "the server is restarting; reconnect".into())
                }
                () = &mut expiry, if armed.is_some() => {
                    Step::Close(4403, "Forbidden: the token expired; send a fresh one in a ping before it does".into())
                }
            };
            let messages = match out {
                Step::Send(m) => m,
                Step::Close(code, reason) => vec![close(code, &reason)],
                Step::Stop => break,
            };
            if !deliver(&mut sink, messages, send_timeout, &self.connection_id).await {
                break;
            }
        }
        tracing::debug!(connection = %self.connection_id, "websocket closed");
    }

    /// Called boxed: handling a message may verify a token (a key fetch), a future far larger
    /// than the idle loop, which every connection would otherwise carry for its whole life.
    pub(super) async fn handle(&mut self, bytes: &[u8]) -> Step {
        let message: ClientMessage = match serde_json::from_slice(bytes) {
            Ok(m) => m,
            Err(e) => return Step::Close(4400, invalid(&e.to_string())),
        };
        let legacy = self.legacy();
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload).await,
            ClientMessage::Subscribe { id, payload } if !legacy => self.begin(id, payload).await,
            ClientMessage::Start { id, payload } if legacy => self.begin(id, payload).await,
            ClientMessage::Complete { id } if !legacy => {
                self.stop(&id);
                Step::Send(Vec::new())
            }
            ClientMessage::Stop { id } if legacy => {
                let known = self.stop(&id);
                Step::Send(if known {
                    vec![text(&ServerMessage::Complete { id: &id })]
                } else {
                    Vec::new()
                })
            }
            ClientMessage::Ping { payload } if !legacy => {
                match payload.as_ref().and_then(|p| p.get("authorization")) {
                    Some(authorization) if self.session.is_some() => {
                        self.reauthenticate(authorization.as_str()).await
                    }
                    _ => Step::Send(vec![text(&ServerMessage::Pong)]),
                }
            }
            ClientMessage::Pong {} if !legacy => Step::Send(Vec::new()),
            ClientMessage::ConnectionTerminate if legacy => Step::Close(1000, "terminated".into()),
            _ => Step::Close(
                4400,
                invalid("that message type is not part of this subprotocol"),
            ),
        }
    }
}

/// Sends `messages`, each within `send_timeout`; false when the connection is done (a close
/// went out, the socket failed, or the reader is too slow and is dropped).
pub(super) async fn deliver(
    sink: &mut (impl futures_util::Sink<Message> + Unpin),
    messages: Vec<Message>,
    send_timeout: Duration,
    connection_id: &str,
) -> bool {
    for m in messages {
        let closing = matches!(m, Message::Close(_));
        match tokio::time::timeout(send_timeout, sink.send(m)).await {
            Ok(Ok(())) if closing => return false,
            Ok(Ok(())) => {}
            Ok(Err(_)) => return false,
            Err(_) => {
                tracing::debug!(connection = %connection_id, "websocket reader too slow; dropped");
                return false;
            }
        }
    }
    true
}
