//! Reads and writes together, open loop (`bench/mix.sh`): requests are sent on a fixed schedule at
//! RATE a second whatever the server's answers, a SHARE of them `updateProgress` (an opportunity
//! of one of the write ids moved between NOT_STARTED and IN_PROGRESS, so every one is a real
//! change) and the rest the dashboard of one of the read ids. A request's latency is counted from
//! the moment it was due, not from when it went out, so a server that falls behind is seen to.
//! Every answer is checked: a status other than 200, or GraphQL `errors`, is a failure.
//!
//! Prints one JSON object: the rate asked and achieved, and per kind the count, failures and
//! latency percentiles in ms.
//!
//! cargo run --release --example mix -- --url http://127.0.0.1:8000/graphql --rate 2000
//!     --share 0.1 --seconds 20 --reads ID,ID,... --writes ID,ID,... [--connections 64]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Args {
    url: String,
    rate: f64,
    share: f64,
    seconds: f64,
    connections: usize,
    reads: Vec<String>,
    writes: Vec<String>,
    opportunity: String,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8000/graphql".into(),
        rate: 2000.0,
        share: 0.1,
        seconds: 20.0,
        connections: 64,
        reads: Vec::new(),
        writes: Vec::new(),
        opportunity: "business_management".into(),
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for pair in v.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        let number = |flag: &str| -> f64 {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{flag} takes a number"))
        };
        let list = || value.split(',').map(str::to_owned).collect::<Vec<_>>();
        match pair[0].as_str() {
            "--url" => a.url = value.clone(),
            "--rate" => a.rate = number("--rate"),
            "--share" => a.share = number("--share"),
            "--seconds" => a.seconds = number("--seconds"),
            "--connections" => a.connections = number("--connections") as usize,
            "--reads" => a.reads = list(),
            "--writes" => a.writes = list(),
            "--opportunity" => a.opportunity = value.clone(),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !a.reads.is_empty() && !a.writes.is_empty(),
        "--reads and --writes take ids"
    );
    a
}

const DASHBOARD: &str = "query Dash($id: UUID!) { dashboard(analysisId: $id) { id url opportunities { opportunityId status } progressSummary { inProgress implemented completionPercentage } badges { badgeType } achievements { badge { slug } progressPercentage nextMilestone } metrics { timeSaved { implementedWeekly } } } }";
const UPDATE: &str = "mutation Move($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { status } progressSummary { inProgress } newBadges { badgeType } } }";

#[derive(Default)]
struct Kind {
    latencies_us: Vec<u64>,
    failures: usize,
    first_failure: Option<String>,
}

fn percentiles(mut v: Vec<u64>) -> Value {
    v.sort_unstable();
    let at = |p: f64| -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        v[i] as f64 / 1000.0
    };
    json!({"p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": at(1.0)})
}

#[tokio::main]
async fn main() {
    let a = Arc::new(args());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.connections)
        .tcp_nodelay(true)
        .build()
        .unwrap();
    // each write id alternates its status, so that every update is a move
    let statuses: Arc<Vec<Mutex<bool>>> =
        Arc::new(a.writes.iter().map(|_| Mutex::new(false)).collect());
    let kinds = Arc::new([Mutex::new(Kind::default()), Mutex::new(Kind::default())]);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(a.connections));
    let total = (a.rate * a.seconds) as usize;
    let every = Duration::from_secs_f64(1.0 / a.rate);
    let writes_every = (1.0 / a.share).round().max(1.0) as usize;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = started + every * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (a, client, statuses, kinds, in_flight, next) = (
            a.clone(),
            client.clone(),
            statuses.clone(),
            kinds.clone(),
            in_flight.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // at most `connections` at once, as a pool of connections would; the wait counts
            let _slot = in_flight.acquire().await.unwrap();
            let n = next.fetch_add(1, Ordering::Relaxed);
            let write = i % writes_every == 0;
            let body = if write {
                let w = (n / writes_every) % a.writes.len();
                let mut moved = statuses[w].lock().unwrap();
                *moved = !*moved;
                let status = if *moved { "IN_PROGRESS" } else { "NOT_STARTED" };
                json!({"query": UPDATE, "operationName": "Move", "variables": {"input": {
                    "analysisId": a.writes[w], "opportunityId": a.opportunity, "status": status}}})
            } else {
                let id = &a.reads[n % a.reads.len()];
                json!({"query": DASHBOARD, "operationName": "Dash", "variables": {"id": id}})
            };
            let result = client.post(&a.url).json(&body).send().await;
            let outcome = match result {
                Ok(r) if r.status() == 200 => match r.json::<Value>().await {
                    Ok(v) if v.get("errors").is_none() => Ok(()),
                    Ok(v) => Err(v["errors"][0]["message"].to_string()),
                    Err(e) => Err(e.to_string()),
                },
                Ok(r) => Err(format!("status {}", r.status())),
                Err(e) => Err(e.to_string()),
            };
            let took = due.elapsed().as_micros() as u64;
            let mut k = kinds[usize::from(write)].lock().unwrap();
            match outcome {
                Ok(()) => k.latencies_us.push(took),
                Err(e) => {
                    k.failures += 1;
                    k.first_failure.get_or_insert(e);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let report = |k: &Mutex<Kind>| {
        let k = std::mem::take(&mut *k.lock().unwrap());
        let mut r = percentiles(k.latencies_us.clone());
        r["requests"] = json!(k.latencies_us.len() + k.failures);
        r["failures"] = json!(k.failures);
        r["first_failure"] = json!(k.first_failure);
        r
    };
    println!(
        "{}",
        json!({
            "rate": a.rate,
            "share": a.share,
            "achieved_rps": total as f64 / seconds,
            "seconds": seconds,
            "reads": report(&kinds[0]),
            "writes": report(&kinds[1]),
        })
    );
}
