//! WebSocket fan-out bench: N graphql-transport-ws connections, each with S `kpiUpdated`
//! subscriptions, spread over A analyses; then M changes, each stamped (its `at`) when the server
//! takes it. Connections come from K loopback source addresses from `--first-source` on (one
//! address has about 28,000 ports; a run of its own addresses finds none of them still held by an
//! earlier run's connections in TIME_WAIT). Every connection is acknowledged before any subscribes, so the
//! server's RSS is read three times: before, with the connections idle, and with the
//! subscriptions idle. Reports connect rate, idle RSS per connection and per subscription,
//! delivery latency (change to receipt) p50/p99/max, per-event fan-out spread, and delivered ÷
//! expected, as a table and JSON.
//!
//! cargo run --release --example ws_fanout -- --url http://127.0.0.1:8000 --pid <server pid>
//!     --connections 1000 --analyses 1 --events 20 [--per-connection 1] [--sources 1]
//!     [--first-source 127.0.0.1] [--gap-ms 50]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

struct Args {
    url: String,
    pid: Option<u32>,
    connections: usize,
    per_connection: usize,
    analyses: usize,
    events: usize,
    sources: u8,
    first_source: Ipv4Addr,
    gap_ms: u64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8000".into(),
        pid: None,
        connections: 1000,
        per_connection: 1,
        analyses: 1,
        events: 20,
        sources: 1,
        first_source: Ipv4Addr::LOCALHOST,
        gap_ms: 50,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for pair in v.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--url" => a.url = value,
            "--pid" => a.pid = value.parse().ok(),
            "--connections" => a.connections = value.parse().expect("--connections N"),
            "--per-connection" => a.per_connection = value.parse().expect("--per-connection S"),
            "--analyses" => a.analyses = value.parse().expect("--analyses N"),
            "--events" => a.events = value.parse().expect("--events N"),
            "--sources" => a.sources = value.parse().expect("--sources 1..=254"),
            "--first-source" => a.first_source = value.parse().expect("--first-source 127.x.y.z"),
            "--gap-ms" => a.gap_ms = value.parse().expect("--gap-ms MS"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(a.per_connection >= 1 && a.sources >= 1);
    a
}

impl Args {
    /// The analyses connection `i` subscribes to: S consecutive ones from its own.
    fn analyses_of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.per_connection.min(self.analyses)).map(move |j| (i + j) % self.analyses)
    }

    fn subscriptions(&self) -> usize {
        self.connections * self.per_connection.min(self.analyses)
    }
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

/// Per change (its `at`), when each delivery arrived.
type Receipts = Arc<Mutex<HashMap<String, Vec<DateTime<Utc>>>>>;

/// The server's RSS, settled: read after the server has had a moment to finish the last step.
async fn settled_rss(pid: Option<u32>) -> Option<u64> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    pid.and_then(rss_kib)
}

