//! WebSocket fan-out bench: N graphql-transport-ws connections, each with one `kpiUpdated`
//! subscription, spread over A analyses; then M changes, each stamped (its `at`) when the server
//! takes it. Reports connect rate, idle server RSS per connection, delivery latency (change to
//! receipt) p50/p99/max, per-event fan-out spread, and delivered ÷ expected, as a table and JSON.
//!
//! cargo run --release --example ws_fanout -- --url http://127.0.0.1:8000 --pid <server pid>
//!     --connections 1000 --analyses 1 --events 20

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

struct Args {
    url: String,
    pid: Option<u32>,
    connections: usize,
    analyses: usize,
    events: usize,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8000".into(),
        pid: None,
        connections: 1000,
        analyses: 1,
        events: 20,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for pair in v.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--url" => a.url = value,
            "--pid" => a.pid = value.parse().ok(),
            "--connections" => a.connections = value.parse().expect("--connections N"),
            "--analyses" => a.analyses = value.parse().expect("--analyses N"),
            "--events" => a.events = value.parse().expect("--events N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

async fn gql(http: &reqwest::Client, url: &str, query: &str, variables: Value) -> Value {
    let r: Value = http
        .post(format!("{url}/graphql"))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

type Receipts = Arc<Mutex<HashMap<String, Vec<DateTime<Utc>>>>>;

#[tokio::main]
async fn main() {
    let a = args();
    let http = reqwest::Client::new();
    let ids = record_analyses(&http, &a.url, a.analyses).await;
    let baseline = a.pid.and_then(rss_kib);
    let receipts: Receipts = Arc::default();
    let connect_secs = connect_all(&a, &ids, &receipts).await;
    wait_for_subscribers(&http, &a.url, a.connections).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = a.pid.and_then(rss_kib);
    let expected = make_changes(&http, &a, &ids).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let receipts = receipts.lock().unwrap();
    report(
        &a,
        ids.len(),
        &receipts,
        (baseline, idle),
        connect_secs,
        expected,
    );
    std::process::exit(0);
}

/// Analyses of this run's own, with one opportunity each.
async fn record_analyses(http: &reqwest::Client, url: &str, n: usize) -> Vec<String> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut ids = Vec::new();
    for i in 0..n {
        let d = gql(http, url, "mutation($input: RecordAnalysisInput!) { recordAnalysis(input: $input) { dashboard { analysisId } } }",
            json!({"input": {"url": format!("https://bench-{run}-{i}.example.com"), "identity": {"companyName": "Bench"},
                "opportunities": [{"opportunityId": "a", "category": "DIGITAL_PRESENCE", "hoursPerWeek": 1, "hoursPerYear": 52, "complexityLevel": 1}]}})).await;
        ids.push(
            d["recordAnalysis"]["dashboard"]["analysisId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

/// Opens every connection (200 handshakes at a time) and subscribes each; the seconds it took.
async fn connect_all(a: &Args, ids: &[String], receipts: &Receipts) -> f64 {
    let ws_url = format!("{}/graphql", a.url.replacen("http", "ws", 1));
    let started = Instant::now();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(a.connections);
    let connect_limit = Arc::new(tokio::sync::Semaphore::new(200));
    for i in 0..a.connections {
        tokio::spawn(subscriber(
            ws_url.clone(),
            ids[i % ids.len()].clone(),
            receipts.clone(),
            ready_tx.clone(),
            connect_limit.clone(),
        ));
    }
    drop(ready_tx);
    for _ in 0..a.connections {
        ready_rx.recv().await.expect("a connection failed");
    }
    started.elapsed().as_secs_f64()
}

/// One connection with one `kpiUpdated` subscription, noting when each update arrives.
async fn subscriber(
    ws_url: String,
    id: String,
    receipts: Receipts,
    ready_tx: tokio::sync::mpsc::Sender<()>,
    limit: Arc<tokio::sync::Semaphore>,
) {
    let mut permit = Some(limit.acquire_owned().await.unwrap());
    let mut req = ws_url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    ws.send(Message::Text(
        json!({"type": "connection_init"}).to_string().into(),
    ))
    .await
    .unwrap();
    let mut subscribed = false;
    while let Some(Ok(m)) = ws.next().await {
        let Message::Text(t) = m else { continue };
        let now = Utc::now();
        let v: Value = serde_json::from_str(&t).unwrap();
        match v["type"].as_str() {
            Some("connection_ack") if !subscribed => {
                ws.send(Message::Text(
                    json!({"id": "k", "type": "subscribe", "payload": {
                    "query": "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { at } }",
                    "variables": {"id": id}}})
                    .to_string()
                    .into(),
                ))
                .await
                .unwrap();
                subscribed = true;
                ready_tx.send(()).await.unwrap();
                // the next connection may start its handshake
                permit.take();
            }
            Some("ping") => ws
                .send(Message::Text(r#"{"type":"pong"}"#.into()))
                .await
                .unwrap(),
            Some("next") => {
                if let Some(at) = v["payload"]["data"]["kpiUpdated"]["at"].as_str() {
                    receipts
                        .lock()
                        .unwrap()
                        .entry(at.to_owned())
                        .or_default()
                        .push(now);
                }
            }
            _ => {}
        }
    }
}

/// Until every subscription is registered on the server.
async fn wait_for_subscribers(http: &reqwest::Client, url: &str, n: usize) {
    loop {
        let d = gql(
            http,
            url,
            "{ serviceStats { live { kpiUpdatedSubscribers } } }",
            json!({}),
        )
        .await;
        if d["serviceStats"]["live"]["kpiUpdatedSubscribers"]
            .as_i64()
            .unwrap_or(0)
            >= n as i64
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// M changes, spread over the analyses, a little apart; the deliveries they should make.
async fn make_changes(http: &reqwest::Client, a: &Args, ids: &[String]) -> usize {
    let mut expected = 0usize;
    for e in 0..a.events {
        let id = &ids[e % ids.len()];
        let status = if (e / ids.len()).is_multiple_of(2) {
            "IN_PROGRESS"
        } else {
            "NOT_STARTED"
        };
        gql(http, &a.url, "mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { status } } }",
            json!({"input": {"analysisId": id, "opportunityId": "a", "status": status}})).await;
        expected += (0..a.connections)
            .filter(|i| i % ids.len() == e % ids.len())
            .count();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    expected
}

/// Latencies (change to receipt) and fan-out spreads, as a table row and JSON.
fn report(
    a: &Args,
    analyses: usize,
    receipts: &HashMap<String, Vec<DateTime<Utc>>>,
    (baseline, idle): (Option<u64>, Option<u64>),
    connect_secs: f64,
    expected: usize,
) {
    let mut latencies = Vec::new();
    let mut spreads = Vec::new();
    for (at, times) in receipts.iter() {
        let at: DateTime<Utc> = at.parse().unwrap();
        for t in times {
            latencies.push((*t - at).num_microseconds().unwrap() as f64 / 1000.0);
        }
        let (min, max) = (times.iter().min().unwrap(), times.iter().max().unwrap());
        spreads.push((*max - *min).num_microseconds().unwrap() as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    spreads.sort_by(f64::total_cmp);
    let delivered = latencies.len();
    let per_analysis = (a.connections as f64 / analyses as f64).ceil() as usize;
    let per_conn = match (baseline, idle) {
        (Some(b), Some(i)) => Some((i.saturating_sub(b)) as f64 / a.connections as f64),
        _ => None,
    };
    let result = json!({
        "connections": a.connections, "analyses": analyses, "subscribers_per_analysis": per_analysis,
        "events": a.events, "expected": expected, "delivered": delivered,
        "delivered_ratio": delivered as f64 / expected.max(1) as f64,
        "connect_rate_per_s": a.connections as f64 / connect_secs,
        "rss_baseline_kib": baseline, "rss_idle_kib": idle, "rss_per_connection_kib": per_conn,
        "latency_ms": {"p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99), "max": latencies.last().copied().unwrap_or(f64::NAN)},
        "fanout_spread_ms": {"p50": percentile(&spreads, 0.5), "max": spreads.last().copied().unwrap_or(f64::NAN)},
    });
    println!("| connections | analyses | events | delivered/expected | connect/s | RSS/conn KiB | latency p50 ms | p99 ms | max ms | spread p50 ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {}/{} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        a.connections,
        analyses,
        a.events,
        delivered,
        expected,
        a.connections as f64 / connect_secs,
        per_conn.map_or("n/a".into(), |v| format!("{v:.1}")),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        percentile(&spreads, 0.5)
    );
    println!("JSON {result}");
}
