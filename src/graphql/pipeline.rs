//! One path for every GraphQL request, whatever carried it (POST, GET, a WebSocket `subscribe`):
//! the response cache's check (for the exact bytes and caller), persisted documents put in place,
//! the document's limits and parse (through the document cache over HTTP), GET's read-only rule,
//! execution under the operation's span with its metrics, every error coded, and the reply bound
//! (and the answer kept in the response cache when it may be). A transport reads its framing
//! into an [`Incoming`] and writes out what comes back; a new limit, metric or error rule goes
//! here, once.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::{Data, Request, Response};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde::Serialize;
use tracing::Instrument;

use super::errors::{complete, is_request_error, request_error_response};
use super::limits::MAX_REPLY_BYTES;
use super::loaders::recording_loaders;
use super::observe::{first_code, operation_of, operation_span};
use super::parsed::{admit, DocumentCache, Prepared};
use super::persisted;
use super::reads::ReadRecorder;
use super::response_cache::{ResponseCache, ResponseKey};
use super::topic::{self, Topic};
pub use super::transport::Transport;
use super::{AppSchema, RequestId};
use crate::clock::SharedClock;
use crate::domain::access::Caller;
use crate::domain::persisted::PersistedError;
use crate::series::{Operation, OperationKind};
use crate::service::dashboards::Dashboards;
use crate::service::persisted::PersistedDocuments;

/// One GraphQL request as its transport read it.
pub struct Incoming {
    pub request: Request,
    pub request_id: String,
    pub transport: Transport,
    /// The request's key in the response cache (its exact bytes and caller), when its answer
    /// may be kept.
    pub key: Option<ResponseKey>,
}

/// Why a request did not run.
pub enum Refused {
    /// A response in the contract's shape, and whether it is a request error (Apollo's
    /// `PersistedQueryNotFound` is not: its clients answer it by sending the document).
    Response(Box<Response>, bool),
    /// A mutation over GET (405).
    MutationOverGet,
}

/// A request ready to execute: its document parsed and within the limits.
pub struct Admitted {
    request: Request,
    prepared: Option<Prepared>,
    request_id: String,
    kept: Option<(ResponseKey, ReadRecorder)>,
    pub operation: Arc<Operation>,
    pub kind: OperationKind,
}

impl Admitted {
    /// The request, to run elsewhere (a shared run).
    pub fn into_request(self) -> Request {
        self.request
    }
}

/// An executed request: its response (errors coded) and whether GraphQL refused it.
pub struct Executed {
    pub response: Response,
    pub request_error: bool,
    pub operation: Arc<Operation>,
    pub kind: OperationKind,
    request_id: String,
    kept: Option<(ResponseKey, ReadRecorder)>,
}

/// A reply's JSON, within the bound: a request error has no `data` entry.
pub struct Reply {
    pub body: Bytes,
    pub request_error: bool,
    pub headers: http::HeaderMap,
}

/// A response refused before execution: errors, and no `data` entry.
#[derive(Serialize)]
struct RequestError<'a> {
    errors: &'a [async_graphql::ServerError],
}

/// The steps every transport's requests pass through, and what they use.
pub struct Pipeline {
    pub schema: AppSchema,
    /// The same schema for requests known to be valid (it skips the validation they passed).
    pub prevalidated: AppSchema,
    /// Parsed documents and the requests known to be valid, for HTTP.
    pub documents: DocumentCache,
    /// Persisted documents: trusted ones, or those clients registered (APQ).
    pub persisted: Arc<PersistedDocuments>,
    pub dashboards: Arc<Dashboards>,
    /// Whole answers served again while what they read is unchanged.
    pub response_cache: ResponseCache,
    pub clock: SharedClock,
}

impl Pipeline {
    /// A request's key in the response cache: its exact bytes, how it came, the caller's kind
    /// and the language it asks for (sentences are written in it); `None` when the cache is off.
    pub fn response_key(
        &self,
        transport: Transport,
        caller: &Caller,
        lang: Option<crate::domain::reports::Lang>,
        raw: &[u8],
    ) -> Option<ResponseKey> {
        self.response_cache.key(transport, caller, lang, raw)
    }

    /// The stored answer to this exact request, when there is one that still holds for this
    /// caller: nothing is parsed or executed.
    pub async fn stored(
        &self,
        key: Option<ResponseKey>,
        caller: &Caller,
        request_id: &str,
    ) -> Option<Bytes> {
        let now = self.clock.now();
        self.response_cache
            .serve(key?, caller, &self.dashboards, now)
            .instrument(crate::traces::child(|| {
                tracing::debug_span!("answer", otel.name = "stored answer", request_id)
            }))
            .await
    }

    /// Persisted documents, per-request data, the limits and the parse, GET's rule.
    pub async fn admit(&self, incoming: Incoming) -> Result<Admitted, Refused> {
        let Incoming {
            mut request,
            request_id,
            transport,
            key,
        } = incoming;
        let kept = key.map(|key| (key, ReadRecorder::default()));
        let reads = kept.as_ref().map(|(_, reads)| reads.clone());
        if let Err(e) = persisted::apply(&self.persisted, &mut request).await {
            let response = persisted::error_response(&e, &request_id);
            return Err(Refused::Response(
                Box::new(response),
                e != PersistedError::NotFound,
            ));
        }
        let mut request = request
            .data(RequestId(request_id.clone()))
            .data(recording_loaders(self.dashboards.clone(), reads.clone()));
        if let Some(reads) = reads {
            request = request.data(reads);
        }
        let prepared = match transport {
            Transport::WebSocket => admit(&mut request).map(|()| None),
            Transport::Post | Transport::Get => self.documents.prepare(&mut request).map(Some),
        };
        let prepared = prepared.map_err(|refusal| {
            let response = request_error_response(refusal.0, &request_id);
            Refused::Response(Box::new(response), true)
        })?;
        if transport == Transport::Get && has_mutation(&mut request) {
            return Err(Refused::MutationOverGet);
        }
        let (operation, kind) = operation_of(&mut request);
        Ok(Admitted {
            request,
            prepared,
            request_id,
            kept,
            operation,
            kind,
        })
    }

