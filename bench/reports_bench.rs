//! Email reports bench: N due subscriptions rendered and delivered to a local SMTP sink by one
//! `send_due` pass. Prints a table and JSON.
//!
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/pd_bench \
//!     cargo run --release --example reports_bench -- --count 10000

// Shared with the tests, which use more of it.
#[allow(dead_code)]
#[path = "../tests/api/smtp_sink.rs"]
mod smtp_sink;

use std::sync::Arc;
use std::time::Instant;

use diesel_async::SimpleAsyncConnection;
use progress_dashboard::clock::{Clock, SystemClock};
use progress_dashboard::config::Config;
use progress_dashboard::db;
use progress_dashboard::startup;
use serde_json::json;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args
        .iter()
        .position(|a| a == "--count")
        .and_then(|i| args.get(i + 1))
        .map_or(10_000, |n| n.parse().expect("--count N"));
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/pd_bench".into());
    let sink = smtp_sink::SmtpSink::start().await;

    let mut config = Config::for_database(&url);
    config.database.migrate_on_start = true;
    config.reports.smtp_url = Some(sink.url().into());
    config.database.pool_size = 16;
    let app = startup::build(config, Arc::new(SystemClock))
        .await
        .expect("app");
    let mut conn = db::pool::establish(&url, 0).await.unwrap();
    progress_dashboard::service::seed::seed_demo(&mut conn, 50, SystemClock.now())
        .await
        .unwrap();
    conn.batch_execute(&format!(
        "DELETE FROM email_subscriptions WHERE email LIKE 'bench-%@example.com';
         INSERT INTO email_subscriptions (id, analysis_id, email, frequency, hourly_rate, created_at, confirmed_at)
         SELECT gen_random_uuid(), a.id, 'bench-' || i || '@example.com',
                CASE WHEN i % 2 = 0 THEN 'weekly' ELSE 'monthly' END, 40 + i % 100,
                now() - interval '40 days', now() - interval '40 days'
           FROM generate_series(1, {count}) AS i
           JOIN LATERAL (SELECT id FROM analyses ORDER BY id OFFSET (i % 50) LIMIT 1) a ON true;"
    ))
    .await
    .unwrap();

    let started = Instant::now();
    let summary =
        progress_dashboard::service::reports::send_due(&app.services, SystemClock.now(), |_| {})
            .await
            .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let received = sink.count();
    conn.batch_execute("DELETE FROM email_subscriptions WHERE email LIKE 'bench-%@example.com'")
        .await
        .unwrap();

    println!("| due | sent | failed | received by the sink | seconds | reports/s |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {received} | {secs:.1} | {:.0} |",
        summary.claimed,
        summary.sent,
        summary.failed,
        summary.sent as f64 / secs
    );
    println!(
        "JSON {}",
        json!({"due": summary.claimed, "sent": summary.sent, "failed": summary.failed,
        "received": received, "seconds": secs, "per_second": summary.sent as f64 / secs})
    );
    std::process::exit(0);
}
