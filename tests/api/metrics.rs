//! `/metrics` of the shipped binary (its own process, so its own recorder): after a scenario
//! through HTTP, WebSocket, Redis, reports and email, every series is there with the values the
//! scenario made.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;
use crate::ws_client::*;

/// One sample of the exposition text: the name, its labels and its value.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let (name, labels) = match series.split_once('{') {
                None => (series, ""),
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
            };
            let labels = labels
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include `labels`; `None` when there is none.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<f64> = samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

async fn scrape(url: &str) -> Vec<Sample> {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    parse(&r.text().await.unwrap())
}

async fn post(base: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const NAMED_DASHBOARD: &str =
    "query Dash($id: UUID!) { dashboard(analysisId: $id) { analysisId progressSummary { implemented } } }";
const NAMED_UPDATE: &str = "mutation Move($input: UpdateProgressInput!) {
  updateProgress(input: $input) { newBadges { badgeType } } }";
const SUBSCRIBE: &str = "mutation Sub($input: SubscribeToReportsInput!) {
  subscribeToReports(input: $input) { id } }";
const BADGES: &str =
    "subscription Toasts($id: UUID!) { badgeAwarded(analysisId: $id) { badge { badgeType } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_counts_what_the_scenario_did() {
    let db = TestDb::new().await;
    let smtp = SmtpSink::start().await;
    let prefix = format!("pd-test-metrics-{}:", uuid::Uuid::new_v4().simple());
    let (_server, base) = spawn_binary(
        &db,
        &[
            ("REDIS_URL", &redis_url()),
            ("REDIS_PREFIX", &prefix),
            ("SMTP_URL", &smtp.url()),
            ("REPORT_TOKEN_SECRET", "metrics test secret"),
            ("REPORTS_PER_CLIENT_PER_MINUTE", "1"),
        ],
    )
    .await;

    let recorded = post(
        &base,
        json!({"query": RECORD, "variables": {"input": analysis_input("https://metrics.example.com", EXAMPLE)}}),
    )
    .await;
    let id = recorded["data"]["recordAnalysis"]["dashboard"]["analysisId"]
        .as_str()
        .unwrap_or_else(|| panic!("{recorded}"))
        .to_owned();

    // the look-up before an analysis: a hit, then a miss (the record above was one too)
    for url in [
        "https://www.metrics.example.com/",
        "https://unknown.example.com",
    ] {
        let look = json!({"query": "query($u: String!) { recentAnalysis(url: $u) { analysisId } }", "variables": {"u": url}});
        let r = post(&base, look).await;
        assert!(r.get("errors").is_none(), "{r}");
    }

    let mut ws = WsClient::ready(&base, TRANSPORT_WS).await;
    ws.subscribe("t", BADGES, json!({"id": id})).await;
    eventually_async("the subscription is live", || async {
        value(
            &scrape(&format!("{base}/metrics")).await,
            "subscriptions_active",
            &[("kind", "badge_awarded")],
        ) == Some(1.0)
    })
    .await;

    for _ in 0..3 {
        let r = post(
            &base,
            json!({"query": NAMED_DASHBOARD, "variables": {"id": id}}),
        )
        .await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    let unknown = json!({"id": uuid::Uuid::new_v4()});
    post(
        &base,
        json!({"query": NAMED_DASHBOARD, "variables": unknown}),
    )
    .await;
    let mut awarded = 0;
    for status in ["IN_PROGRESS", "IMPLEMENTED"] {
        let input =
            json!({"analysisId": id, "opportunityId": "business_management", "status": status});
        let r = post(
            &base,
            json!({"query": NAMED_UPDATE, "variables": {"input": input}}),
        )
        .await;
        awarded += r["data"]["updateProgress"]["newBadges"]
            .as_array()
            .unwrap()
            .len();
    }
    assert!(awarded >= 1);
    for _ in 0..awarded {
        assert!(matches!(
            ws.next("t", Duration::from_secs(10)).await,
            Some(Received::Data(_))
        ));
    }
    let input = json!({"analysisId": id, "email": "ops@example.com", "frequency": "WEEKLY"});
    let r = post(
        &base,
        json!({"query": SUBSCRIBE, "variables": {"input": input}}),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let client = reqwest::Client::new();
    // the second is another document (a cached one would not be rendered or limited)
    for (lang, expected) in [("fr", 200), ("en", 429)] {
        let r = client
            .get(format!("{base}/reports/{id}?format=html&lang={lang}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
    }

    let m = scrape(&format!("{base}/metrics")).await;
    let v = |name: &str, labels: &[(&str, &str)]| value(&m, name, labels);
    let dash = [("operation", "Dash"), ("kind", "query")];
    assert_eq!(
        v(
            "graphql_requests_total",
            &[dash[0], dash[1], ("code", "ok")]
        ),
        Some(3.0)
    );
    assert_eq!(
        v(
            "graphql_requests_total",
            &[dash[0], ("code", "ANALYSIS_NOT_FOUND")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("graphql_request_duration_seconds_count", &dash),
        Some(4.0)
    );
    assert_eq!(
        v(
            "graphql_requests_total",
            &[("operation", "Move"), ("kind", "mutation")]
        ),
        Some(2.0)
    );
    assert_eq!(
        v(
            "graphql_requests_total",
            &[("operation", "Toasts"), ("kind", "subscription")]
        ),
        Some(1.0)
    );
    // an unnamed operation is `other`
    assert_eq!(
        v(
            "graphql_requests_total",
            &[("operation", "other"), ("kind", "mutation")]
        ),
        Some(1.0)
    );
    // every POST above (the scrapes are GETs of another route)
    assert_eq!(
        v(
            "http_requests_total",
            &[("route", "/graphql"), ("status", "200")]
        ),
        Some(10.0)
    );
    assert_eq!(
        v(
            "http_requests_total",
            &[("route", "/reports/{analysis_id}"), ("status", "429")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("rate_limited_total", &[("scope", "report_client")]),
        Some(1.0)
    );
    assert_eq!(v("report_renders_total", &[("format", "html")]), Some(1.0));
    assert_eq!(
        v("report_render_seconds_count", &[("format", "html")]),
        Some(1.0)
    );
    assert_eq!(
        v(
            "email_sends_total",
            &[("kind", "confirmation"), ("outcome", "sent")]
        ),
        Some(1.0)
    );
    assert_eq!(smtp.count(), 1);
    assert_eq!(v("badge_awards_total", &[]), Some(awarded as f64));
    assert_eq!(v("dedup_lookups_total", &[("result", "hit")]), Some(1.0));
    assert_eq!(v("dedup_lookups_total", &[("result", "miss")]), Some(2.0));
    assert_eq!(
        v("events_published_total", &[("kind", "badge_awarded")]),
        Some(awarded as f64)
    );
    assert_eq!(
        v("events_delivered_total", &[("kind", "badge_awarded")]),
        Some(awarded as f64)
    );
    assert_eq!(
        v("event_fanout_seconds_count", &[]),
        v("events_delivered_total", &[])
    );
    assert_eq!(
        v("events_lagged_total", &[]),
        Some(0.0),
        "nobody lagged: the series is there from the start, at zero"
    );
    assert_eq!(v("websocket_connections", &[]), Some(1.0));
    // the toast subscription runs shared (of one member here)
    assert_eq!(v("subscription_shared_runs", &[]), Some(1.0));
    assert_eq!(v("cache_redis_up", &[]), Some(1.0));
    // the same counters as serviceStats: hits here are hits there
    let stats = post(
        &base,
        json!({"query": "{ serviceStats { cache { hits misses } } }"}),
    )
    .await;
    let hits = stats["data"]["serviceStats"]["cache"]["hits"]
        .as_f64()
        .unwrap();
    assert!(hits >= 3.0, "{stats}");
    assert_eq!(
        v(
            "cache_requests_total",
            &[("tier", "redis"), ("result", "hit")]
        ),
        Some(hits)
    );
    assert!(v(
        "cache_requests_total",
        &[("tier", "redis"), ("result", "miss")]
    )
    .is_some());
    assert!(v("answers_requests_total", &[("result", "miss")]).is_some());
    assert!(v("db_pool_connections", &[("state", "idle")]).is_some());
    assert!(v("db_pool_wait_seconds_count", &[]).unwrap() >= 1.0);
    assert!(v("outbox_pending", &[]).is_some() && v("outbox_oldest_seconds", &[]).is_some());
    // the business series: two moves, one implementation (business_management, 2 h a week)
    assert_eq!(
        v("opportunity_moves_total", &[("to", "IN_PROGRESS")]),
        Some(1.0)
    );
    assert_eq!(
        v("opportunity_moves_total", &[("to", "IMPLEMENTED")]),
        Some(1.0)
    );
    assert_eq!(
        v(
            "saved_time_per_week_seconds_total",
            &[("direction", "gained")]
        ),
        Some(2.0 * 3600.0)
    );
    assert_eq!(
        v("build_info", &[("version", env!("CARGO_PKG_VERSION"))]),
        Some(1.0)
    );

    // Prometheus's own linter has nothing to say of the exposition
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (ok, said) = promtool(&["check", "metrics"], Some(&text));
    assert!(
        ok && said.trim().is_empty(),
        "promtool check metrics:\n{said}"
    );
    // and the Grafana dashboards ask only for series that exist, in PromQL that parses
    let exported: std::collections::BTreeSet<&str> = m.iter().map(|s| s.name.as_str()).collect();
    crate::monitoring::dashboards_use_only(&exported);
}

/// Runs promtool (Debian's `prometheus` package; scripts/ensure-test-tools.sh installs it) with
/// `input` on its standard input: whether it succeeded, and what it said.
pub fn promtool(args: &[&str], input: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package) must be installed: scripts/ensure-test-tools.sh");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(input.unwrap_or_default().as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_addr_moves_metrics_off_the_public_port() {
    let db = TestDb::new().await;
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (_server, base) = spawn_binary(&db, &[("METRICS_ADDR", &addr.to_string())]).await;
    let public = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
    eventually_async("metrics answer on METRICS_ADDR", || async {
        match reqwest::get(format!("http://{addr}/metrics")).await {
            Ok(r) => r.status() == 200,
            Err(_) => false,
        }
    })
    .await;
}

/// A server that has done nothing yet exports every series it can have, at zero, with each known
/// label value: `rate(...)` over them is a flat line from start-up, not nothing then a jump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_exports_every_series_at_zero() {
    let db = TestDb::new().await;
    let (_server, base) = spawn_binary(&db, &[]).await;
    let url = format!("{base}/metrics");
    // the catalog's badges come a moment after start (read from the database)
    eventually_async("the badge series are exported", || async {
        value(
            &scrape(&url).await,
            "badge_awards_total",
            &[("badge", "streak_master")],
        )
        .is_some()
    })
    .await;
    let samples = scrape(&url).await;
    let zero = |name: &str, labels: &[(&str, &str)]| {
        assert_eq!(
            value(&samples, name, labels),
            Some(0.0),
            "{name} {labels:?}"
        );
    };
    for kind in ["badge_awarded", "kpi_updated", "sessions_revoked"] {
        zero("events_published_total", &[("kind", kind)]);
        zero("events_delivered_total", &[("kind", kind)]);
    }
    for kind in ["report", "confirmation"] {
        for outcome in ["sent", "failed"] {
            zero("email_sends_total", &[("kind", kind), ("outcome", outcome)]);
        }
    }
    for scope in [
        "request",
        "report_client",
        "report_analysis",
        "confirmation_address",
        "confirmation_caller",
    ] {
        zero("rate_limited_total", &[("scope", scope)]);
    }
    for format in ["pdf", "html", "email"] {
        zero("report_renders_total", &[("format", format)]);
        zero("report_render_seconds_count", &[("format", format)]);
    }
    for badge in [
        "first_step",
        "quick_win",
        "time_saver",
        "efficiency_expert",
        "streak_master",
    ] {
        zero("badge_awards_total", &[("badge", badge)]);
    }
    zero("dedup_lookups_total", &[("result", "hit")]);
    zero("dedup_lookups_total", &[("result", "miss")]);
    zero("events_lagged_total", &[]);
    zero("event_fanout_seconds_count", &[]);
    zero("subscription_shared_runs", &[]);
}
