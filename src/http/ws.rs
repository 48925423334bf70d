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

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::WebSocketProtocols as Protocols;
use async_graphql::{Data, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response as HttpResponse;
use futures_util::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};

use tokio::sync::watch;

use super::shared::{self, Followed, Shared, Topic};
use super::{persisted, App};
use crate::domain::access::Caller;
use crate::error::json_error;
use crate::error::ErrorCode;
use crate::events::Event;
use crate::graphql::access::LiveCaller;
use crate::graphql::errors::{complete, is_request_error, refused};
use crate::graphql::limits::MAX_REPLY_BYTES;
use crate::graphql::loaders::loaders;
use crate::graphql::parsed::admit;
use crate::graphql::RequestId;
use crate::series::OperationKind;
use crate::service::limiter::client_key;
use crate::state::{CountGuard, LiveCounts};

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

/// Counts WebSocket connections, per instance and per client (`client_key`: an address, or an
/// IPv6 /64); the map only holds clients with a connection open.
pub struct WsGate {
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    max_total: usize,
    max_per_client: usize,
}

/// One connection counted; dropping it gives the place back.
pub struct WsTicket {
    gate: Arc<WsGate>,
    client: IpAddr,
}

impl Drop for WsTicket {
    fn drop(&mut self) {
        self.gate.total.fetch_sub(1, Ordering::Relaxed);
        let mut map = self.gate.per_client.lock().expect("ws gate lock");
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Why a connection was not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum GateFull {
    Instance,
    Client,
}

impl WsGate {
    pub fn new(max_total: usize, max_per_client: usize) -> Self {
        Self {
            total: AtomicUsize::new(0),
            per_client: Mutex::default(),
            max_total,
            max_per_client,
        }
    }

    pub fn enter(self: &Arc<Self>, client: IpAddr) -> Result<WsTicket, GateFull> {
        let mut map = self.per_client.lock().expect("ws gate lock");
        if self.total.load(Ordering::Relaxed) >= self.max_total {
            return Err(GateFull::Instance);
        }
        let n = map.entry(client).or_insert(0);
        if *n >= self.max_per_client {
            return Err(GateFull::Client);
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(WsTicket {
            gate: self.clone(),
            client,
        })
    }

    /// Connections open on this instance.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }
}

/// Browsers send `Origin`; other clients do not, and are let in. A browser page is let in from
/// the server's own origin or an allowed one.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return headers.get(header::ORIGIN).is_none();
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let own = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((own, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
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
    if !origin_allowed(headers, &app.config.allowed_origins) {
        return json_error(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "WebSocket connections from this origin are not allowed (CORS_ALLOWED_ORIGINS)".into(),
            id,
        );
    }
    if *app.stopping.borrow() {
        let mut response = json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "this instance is stopping; connect to another".into(),
            id,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    let ticket = match app.ws_gate.enter(client_key(peer.ip())) {
        Ok(t) => t,
        Err(full) => {
            let (status, code, message) = match full {
                GateFull::Instance => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ServiceUnavailable,
                    "this instance holds as many WebSocket connections as it may (WS_MAX_CONNECTIONS)",
                ),
                GateFull::Client => (
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::RateLimited,
                    "too many WebSocket connections from this address (WS_MAX_CONNECTIONS_PER_CLIENT)",
                ),
            };
            let mut response = json_error(status, code, message.into(), id);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
    };
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        // Written eagerly: no write buffer kept per idle socket.
        .write_buffer_size(0)
        // Room for the largest reply: a bigger one is refused before it reaches the socket.
        .max_write_buffer_size(MAX_REPLY_BYTES + (1 << 20))
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            let _ticket = ticket;
            Connection::new(app, protocol).run(socket).await;
        })
}

/// Messages a client may send, under either protocol (each accepts only its own names).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
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
enum ServerMessage<'a> {
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

fn text(message: &ServerMessage<'_>) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// One operation's next item, or its end.
type Item = (Arc<str>, Option<Out>);

/// An operation's next item.
enum Out {
    /// A response of its own, completed, and whether GraphQL refused it before execution.
    Own(Box<Response>, bool),
    /// A shared run's (`shared`): its JSON as it is, or when it holds errors, completed here.
    Shared(Arc<Shared>),
}

struct Connection {
    app: App,
    protocol: Protocols,
    connection_id: Arc<str>,
    /// Set once `connection_init` is acknowledged.
    session: Option<Arc<Data>>,
    /// The caller that live operations recheck on every event; replaced by a re-authenticating
    /// ping.
    live: Option<watch::Sender<Caller>>,
    /// When the token expires: the connection closes then (4403) unless a fresh one came.
    expires: Option<tokio::time::Instant>,
    init_seen: bool,
    operations: HashMap<Arc<str>, AbortHandle>,
    running: SelectAll<BoxStream<'static, Item>>,
}

/// What handling one client message leads to.
enum Step {
    Send(Vec<Message>),
    Close(u16, String),
    Stop,
}

impl Connection {
    fn new(app: App, protocol: Protocols) -> Self {
        Self {
            app,
            protocol,
            connection_id: uuid::Uuid::new_v4().to_string().into(),
            session: None,
            live: None,
            expires: None,
            init_seen: false,
            operations: HashMap::new(),
            running: SelectAll::new(),
        }
    }

    fn legacy(&self) -> bool {
        self.protocol == Protocols::SubscriptionsTransportWS
    }

    async fn run(mut self, socket: WebSocket) {
        let _counted = CountGuard::new(&self.app.services.state.counts, |c: &LiveCounts| {
            &c.websocket_connections
        });
        // Copied out: nothing of the configuration is kept per connection but these.
        let (ping_every, send_timeout) = (
            self.app.config.ws_ping_interval,
            self.app.config.ws_send_timeout,
        );
        let (mut sink, mut stream) = socket.split();
        let mut pings =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let mut heard = true;
        let init_deadline = tokio::time::sleep(self.app.config.ws_init_timeout);
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
    async fn handle(&mut self, bytes: &[u8]) -> Step {
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

    async fn init(&mut self, payload: Option<serde_json::Value>) -> Step {
        if self.init_seen {
            return Step::Close(4429, "Too many initialisation requests".into());
        }
        self.init_seen = true;
        let payload = payload.unwrap_or(serde_json::Value::Null);
        if !(payload.is_object() || payload.is_null()) {
            return Step::Close(
                4400,
                invalid("the connection_init payload must be an object"),
            );
        }
        // Refused at init: the connection may not keep this much.
        if payload.to_string().len() > MAX_INIT_PAYLOAD {
            return Step::Close(
                4403,
                format!("Forbidden: connection_init payload over {MAX_INIT_PAYLOAD} bytes"),
            );
        }
        // The caller, from Apollo's `connectionParams` convention: {"authorization": "Bearer …"}.
        let authorization = payload.get("authorization").and_then(|a| a.as_str());
        let caller =
            match self.app.services.auth.caller(authorization).await {
                Ok(Caller::Anonymous) => return Step::Close(
                    4403,
                    "Forbidden: send {\"authorization\": \"Bearer <token>\"} in connection_init"
                        .into(),
                ),
                Ok(caller) => caller,
                Err(e) => return Step::Close(4403, format!("Forbidden: {e}")),
            };
        let (tx, _) = watch::channel(caller.clone());
        self.live = Some(tx);
        self.set_caller(caller);
        Step::Send(vec![text(&ServerMessage::ConnectionAck)])
    }

    /// A fresh token in a ping: the caller is replaced for new operations and for the live ones
    /// (which recheck it on their next event); a bad one closes the connection.
    async fn reauthenticate(&mut self, authorization: Option<&str>) -> Step {
        match self.app.services.auth.caller(authorization).await {
            Ok(Caller::Anonymous) => Step::Close(
                4403,
                "Forbidden: the ping's authorization holds no token".into(),
            ),
            Ok(caller) => {
                self.set_caller(caller);
                Step::Send(vec![text(&ServerMessage::Pong)])
            }
            Err(e) => Step::Close(4403, format!("Forbidden: {e}")),
        }
    }

    /// Whether a revocation is of this connection's session.
    fn revoked(&self, event: &Event) -> bool {
        let (Some(live), Event::SessionsRevoked { sub, before }) = (&self.live, event) else {
            return false;
        };
        matches!(&*live.borrow(), Caller::Token(c) if c.sub == *sub && c.iat.unwrap_or(i64::MIN) < *before)
    }

    /// The session of operations started from now on, and its expiry.
    fn set_caller(&mut self, caller: Caller) {
        let Some(live) = &self.live else { return };
        live.send_replace(caller.clone());
        self.expires = match &caller {
            Caller::Token(claims) => {
                let left = claims.exp - chrono::Utc::now().timestamp();
                Some(tokio::time::Instant::now() + Duration::from_secs(left.max(0) as u64))
            }
            _ => None,
        };
        let mut data = Data::default();
        data.insert(caller);
        data.insert(LiveCaller(live.subscribe()));
        self.session = Some(Arc::new(data));
    }

    /// Ends an operation at the client's request, with nothing more sent for it.
    fn stop(&mut self, id: &str) -> bool {
        match self.operations.remove(id) {
            Some(handle) => {
                handle.abort();
                true
            }
            None => false,
        }
    }

    /// Puts the persisted document a subscribe message names in place (APQ, trusted documents),
    /// then starts it.
    async fn begin(&mut self, id: String, mut request: Request) -> Step {
        if self.session.is_some() {
            let store = &self.app.persisted;
            if let Err(e) = persisted::apply(store, &mut request).await {
                let refusal = persisted::refusal(&e, &self.connection_id);
                return Step::Send(self.refusal(&id, refusal));
            }
        }
        self.start(id, request)
    }

    fn start(&mut self, id: String, request: Request) -> Step {
        let Some(session) = self.session.clone() else {
            return Step::Close(4401, "Unauthorized".into());
        };
        if id.is_empty() || id.len() > MAX_ID {
            return Step::Close(
                4400,
                invalid(&format!("an operation id has 1 to {MAX_ID} characters")),
            );
        }
        if self.operations.contains_key(id.as_str()) {
            return Step::Close(
                4409,
                format!("Subscriber for {} already exists", short(&id)),
            );
        }
        let max = self.app.config.ws_max_operations;
        if self.operations.len() >= max {
            let mut response = refused(
                format!("at most {max} operations per connection"),
                &self.connection_id,
            );
            set_code(&mut response, ErrorCode::RateLimited);
            return Step::Send(self.refusal(&id, response));
        }
        let mut request = request;
        if let Err(refusal) = admit(&mut request) {
            let response = refused(refusal.0, &self.connection_id);
            return Step::Send(self.refusal(&id, response));
        }
        // Shared when it may be, with a caller who may read what it follows; any other caller
        // runs it alone and gets the answer it always got.
        if let (Some(topic), Some(live)) = (shared::shareable(&mut request), &self.live) {
            if live.borrow().read(topic.field.analysis).is_ok() {
                let caller = live.subscribe();
                return self.join(id, request, topic, caller);
            }
        }
        let mut request = request
            .data(RequestId(self.connection_id.to_string()))
            .data(loaders(self.app.services.dashboards.clone()));
        let id: Arc<str> = id.into();
        let connection_id = self.connection_id.clone();
        let tag = id.clone();
        let end = id.clone();
        // counted once, at its first answer; a subscription's duration is its life, not timed
        let (series, kind) = super::graphql::operation_of(&mut request);
        let span = super::graphql::operation_span(&series, kind, &self.connection_id);
        let mut operation = Some((series, kind));
        let started = std::time::Instant::now();
        let mut execution = self
            .app
            .schema
            .execute_stream_with_session_data(request, session);
        // the operation's span is current while it runs (a subscription's: its whole life)
        let stream = futures_util::stream::poll_fn(move |cx| {
            let _running = span.enter();
            execution.poll_next_unpin(cx)
        })
        .map(move |mut response| {
            if let Some((series, kind)) = operation.take() {
                let took = (kind != OperationKind::Subscription).then(|| started.elapsed());
                series.record(kind, super::graphql::first_code(&response), took);
            }
            let request_error = is_request_error(&response);
            complete(&mut response, &connection_id);
            (
                tag.clone(),
                Some(Out::Own(Box::new(response), request_error)),
            )
        })
        .chain(futures_util::stream::once(async move { (end, None) }));
        self.follow(id, stream.boxed());
        Step::Send(Vec::new())
    }

    fn follow(&mut self, id: Arc<str>, stream: BoxStream<'static, Item>) {
        let (handle, registration) = AbortHandle::new_pair();
        self.operations.insert(id, handle);
        self.running
            .push(Abortable::new(stream, registration).boxed());
    }

    /// Makes this operation a member of the shared run of its request (started if there is
    /// none); on each of the run's items, the caller is checked again, as an unshared run does.
    fn join(
        &mut self,
        id: String,
        mut request: Request,
        topic: Topic,
        caller: watch::Receiver<Caller>,
    ) -> Step {
        let (key, field) = topic.into_parts();
        let (series, kind) = super::graphql::operation_of(&mut request);
        let span = super::graphql::operation_span(&series, kind, &self.connection_id);
        let app = self.app.clone();
        let run_span = super::graphql::operation_span(&series, kind, "shared");
        let (rx, membership) = self.app.shared.join(key, move |audience| {
            let mut session = Data::default();
            session.insert(Caller::Open);
            let request = request
                .data(RequestId("shared".into()))
                .data(loaders(app.services.dashboards.clone()))
                .data(audience);
            let mut run = app
                .schema
                .execute_stream_with_session_data(request, Arc::new(session));
            // the run has a span of its own, the parent of what it does (its reads)
            futures_util::stream::poll_fn(move |cx| {
                let _running = run_span.enter();
                run.poll_next_unpin(cx)
            })
            .boxed()
        });
        let id: Arc<str> = id.into();
        let member = Member {
            id: id.clone(),
            rx,
            _membership: membership,
            caller,
            field,
            operation: Some((series, kind)),
            _span: span,
            connection_id: self.connection_id.clone(),
            ended: false,
            finished: false,
        };
        self.follow(
            id,
            futures_util::stream::unfold(member, Member::next).boxed(),
        );
        Step::Send(Vec::new())
    }

    /// An operation refused before it ran: `error` (graphql-transport-ws), or its data and
    /// completion (graphql-ws).
    fn refusal(&self, id: &str, response: Response) -> Vec<Message> {
        if self.legacy() {
            vec![
                text(&ServerMessage::Data {
                    id,
                    payload: &response,
                }),
                text(&ServerMessage::Complete { id }),
            ]
        } else {
            vec![text(&ServerMessage::Error {
                id,
                payload: &response.errors,
            })]
        }
    }

    /// The message for an operation's next item (replaced by an error when too large), or its
    /// completion.
    fn reply(&mut self, id: &str, item: Option<Out>) -> Vec<Message> {
        let (response, request_error) = match item {
            None => {
                self.operations.remove(id);
                return vec![text(&ServerMessage::Complete { id })];
            }
            Some(Out::Own(response, request_error)) => (*response, request_error),
            Some(Out::Shared(shared)) => match &*shared {
                Shared::Next {
                    json: Some(json), ..
                } => return vec![self.sized(id, self.next_json(id, json))],
                Shared::Next {
                    response,
                    request_error,
                    ..
                } => {
                    let mut response = copy(response);
                    complete(&mut response, &self.connection_id);
                    (response, *request_error)
                }
                // a member ends with `None`
                Shared::End => return Vec::new(),
            },
        };
        // Refused by GraphQL (validation, variables): graphql-transport-ws says `error`, which
        // ends the operation; nothing follows it.
        if request_error && !self.legacy() {
            self.stop(id);
            return self.refusal(id, response);
        }
        let message = self.next(id, &response);
        vec![self.sized(id, message)]
    }

    /// The message, or an error for it when it is over the size limit.
    fn sized(&self, id: &str, message: String) -> Message {
        if message.len() <= MAX_REPLY_BYTES {
            return Message::Text(message.into());
        }
        let too_large = refused(
            format!(
                "the reply would be {} bytes; the limit is {MAX_REPLY_BYTES} (MAX_REPLY_BYTES): ask for fewer fields",
                message.len()
            ),
            &self.connection_id,
        );
        Message::Text(self.next(id, &too_large).into())
    }

    /// `next` (or `data`) around a response already in JSON, as `next` would write it.
    fn next_json(&self, id: &str, json: &str) -> String {
        let kind = if self.legacy() { "data" } else { "next" };
        let id = serde_json::to_string(id).unwrap_or_default();
        format!(r#"{{"type":"{kind}","id":{id},"payload":{json}}}"#)
    }

    fn next(&self, id: &str, payload: &Response) -> String {
        let message = if self.legacy() {
            ServerMessage::Data { id, payload }
        } else {
            ServerMessage::Next { id, payload }
        };
        serde_json::to_string(&message).unwrap_or_default()
    }
}

/// A member of a shared run, as one of its connection's operations.
struct Member {
    id: Arc<str>,
    rx: tokio::sync::broadcast::Receiver<Arc<Shared>>,
    _membership: shared::Membership,
    /// The connection's caller, as a ping may replace it.
    caller: watch::Receiver<Caller>,
    field: Followed,
    /// Counted at its first answer, as an unshared operation is.
    operation: Option<(Arc<crate::series::Operation>, OperationKind)>,
    /// Its operation's span, for its whole life, as an unshared subscription has.
    _span: tracing::Span,
    connection_id: Arc<str>,
    /// Its own error went out: the completion follows.
    ended: bool,
    finished: bool,
}

impl Member {
    /// The next item: the run's, or this member's own error (it may no longer read the analysis,
    /// or it fell behind), after which it ends.
    async fn next(mut self) -> Option<(Item, Self)> {
        if self.finished {
            return None;
        }
        if self.ended {
            self.finished = true;
            return Some(((self.id.clone(), None), self));
        }
        let out = match self.rx.recv().await {
            Ok(shared) => match &*shared {
                Shared::End => None,
                Shared::Next { response, .. } => match self.denied() {
                    Some(error) => Some(self.own(error)),
                    None => {
                        self.count(|| super::graphql::first_code(response));
                        Some(Out::Shared(shared))
                    }
                },
            },
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                crate::series::event_lagged();
                Some(self.own(crate::error::AppError::SubscriberLagged(n)))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        };
        match out {
            Some(Out::Shared(_)) => {}
            Some(Out::Own(..)) => self.ended = true,
            None => self.finished = true,
        }
        Some(((self.id.clone(), out), self))
    }

    fn denied(&self) -> Option<crate::error::AppError> {
        let analysis = self.field.analysis;
        let denied = self.caller.borrow().read(analysis).err()?;
        Some(crate::error::AppError::denied(denied, Some(analysis)))
    }

    fn own(&mut self, error: crate::error::AppError) -> Out {
        let mut response = shared::field_error(&self.field, error);
        complete(&mut response, &self.connection_id);
        self.count(|| super::graphql::first_code(&response));
        Out::Own(Box::new(response), false)
    }

    fn count(&mut self, code: impl FnOnce() -> Option<ErrorCode>) {
        if let Some((series, kind)) = self.operation.take() {
            series.record(kind, code(), None);
        }
    }
}

/// A response's content (a shared one is completed per member).
fn copy(response: &Response) -> Response {
    let mut copy = Response::new(response.data.clone());
    copy.extensions = response.extensions.clone();
    copy.errors = response.errors.clone();
    copy
}

fn set_code(response: &mut Response, code: ErrorCode) {
    for e in &mut response.errors {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
}

fn invalid(detail: &str) -> String {
    format!("Invalid message: {}", short(detail))
}

/// Close reasons are at most 123 bytes.
fn short(s: &str) -> &str {
    let mut end = s.len().min(80);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Sends `messages`, each within `send_timeout`; false when the connection is done (a close
/// went out, the socket failed, or the reader is too slow and is dropped).
async fn deliver(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_counts_per_instance_and_per_client() {
        let gate = Arc::new(WsGate::new(3, 2));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let t1 = gate.enter(a).unwrap();
        let _t2 = gate.enter(a).unwrap();
        assert_eq!(gate.enter(a).err(), Some(GateFull::Client));
        let _t3 = gate.enter(b).unwrap();
        assert_eq!(gate.enter(b).err(), Some(GateFull::Instance));
        drop(t1);
        assert_eq!(gate.open(), 2);
        gate.enter(b).unwrap();
        assert!(gate.per_client.lock().unwrap().len() <= 2);
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "api.example.com".parse().unwrap());
        assert!(origin_allowed(&h, &[]), "no Origin: not a browser");
        h.insert(header::ORIGIN, "https://api.example.com".parse().unwrap());
        assert!(origin_allowed(&h, &[]), "same origin");
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!origin_allowed(&h, &[]));
        assert!(origin_allowed(&h, &["https://evil.example".into()]));
        assert!(origin_allowed(&h, &["*".into()]));
    }
}
