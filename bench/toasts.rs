//! Toast bookkeeping under faults (`bench/faults.sh`). Records A analyses of its own with O
//! opportunities each, then for S seconds:
//! - listens to each analysis' badge toasts over its own graphql-transport-ws connection; when the
//!   socket or the subscription ends, it reconnects with `since` set to the last award it saw,
//!   as a front end does;
//! - moves every opportunity to IN_PROGRESS and then IMPLEMENTED at R updates a second, one
//!   after another, retrying a step until the server acknowledges it.
//!
//! Then it waits for late toasts (until none came for 3 s) and prints one JSON object: the
//! analyses, the updates tried, acknowledged and failed (with their codes), the last status
//! acknowledged for each opportunity, the reconnections, and every toast received as
//! [analysis, badge, times received]. The script compares the
//! toasts with the awards in the database: each must arrive exactly once.
//!
//! cargo run --release --example toasts -- --url http://127.0.0.1:8000 --analyses 20
//!     --opportunities 6 --seconds 20 --rate 25 [--listen-url http://127.0.0.1:8001]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

struct Args {
    url: String,
    /// Where the toasts are listened to (another instance: the bus must carry them); `url` by
    /// default.
    listen_url: Option<String>,
    analyses: usize,
    opportunities: usize,
    seconds: f64,
    rate: f64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8000".into(),
        listen_url: None,
        analyses: 20,
        opportunities: 6,
        seconds: 20.0,
        rate: 25.0,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for pair in v.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        let number = |flag: &str| -> f64 {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{flag} takes a number"))
        };
        match pair[0].as_str() {
            "--url" => a.url = value,
            "--listen-url" => a.listen_url = Some(value),
            "--analyses" => a.analyses = number("--analyses") as usize,
            "--opportunities" => a.opportunities = number("--opportunities") as usize,
            "--seconds" => a.seconds = number("--seconds"),
            "--rate" => a.rate = number("--rate"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Toasts received: (analysis, badge type) → how many times.
type Toasts = Arc<Mutex<BTreeMap<(String, String), usize>>>;

const RECORD: &str =
    "mutation($input: RecordAnalysisInput!) { recordAnalysis(input: $input) { dashboard { analysisId } } }";
const UPDATE: &str = "mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { status } } }";
const TOASTS: &str = "subscription($id: UUID!, $since: DateTime) {
  badgeAwarded(analysisId: $id, since: $since) { badge { badgeType earnedAt } } }";

#[tokio::main]
async fn main() {
    let a = args();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ids = record_analyses(&http, &a).await;
    let toasts: Toasts = Arc::default();
    let reconnects = Arc::new(AtomicUsize::new(0));
    let last_toast = Arc::new(Mutex::new(Instant::now()));
    let listen_at = a.listen_url.as_deref().unwrap_or(&a.url);
    let ws_url = format!("{}/graphql", listen_at.replacen("http", "ws", 1));
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    for id in &ids {
        tokio::spawn(listen(
            ws_url.clone(),
            id.clone(),
            start,
            toasts.clone(),
            reconnects.clone(),
            last_toast.clone(),
        ));
    }
    let writes = write(&http, &a, &ids).await;
    // late toasts: those of the last writes, and any held back by a fault
    let quiet_since = || last_toast.lock().unwrap().elapsed();
    let waiting = Instant::now();
    while quiet_since() < Duration::from_secs(3) && waiting.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let acked: Vec<(&String, &String, &str)> = writes
        .last_acked
        .iter()
        .map(|((a, o), s)| (a, o, *s))
        .collect();
    let toasts: Vec<(String, String, usize)> = toasts
        .lock()
        .unwrap()
        .iter()
        .map(|((a, b), n)| (a.clone(), b.clone(), *n))
        .collect();
    println!(
        "{}",
        json!({
            "analyses": ids,
            "updates_tried": writes.tried,
            "updates_acked": writes.acked,
            "updates_failed": writes.failed,
            "failure_codes": writes.codes,
            "last_acked": acked,
            "reconnects": reconnects.load(Ordering::Relaxed),
            "toasts": toasts,
        })
    );
    std::process::exit(0);
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
) -> Result<Value, String> {
    let r = http
        .post(format!("{url}/graphql"))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let body: Value = r.json().await.map_err(|e| format!("body: {e}"))?;
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => Err(code.to_owned()),
        None if body.get("errors").is_some() => Err("ERROR".into()),
        None => Ok(body["data"].clone()),
    }
}

/// Analyses of this run's own, recorded before any fault.
async fn record_analyses(http: &reqwest::Client, a: &Args) -> Vec<String> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let opportunities: Vec<Value> = (0..a.opportunities)
        .map(|i| {
            json!({"opportunityId": format!("opp_{i}"), "category": "DIGITAL_PRESENCE",
            "hoursPerWeek": 2 + i, "hoursPerYear": 104 + 52 * i, "complexityLevel": 1 + i % 9})
        })
        .collect();
    let mut ids = Vec::new();
    for i in 0..a.analyses {
        let input = json!({"url": format!("https://toasts-{run}-{i}.example.com"),
            "identity": {"companyName": "Toasts Inc."}, "opportunities": opportunities});
        let d = gql(http, &a.url, RECORD, json!({"input": input}))
            .await
            .expect("recording the analyses (before any fault)");
        ids.push(
            d["recordAnalysis"]["dashboard"]["analysisId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

struct Writes {
    tried: usize,
    acked: usize,
    failed: usize,
    codes: BTreeSet<String>,
    /// The last acknowledged status of each opportunity moved: the database must hold it.
    last_acked: BTreeMap<(String, String), &'static str>,
}

/// Every opportunity to IN_PROGRESS then IMPLEMENTED, at the pace asked, each step retried until
/// acknowledged; stops when the time is up.
async fn write(http: &reqwest::Client, a: &Args, ids: &[String]) -> Writes {
    let mut w = Writes {
        tried: 0,
        acked: 0,
        failed: 0,
        codes: BTreeSet::new(),
        last_acked: BTreeMap::new(),
    };
    let started = Instant::now();
    let mut steps = Vec::new();
    for status in ["IN_PROGRESS", "IMPLEMENTED"] {
        for o in 0..a.opportunities {
            for id in ids {
                steps.push((id.clone(), format!("opp_{o}"), status));
            }
        }
    }
    let interval = Duration::from_secs_f64(1.0 / a.rate);
    let mut next = 0;
    while next < steps.len() && started.elapsed().as_secs_f64() < a.seconds {
        let (id, opp, status) = &steps[next];
        let input = json!({"analysisId": id, "opportunityId": opp, "status": status});
        w.tried += 1;
        match gql(http, &a.url, UPDATE, json!({"input": input})).await {
            Ok(_) => {
                w.acked += 1;
                w.last_acked.insert((id.clone(), opp.clone()), status);
                next += 1;
            }
            Err(code) => {
                w.failed += 1;
                w.codes.insert(code);
            }
        }
        tokio::time::sleep(interval).await;
    }
    w
}

/// One analysis' toasts, reconnecting with `since` whenever the socket or subscription ends.
async fn listen(
    ws_url: String,
    id: String,
    start: chrono::DateTime<chrono::Utc>,
    toasts: Toasts,
    reconnects: Arc<AtomicUsize>,
    last_toast: Arc<Mutex<Instant>>,
) {
    let mut since = start;
    let mut first = true;
    loop {
        if !first {
            reconnects.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        first = false;
        let mut req = ws_url.clone().into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(req).await else {
            continue;
        };
        let init = json!({"type": "connection_init"}).to_string();
        if ws.send(Message::Text(init.into())).await.is_err() {
            continue;
        }
        while let Some(Ok(m)) = ws.next().await {
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(&t).unwrap_or_default();
            match v["type"].as_str() {
                Some("connection_ack") => {
                    let subscribe = json!({"id": "t", "type": "subscribe", "payload": {
                        "query": TOASTS, "variables": {"id": id, "since": since}}});
                    if ws
                        .send(Message::Text(subscribe.to_string().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Some("ping") => {
                    let _ = ws.send(Message::Text(r#"{"type":"pong"}"#.into())).await;
                }
                Some("next") => {
                    let badge = &v["payload"]["data"]["badgeAwarded"]["badge"];
                    let (Some(kind), Some(at)) =
                        (badge["badgeType"].as_str(), badge["earnedAt"].as_str())
                    else {
                        // an error item (SUBSCRIBER_LAGGED: toasts were dropped for this
                        // socket): start again from `since`, as a front end would
                        break;
                    };
                    *toasts
                        .lock()
                        .unwrap()
                        .entry((id.clone(), kind.to_owned()))
                        .or_default() += 1;
                    *last_toast.lock().unwrap() = Instant::now();
                    if let Ok(at) = at.parse::<chrono::DateTime<chrono::Utc>>() {
                        since = since.max(at);
                    }
                }
                // the subscription ended (an error, or complete): start again from `since`
                Some("error" | "complete") => break,
                _ => {}
            }
        }
    }
}
