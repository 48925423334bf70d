//! Operations on a connection: begun (persisted documents), started (limits, access, shared or
//! not), answered within the reply bound, ended.

use std::sync::Arc;

use async_graphql::{Request, Response};
use axum::extract::ws::Message;
use futures_util::stream::{AbortHandle, Abortable, BoxStream};
use futures_util::StreamExt;

use super::connection::{Connection, Item, Out, Step};
use super::members::{copy, set_code};
use super::messages::{invalid, short, text, ServerMessage};
use super::MAX_ID;
use crate::error::ErrorCode;
use crate::graphql::errors::{complete, request_error_response};
use crate::graphql::pipeline::{bounded, Incoming, Refused, Transport};
use crate::http::shared::RunItem;

impl Connection {
    /// Ends an operation at the client's request, with nothing more sent for it.
    pub(super) fn stop(&mut self, id: &str) -> bool {
        match self.operations.remove(id) {
            Some(handle) => {
                handle.abort();
                true
            }
            None => false,
        }
    }

    /// An operation the client begins: the connection's own checks (acknowledged, a fresh id,
    /// the operation limit), then the pipeline's (`graphql::pipeline`: persisted documents,
    /// limits), then a shared run when it may be one, or its own.
    pub(super) async fn begin(&mut self, id: String, request: Request) -> Step {
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
        let max = self.app.config.limits.ws_max_operations;
        if self.operations.len() >= max {
            let mut response = request_error_response(
                format!("at most {max} operations per connection"),
                &self.connection_id,
            );
            set_code(&mut response, ErrorCode::RateLimited);
            return Step::Send(self.error_messages(&id, response));
        }
        let incoming = Incoming {
            request,
            request_id: self.connection_id.to_string(),
            transport: Transport::WebSocket,
            key: None,
        };
        let mut admitted = match self.app.pipeline.admit(incoming).await {
            Ok(admitted) => admitted,
            Err(Refused::Response(response, _)) => {
                return Step::Send(self.error_messages(&id, *response))
            }
            // a GET rule: never met here
            Err(Refused::MutationOverGet) => return Step::Send(Vec::new()),
        };
        // Shared when it may be, with a caller who may read what it follows; any other caller
        // runs it alone and gets the answer it always got.
        if let (Some(topic), Some(live)) = (self.app.pipeline.topic(&mut admitted), &self.live) {
            if live.borrow().read(topic.field.analysis).is_ok() {
                let caller = live.subscribe();
                return self.join(id, admitted.into_request(), topic, caller);
            }
        }
        let id: Arc<str> = id.into();
        let tag = id.clone();
        let end = id.clone();
        let stream = self
            .app
            .pipeline
            .execute_stream(admitted, session)
            .map(move |(response, request_error)| {
                (
                    tag.clone(),
                    Some(Out::Own(Box::new(response), request_error)),
                )
            })
            .chain(futures_util::stream::once(async move { (end, None) }));
        self.follow(id, stream.boxed());
        Step::Send(Vec::new())
    }

    pub(super) fn follow(&mut self, id: Arc<str>, stream: BoxStream<'static, Item>) {
        let (handle, registration) = AbortHandle::new_pair();
        self.operations.insert(id, handle);
        self.running
            .push(Abortable::new(stream, registration).boxed());
    }

    /// An operation refused before it ran: `error` (graphql-transport-ws), or its data and
    /// completion (graphql-ws).
    pub(super) fn error_messages(&self, id: &str, response: Response) -> Vec<Message> {
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
    pub(super) fn reply(&mut self, id: &str, item: Option<Out>) -> Vec<Message> {
        let (response, request_error) = match item {
            None => {
                self.operations.remove(id);
                return vec![text(&ServerMessage::Complete { id })];
            }
            Some(Out::Own(response, request_error)) => (*response, request_error),
            Some(Out::Shared(shared)) => match &*shared {
                RunItem::Next {
                    json: Some(json), ..
                } => return vec![self.sized(id, self.next_json(id, json))],
                RunItem::Next {
                    response,
                    request_error,
                    ..
                } => {
                    let mut response = copy(response);
                    complete(&mut response, &self.connection_id);
                    (response, *request_error)
                }
                // a member ends with `None`
                RunItem::End => return Vec::new(),
            },
        };
        // Refused by GraphQL (validation, variables): graphql-transport-ws says `error`, which
        // ends the operation; nothing follows it.
        if request_error && !self.legacy() {
            self.stop(id);
            return self.error_messages(id, response);
        }
        let message = self.next(id, &response);
        vec![self.sized(id, message)]
    }

    /// The message, or an error for it when it is over the size limit.
    pub(super) fn sized(&self, id: &str, message: String) -> Message {
        let (message, _) = bounded(message, String::len, &self.connection_id, |error| {
            self.next(id, error)
        });
        Message::Text(message.into())
    }

    /// `next` (or `data`) around a response already in JSON, as `next` would write it.
    pub(super) fn next_json(&self, id: &str, json: &str) -> String {
        let kind = if self.legacy() { "data" } else { "next" };
        let id = serde_json::to_string(id).unwrap_or_default();
        format!(r#"{{"type":"{kind}","id":{id},"payload":{json}}}"#)
    }

    pub(super) fn next(&self, id: &str, payload: &Response) -> String {
        let message = if self.legacy() {
            ServerMessage::Data { id, payload }
        } else {
            ServerMessage::Next { id, payload }
        };
        serde_json::to_string(&message).unwrap_or_default()
    }
}
