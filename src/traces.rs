//! Traces: spans of our own code exported over OTLP/HTTP (protobuf, or JSON when
//! `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and a
//! client's W3C `traceparent` continued.
//!
//! The spans below the HTTP request (operation, dataloader batch, SQL, Redis, email, render) are
//! at DEBUG: without an exporter the log filter (INFO by default) turns their call sites off,
//! so they cost nothing.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HeaderExtractor, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Level;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::{Layer, Registry};

use crate::error::BoxError;

/// Whether spans are exported (then an incoming `traceparent` is worth reading).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The tracing layer that turns our spans into OpenTelemetry spans, and the provider behind it
/// (shut it down to send what is left).
pub fn layer() -> Result<(Box<dyn Layer<Registry> + Send + Sync>, SdkTracerProvider), BoxError> {
    let mut exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(Exporter::new()?)
        .with_timeout(EXPORT_TIMEOUT);
    // the OTLP default, which the crate's own (JSON, when built with it) is not
    let chosen = [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some());
    if !chosen {
        exporter = exporter.with_protocol(Protocol::HttpBinary);
    }
    let exporter = exporter.build()?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(env!("CARGO_PKG_NAME"));
    }
    // the SDK's batch processor: its own thread, a bounded queue (spans beyond it are dropped,
    // never queued without end), OTEL_BSP_* for its settings
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
    let ours = Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::DEBUG);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(ours)
        .boxed();
    EXPORTING.store(true, Ordering::Relaxed);
    Ok((layer, provider))
}

/// Whether spans are exported (set once, at start).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Makes `span` a child of the client's trace when the request carries a valid `traceparent`
/// (call it when `exporting`).
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // fails only when the span is not exported, which is then no loss
    let _ = span.set_parent(parent);
}

/// Writes the span's trace id (32 hex digits, as the collector shows it) into its `trace_id`
/// field, so that every log line of the request carries it.
pub fn record_trace_id(span: &tracing::Span) {
    use opentelemetry::trace::{TraceContextExt, TraceId};
    let id = span.context().span().span_context().trace_id();
    if id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(id));
    }
}

/// Marks `span` as failed in traces.
pub fn failed(span: &tracing::Span) {
    span.record("otel.status_code", "ERROR");
}

/// The span `make` builds, when there is a span to put it under; none for work outside any
/// (the outbox relay's poll each second would otherwise be a trace of its own).
pub fn child(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    if tracing::level_enabled!(Level::DEBUG) && tracing::Span::current().is_none() {
        return tracing::Span::none();
    }
    make()
}

const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest collector reply read (it is a few bytes of partial-success status).
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Sends the exporter's requests with the reqwest 0.12 client the service already has. The
/// SDK's batch processor awaits on a thread of its own, outside the runtime, so each request is
/// run on the runtime and only its result awaited there.
#[derive(Debug)]
struct Exporter {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl Exporter {
    fn new() -> Result<Self, BoxError> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(EXPORT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            runtime: tokio::runtime::Handle::try_current()?,
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for Exporter {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let mut reply = client.execute(request).await?;
            let mut http = Response::builder().status(reply.status());
            if let Some(headers) = http.headers_mut() {
                *headers = std::mem::take(reply.headers_mut());
            }
            let mut body = Vec::new();
            while let Some(chunk) = reply.chunk().await? {
                if body.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Err("the collector's reply is too large".into());
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, HttpError>(http.body(Bytes::from(body))?)
        });
        sent.await?
    }
}