    /// Runs a query or a mutation once: its span, its metrics, its errors coded.
    pub async fn execute(&self, admitted: Admitted) -> Executed {
        let Admitted {
            request,
            prepared,
            request_id,
            kept,
            operation,
            kind,
        } = admitted;
        let schema = match &prepared {
            Some(p) if p.known_valid => &self.prevalidated,
            _ => &self.schema,
        };
        let span = operation_span(&operation, kind, &request_id);
        let started = Instant::now();
        let mut response = schema.execute(request).instrument(span.clone()).await;
        let code = first_code(&response);
        operation.record(kind, code, Some(started.elapsed()));
        if let Some(code) = code {
            span.record("graphql.error.code", code.as_str());
        }
        if let Some(prepared) = prepared {
            self.documents.record(prepared, &response);
        }
        let request_error = is_request_error(&response);
        complete(&mut response, &request_id);
        Executed {
            response,
            request_error,
            operation,
            kind,
            request_id,
            kept,
        }
    }

    /// The reply to an executed request, within the bound; a query's answer without an error is
    /// kept in the response cache.
    pub fn reply(&self, executed: Executed) -> Reply {
        let Executed {
            response,
            request_error,
            operation,
            kind,
            request_id,
            kept,
        } = executed;
        let keep = response.errors.is_empty()
            && response.http_headers.is_empty()
            && kind == OperationKind::Query;
        let (body, request_error) = encode(&response, request_error, &request_id);
        if let (Some((key, reads)), true, false) = (kept, keep, request_error) {
            self.response_cache
                .store(key, reads.take(), body.clone(), operation, &self.dashboards);
        }
        Reply {
            body,
            request_error,
            headers: response.http_headers,
        }
    }

    /// What a subscription follows, when one run may serve it to every connection that sends
    /// it (`graphql::topic`); `None` for any other operation.
    pub fn topic(&self, admitted: &mut Admitted) -> Option<Topic> {
        if admitted.kind != OperationKind::Subscription {
            return None;
        }
        topic::of(&self.schema, &mut admitted.request)
    }

    /// Runs an operation as a stream (WebSocket): each response coded, the operation counted at
    /// its first (a subscription's duration is its life, not timed), its span current while it
    /// runs.
    pub fn execute_stream(
        &self,
        admitted: Admitted,
        session: Arc<Data>,
    ) -> BoxStream<'static, (Response, bool)> {
        let Admitted {
            request,
            request_id,
            operation,
            kind,
            ..
        } = admitted;
        let span = operation_span(&operation, kind, &request_id);
        let mut counted = Some(operation);
        let started = Instant::now();
        let mut execution = self
            .schema
            .execute_stream_with_session_data(request, session);
        futures_util::stream::poll_fn(move |cx| {
            let _running = span.enter();
            execution.poll_next_unpin(cx)
        })
        .map(move |mut response| {
            if let Some(operation) = counted.take() {
                let took = (kind != OperationKind::Subscription).then(|| started.elapsed());
                operation.record(kind, first_code(&response), took);
            }
            let request_error = is_request_error(&response);
            complete(&mut response, &request_id);
            (response, request_error)
        })
        .boxed()
    }
}

/// A refused request's reply: its errors, no `data` entry.
pub fn refusal_body(response: &Response, request_id: &str) -> Bytes {
    encode(response, true, request_id).0
}

/// The response's JSON, or an error in its place when it would be larger than the limit (then
/// a request error).
fn encode(response: &Response, request_error: bool, request_id: &str) -> (Bytes, bool) {
    let json = |response: &Response, request_error: bool| {
        if request_error {
            serde_json::to_vec(&RequestError {
                errors: &response.errors,
            })
        } else {
            serde_json::to_vec(response)
        }
        .unwrap_or_default()
    };
    let (body, too_large) = bounded(json(response, request_error), Vec::len, request_id, |e| {
        json(e, true)
    });
    (Bytes::from(body), request_error || too_large)
}

/// Whether any operation of the document is a mutation.
fn has_mutation(request: &mut Request) -> bool {
    request.parsed_query().is_ok_and(|doc| {
        doc.operations
            .iter()
            .any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
    })
}

/// The reply bound: `encoded` as it is when within [`MAX_REPLY_BYTES`], else the error that
/// takes its place (a request error), made by `encode_error`.
pub fn bounded<T>(
    encoded: T,
    len: impl Fn(&T) -> usize,
    request_id: &str,
    encode_error: impl FnOnce(&Response) -> T,
) -> (T, bool) {
    let size = len(&encoded);
    if size <= MAX_REPLY_BYTES {
        return (encoded, false);
    }
    let too_large = request_error_response(
        format!(
            "the reply would be {size} bytes; the limit is {MAX_REPLY_BYTES} (MAX_REPLY_BYTES): ask for fewer fields or ids"
        ),
        request_id,
    );
    (encode_error(&too_large), true)
}