#[tokio::main]
async fn main() {
    let a = Arc::new(args());
    let http = reqwest::Client::new();
    let ids = Arc::new(record_analyses(&http, &a.url, a.analyses).await);
    let baseline = settled_rss(a.pid).await;
    let receipts: Receipts = Arc::default();
    let (go, _) = watch::channel(false);
    let (connected, subscribed_tx) = (Instant::now(), mpsc::channel::<()>(a.connections));
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(a.connections);
    let connect_limit = Arc::new(Semaphore::new(200));
    for i in 0..a.connections {
        tokio::spawn(subscriber(
            a.clone(),
            i,
            ids.clone(),
            receipts.clone(),
            (ready_tx.clone(), subscribed_tx.0.clone(), go.subscribe()),
            connect_limit.clone(),
        ));
    }
    drop((ready_tx, subscribed_tx.0));
    for _ in 0..a.connections {
        ready_rx.recv().await.expect("a connection failed");
    }
    let connect_secs = connected.elapsed().as_secs_f64();
    let connected_rss = settled_rss(a.pid).await;
    go.send_replace(true);
    let mut subscribed_rx = subscribed_tx.1;
    for _ in 0..a.connections {
        subscribed_rx.recv().await.expect("a connection failed");
    }
    wait_for_subscribers(&http, &a.url, a.subscriptions()).await;
    let idle = settled_rss(a.pid).await;
    let expected = make_changes(&http, &a, &ids).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let receipts = receipts.lock().unwrap();
    report(
        &a,
        &receipts,
        [baseline, connected_rss, idle],
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

/// A TCP connection to the server from the loopback source address `i % K` after the first.
async fn connect_from(a: &Args, i: usize) -> tokio::net::TcpStream {
    let server: SocketAddr = a
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("--url http://IP:PORT");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    let source = Ipv4Addr::from(u32::from(a.first_source) + (i % a.sources as usize) as u32);
    socket.bind(SocketAddr::new(source.into(), 0)).unwrap();
    socket.connect(server).await.expect("connect")
}

/// One connection: acknowledged (then `ready`), and once `go` says so, its S `kpiUpdated`
/// subscriptions (then `subscribed`), noting when each update arrives.
async fn subscriber(
    a: Arc<Args>,
    i: usize,
    ids: Arc<Vec<String>>,
    receipts: Receipts,
    (ready, subscribed, mut go): (mpsc::Sender<()>, mpsc::Sender<()>, watch::Receiver<bool>),
    limit: Arc<Semaphore>,
) {
    let mut permit = Some(limit.acquire_owned().await.unwrap());
    let mut req = format!("{}/graphql", a.url.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(req, connect_from(&a, i).await)
        .await
        .expect("handshake");
    ws.send(Message::Text(
        json!({"type": "connection_init"}).to_string().into(),
    ))
    .await
    .unwrap();
    let mut acknowledged = false;
    loop {
        let m = tokio::select! {
            m = ws.next() => match m {
                Some(Ok(m)) => m,
                _ => break,
            },
            Ok(()) = go.changed(), if acknowledged => {
                for (j, analysis) in a.analyses_of(i).enumerate() {
                    ws.send(Message::Text(
                        json!({"id": format!("k{j}"), "type": "subscribe", "payload": {
                        "query": "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { at } }",
                        "variables": {"id": ids[analysis]}}})
                        .to_string()
                        .into(),
                    ))
                    .await
                    .unwrap();
                }
                subscribed.send(()).await.unwrap();
                continue;
            }
        };
        let Message::Text(t) = m else { continue };
        let now = Utc::now();
        // The deliveries, read without a full parse: the load generator shares the machine's
        // cores with the server, so what it spends per message would count as fan-out time.
        if let Some(at) = delivered_at(&t) {
            receipts
                .lock()
                .unwrap()
                .entry(at.to_owned())
                .or_default()
                .push(now);
            continue;
        }
        let v: Value = serde_json::from_str(&t).unwrap();
        match v["type"].as_str() {
            Some("connection_ack") if !acknowledged => {
                acknowledged = true;
                ready.send(()).await.unwrap();
                // the next connection may start its handshake
                permit.take();
            }
            Some("ping") => ws
                .send(Message::Text(r#"{"type":"pong"}"#.into()))
                .await
                .unwrap(),
            // anything else (a `next` that is not a delivery) is not counted as one
            _ => {}
        }
    }
}

/// The `at` of a `kpiUpdated` delivery (`next` with data, no errors), if `message` is one.
fn delivered_at(message: &str) -> Option<&str> {
    const AT: &str = r#"{"data":{"kpiUpdated":{"at":""#;
    if !message.starts_with(r#"{"type":"next""#) {
        return None;
    }
    let rest = &message[message.find(AT)? + AT.len()..];
    Some(&rest[..rest.find('"')?])
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
            .filter(|&i| a.analyses_of(i).any(|x| x == e % ids.len()))
            .count();
        tokio::time::sleep(Duration::from_millis(a.gap_ms)).await;
    }
    expected
}

/// Latencies (change to receipt) and fan-out spreads, as a table row and JSON.
fn report(
    a: &Args,
    receipts: &HashMap<String, Vec<DateTime<Utc>>>,
    [baseline, connected, idle]: [Option<u64>; 3],
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
    let subscriptions = a.subscriptions();
    let per_analysis = (subscriptions as f64 / a.analyses as f64).ceil() as usize;
    let per = |from: Option<u64>, to: Option<u64>, n: usize| match (from, to) {
        (Some(f), Some(t)) => Some(t.saturating_sub(f) as f64 / n as f64),
        _ => None,
    };
    // A connection with its subscriptions, idle; then the parts.
    let per_conn = per(baseline, idle, a.connections);
    let per_bare = per(baseline, connected, a.connections);
    let per_sub = per(connected, idle, subscriptions);
    let result = json!({
        "connections": a.connections, "analyses": a.analyses, "subscriptions": subscriptions,
        "per_connection": a.per_connection.min(a.analyses), "sources": a.sources,
        "subscribers_per_analysis": per_analysis,
        "events": a.events, "expected": expected, "delivered": delivered,
        "delivered_ratio": delivered as f64 / expected.max(1) as f64,
        "connect_rate_per_s": a.connections as f64 / connect_secs,
        "rss_baseline_kib": baseline, "rss_connected_kib": connected, "rss_idle_kib": idle,
        "rss_per_connection_kib": per_conn, "rss_per_bare_connection_kib": per_bare,
        "rss_per_subscription_kib": per_sub,
        "latency_ms": {"p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99), "max": latencies.last().copied().unwrap_or(f64::NAN)},
        "fanout_spread_ms": {"p50": percentile(&spreads, 0.5), "max": spreads.last().copied().unwrap_or(f64::NAN)},
    });
    let kib = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.1}"));
    println!("| connections | subscriptions | per event | events | delivered/expected | connect/s | RSS/conn KiB (bare + subs) | RSS/sub KiB | latency p50 ms | p99 ms | max ms | spread p50 ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {}/{} | {:.0} | {} ({}) | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        a.connections,
        subscriptions,
        per_analysis,
        a.events,
        delivered,
        expected,
        a.connections as f64 / connect_secs,
        kib(per_conn),
        kib(per_bare),
        kib(per_sub),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        percentile(&spreads, 0.5)
    );
    println!("JSON {result}");
}
