//! Sends generated requests (tests/api/fuzz_gen.rs: GraphQL over POST, GET and WebSocket, and
//! the REST endpoints, with hostile text from the whole of Unicode) to a running server and
//! counts what comes back: any 5xx, a body that is not JSON, an error without a code or with
//! `INTERNAL`, a WebSocket closed as an internal error, or a dropped connection is a failure. Prints a progress line and, last, one `JSON {...}` line.
//!   fuzz --url http://127.0.0.1:18080 [--cases N] [--seed S] [--concurrency C]

#[path = "../tests/api/fuzz_gen.rs"]
mod fuzz_gen;

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt;
use fuzz_gen::Generator;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = arg(&args, "--url", "http://127.0.0.1:18080");
    let cases: usize = arg(&args, "--cases", "100000").parse().expect("--cases N");
    let seed: u64 = arg(&args, "--seed", "1").parse().expect("--seed S");
    let concurrency: usize = arg(&args, "--concurrency", "16")
        .parse()
        .expect("--concurrency C");
    let client = reqwest::Client::new();
    let mut generator = Generator::new(seed);
    let started = Instant::now();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut failures, mut internal, mut transport) = (0u64, 0u64, 0u64);
    let mut by_transport: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_failures: Vec<String> = Vec::new();
    let mut done = 0usize;
    let requests = std::iter::from_fn(|| Some(generator.case()))
        .take(cases)
        .map(|case| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let kind = format!("{:?}", case.transport).to_lowercase();
                let outcome = case.run(&client, &base).await;
                let status = match &outcome {
                    Err(e) if e.starts_with("transport") => None,
                    Ok(s) => Some(*s),
                    Err(_) => Some(0),
                };
                (kind, status, outcome.map(|_| ()))
            }
        });
    let mut results = futures_util::stream::iter(requests).buffer_unordered(concurrency);
    while let Some((kind, status, verdict)) = results.next().await {
        done += 1;
        *by_transport.entry(kind).or_default() += 1;
        match status {
            Some(s) => *statuses.entry(s).or_default() += 1,
            None => transport += 1,
        }
        if let Err(e) = verdict {
            failures += 1;
            internal += u64::from(e.starts_with("INTERNAL") || e.starts_with("closed with 1011"));
            if first_failures.len() < 5 {
                first_failures.push(e);
            }
        }
        if done.is_multiple_of(10_000) {
            eprintln!(
                "{done}/{cases} cases, {failures} failures, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    for f in &first_failures {
        eprintln!("FAILURE {f}");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "JSON {}",
        serde_json::json!({
            "cases": done, "seed": seed, "concurrency": concurrency, "seconds": (seconds * 10.0).round() / 10.0,
            "cases_per_second": (done as f64 / seconds).round(),
            "failures": failures, "internal": internal, "transport_errors": transport,
            "statuses": statuses, "transports": by_transport,
        })
    );
}
