//! Traces over OTLP/HTTP from the shipped binary (its own process: the tracing subscriber is
//! global), received by a small collector here: each request's spans arrive in the client's
//! trace, under the right parents.

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;
use crate::ws_client::*;

/// One received span, as the assertions need it.
#[derive(Debug, Clone)]
struct Received {
    trace: String,
    id: String,
    parent: String,
    name: String,
    kind: i32,
    attributes: Vec<(String, String)>,
}

impl Received {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// An OTLP/HTTP receiver (protobuf, the exporter's default) keeping every span it is sent.
struct Collector {
    endpoint: String,
    spans: Arc<Mutex<Vec<Received>>>,
}

impl Collector {
    async fn start() -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let kept = spans.clone();
        let router = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut kept = kept.lock().unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        kept.extend(scope.spans.into_iter().map(|s| {
                            Received {
                                trace: hex(&s.trace_id),
                                id: hex(&s.span_id),
                                parent: hex(&s.parent_span_id),
                                name: s.name,
                                kind: s.kind,
                                attributes: s
                                    .attributes
                                    .into_iter()
                                    .map(|kv| (kv.key, shown(kv.value.and_then(|v| v.value))))
                                    .collect(),
                            }
                        }));
                    }
                }
                // an empty ExportTraceServiceResponse: full success
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { endpoint, spans }
    }

    fn trace(&self, trace: &str) -> Vec<Received> {
        let spans = self.spans.lock().unwrap();
        spans.iter().filter(|s| s.trace == trace).cloned().collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn shown(value: Option<Any>) -> String {
    match value {
        Some(Any::StringValue(s)) => s,
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        Some(Any::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// A request sent as a span of the client's own: its `traceparent`, and the ids to find it by.
struct ClientSpan {
    trace: String,
    span: String,
}

impl ClientSpan {
    fn new() -> Self {
        let trace = uuid::Uuid::new_v4().simple().to_string();
        let span = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        Self { trace, span }
    }

    fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace, self.span)
    }
}

/// Waits for the trace's spans until `ready` holds for them.
async fn spans_of(
    collector: &Collector,
    client: &ClientSpan,
    ready: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    for _ in 0..200 {
        let spans = collector.trace(&client.trace);
        if ready(&spans) {
            return spans;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let all = collector.spans.lock().unwrap();
    panic!("the trace's spans did not arrive; the collector has {all:#?}")
}

fn named<'a>(spans: &'a [Received], name: &str) -> &'a Received {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} among {spans:#?}"))
}

/// Whether `span` is below `ancestor` in `spans`.
fn under(spans: &[Received], span: &Received, ancestor: &Received) -> bool {
    let mut parent = span.parent.clone();
    for _ in 0..spans.len() {
        if parent == ancestor.id {
            return true;
        }
        match spans.iter().find(|s| s.id == parent) {
            Some(p) => parent = p.parent.clone(),
            None => return false,
        }
    }
    false
}

async fn post_traced(base: &str, client: &ClientSpan, request_id: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header("traceparent", client.traceparent())
        .header("x-request-id", request_id)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const DASH: &str =
    "query Dash($id: UUID!) { dashboard(analysisId: $id) { analysisId progressSummary { implemented } } }";
const SUBSCRIBE: &str = "mutation Sub($input: SubscribeToReportsInput!) {
  subscribeToReports(input: $input) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requests_spans_arrive_in_the_clients_trace_under_the_right_parents() {
    let db = TestDb::new().await;
    let smtp = SmtpSink::start().await;
    let collector = Collector::start().await;
    let prefix = format!("pd-test-traces-{}:", uuid::Uuid::new_v4().simple());
    let (mut server, base) = spawn_binary(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("REDIS_URL", &redis_url()),
            ("REDIS_PREFIX", &prefix),
            ("SMTP_URL", &smtp.url()),
            ("REPORT_TOKEN_SECRET", "traces test secret"),
        ],
    )
    .await;

    // A read that misses every cache: the operation, its dataloader batch, the Redis lookup
    // and the SQL it falls back to, in the client's trace.
    let client = ClientSpan::new();
    let read_trace = client.trace.clone();
    let unknown = uuid::Uuid::new_v4();
    let r = post_traced(
        &base,
        &client,
        "trace-read-1",
        json!({"query": DASH, "variables": {"id": unknown}}),
    )
    .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "ANALYSIS_NOT_FOUND",
        "{r}"
    );
    let spans = spans_of(&collector, &client, |s| {
        s.iter().any(|s| s.name == "POST /graphql")
            && s.iter().any(|s| s.name == "SELECT")
            && s.iter().any(|s| s.name == "MGET")
    })
    .await;
    let request = named(&spans, "POST /graphql");
    assert_eq!(
        request.parent, client.span,
        "the client's span is the parent"
    );
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(request.attribute("request_id"), Some("trace-read-1"));
    assert_eq!(request.attribute("http.response.status_code"), Some("200"));
    let operation = named(&spans, "query Dash");
    assert_eq!(operation.parent, request.id);
    assert_eq!(operation.attribute("graphql.operation.name"), Some("Dash"));
    assert_eq!(operation.attribute("request_id"), Some("trace-read-1"));
    assert_eq!(
        operation.attribute("graphql.error.code"),
        Some("ANALYSIS_NOT_FOUND")
    );
    let batch = named(&spans, "dataloader dashboards");
    assert_eq!(batch.parent, operation.id);
    assert_eq!(batch.attribute("keys"), Some("1"));
    let lookup = named(&spans, "MGET");
    assert!(under(&spans, lookup, batch), "{spans:#?}");
    assert_eq!(lookup.attribute("db.system.name"), Some("redis"));
    let sql = named(&spans, "SELECT");
    assert!(under(&spans, sql, batch), "{spans:#?}");
    assert_eq!(sql.kind, SpanKind::Client as i32);
    let text = sql.attribute("db.query.text").unwrap();
    assert!(
        !text.contains(&unknown.to_string()) && !text.contains("binds"),
        "statement text only, never its values: {text}"
    );

    // A write: its statements under the mutation, and the confirmation email it sends.
    let recorded = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({"query": RECORD, "variables": {"input": analysis_input("https://traces.example.com", EXAMPLE)}}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let id = recorded["data"]["recordAnalysis"]["dashboard"]["analysisId"]
        .as_str()
        .unwrap_or_else(|| panic!("{recorded}"))
        .to_owned();
    let client = ClientSpan::new();
    let input = json!({"analysisId": id, "email": "traced@example.com", "frequency": "WEEKLY"});
    let r = post_traced(
        &base,
        &client,
        "trace-write-1",
        json!({"query": SUBSCRIBE, "variables": {"input": input}}),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let spans = spans_of(&collector, &client, |s| {
        s.iter().any(|s| s.name == "email send") && s.iter().any(|s| s.name == "POST /graphql")
    })
    .await;
    let request = named(&spans, "POST /graphql");
    assert_eq!(request.parent, client.span);
    let operation = named(&spans, "mutation Sub");
    assert_eq!(operation.parent, request.id);
    let email = named(&spans, "email send");
    assert!(under(&spans, email, operation), "{spans:#?}");
    assert!(
        spans
            .iter()
            .any(|s| s.name == "INSERT" && under(&spans, s, operation)),
        "{spans:#?}"
    );
    assert_eq!(smtp.count(), 1);

    // A report download: the render under the request.
    let client = ClientSpan::new();
    let r = reqwest::Client::new()
        .get(format!("{base}/reports/{id}?format=html"))
        .header("traceparent", client.traceparent())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let spans = spans_of(&collector, &client, |s| {
        s.iter().any(|s| s.name == "render html")
            && s.iter().any(|s| s.name == "GET /reports/{analysis_id}")
    })
    .await;
    let request = named(&spans, "GET /reports/{analysis_id}");
    assert_eq!(request.parent, client.span);
    assert!(under(&spans, named(&spans, "render html"), request));

    // Over WebSocket: a span per operation too, a subscription's for its whole life
    let mut ws = WsClient::ready(&base, TRANSPORT_WS).await;
    ws.subscribe(
        "t",
        "subscription Toasts($id: UUID!) { badgeAwarded(analysisId: $id) { badge { badgeType } } }",
        json!({"id": id}),
    )
    .await;
    ws.subscribe("q", DASH, json!({"id": id})).await;
    assert!(ws.data("q").await["dashboard"]["analysisId"].is_string());
    ws.unsubscribe("t").await;
    eventually("the socket's operations are spans", || {
        let spans = collector.spans.lock().unwrap();
        ["subscription Toasts", "query Dash"].iter().all(|name| {
            spans.iter().any(|s| {
                s.name == *name
                    && s.attribute("graphql.operation.type").is_some()
                    && s.trace != client.trace
            })
        })
    })
    .await;

    // Without a traceparent a request starts a trace of its own; one that does not parse is
    // ignored the same way.
    for traceparent in [None, Some("00-not-a-trace-01")] {
        let mut request = reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("x-request-id", "trace-own-1");
        if let Some(t) = traceparent {
            request = request.header("traceparent", t);
        }
        let r = request
            .json(&json!({"query": DASH, "variables": {"id": id}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    eventually("requests without a client trace are roots", || {
        let spans = collector.spans.lock().unwrap();
        spans
            .iter()
            .filter(|s| {
                s.attribute("request_id") == Some("trace-own-1") && s.name == "POST /graphql"
            })
            .filter(|s| s.parent.is_empty())
            .count()
            == 2
    })
    .await;
    // work outside any request or socket operation (the outbox relay polls each second) makes
    // no traces
    let roots: Vec<String> = collector
        .spans
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.parent.is_empty())
        .map(|s| s.name.clone())
        .collect();
    assert!(
        roots.iter().all(|n| {
            ["POST ", "GET ", "query ", "subscription "]
                .iter()
                .any(|p| n.starts_with(p))
        }),
        "{roots:?}"
    );

    // the request's log lines carry its trace id, as the collector has it: from a slow request
    // in the logs to its trace
    server.kill().await.unwrap();
    let logs = stderr_of(&mut server).await;
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of_read: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "trace-read-1")
        .collect();
    assert!(!of_read.is_empty(), "{logs}");
    for line in of_read {
        assert_eq!(line["span"]["trace_id"], read_trace.as_str(), "{line}");
    }
}
