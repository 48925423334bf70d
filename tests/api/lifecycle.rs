//! Readiness per dependency, and what SIGTERM does: `/ready` at 503 at once, WebSocket clients
//! sent 1001, requests still answered while draining, then the outbox flushed before exit.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::ws_client::*;

/// Runs `during` while PostgreSQL refuses the app's database (new connections, and the open ones
/// terminated), then lets connections in again.
async fn with_database_refused<T>(
    app: &TestApp,
    during: impl std::future::Future<Output = T>,
) -> T {
    use diesel_async::AsyncConnection;
    let name = app.db.url.rsplit('/').next().unwrap().to_owned();
    let mut admin = diesel_async::AsyncPgConnection::establish(&admin_url())
        .await
        .unwrap();
    let allow = |on: bool| format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {on}");
    exec_on(&mut admin, &allow(false)).await;
    let terminate =
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    exec_on(&mut admin, &terminate).await;
    let out = during.await;
    exec_on(&mut admin, &allow(true)).await;
    out
}

async fn ready(base: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{base}/ready")).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn ready_reports_each_dependency() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let app = TestApp::spawn_with(|c| {
        c.redis.url = Some(url.into());
        c.redis.prefix = format!("pd-test-ready-{}:", uuid::Uuid::new_v4().simple());
    })
    .await;
    let (status, body) = ready(&app.base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"status": "ready", "database": "ok", "redis": "ok", "replica": "not configured"})
    );

    // Redis away: still ready (reads go to PostgreSQL), said to be degraded
    redis.stop();
    let (status, body) = ready(&app.base).await;
    assert_eq!(
        (status, &body["status"], &body["redis"]),
        (200, &json!("degraded"), &json!("degraded"))
    );
    redis.restart();
    eventually_async("Redis is ok again", || async {
        ready(&app.base).await.1["redis"] == "ok"
    })
    .await;

    // PostgreSQL refusing this database: not ready
    let (status, body) = with_database_refused(&app, ready(&app.base)).await;
    assert_eq!(
        (status, &body["status"]),
        (503, &json!("unavailable")),
        "{body}"
    );
    assert_ne!(body["database"], "ok");
    eventually_async("PostgreSQL is ok again", || async {
        ready(&app.base).await.0 == 200
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_closes_sockets_with_1001_and_flushes_the_outbox() {
    let db = TestDb::new().await;
    // the relay's own sweeps far apart: only the flush at exit can publish the row below
    let (mut child, base) = spawn_binary(
        &db,
        &[("SHUTDOWN_DRAIN_MS", "1500"), ("OUTBOX_RELAY_MS", "600000")],
    )
    .await;
    let client = reqwest::Client::new();
    let post = |query: &str, variables: Value| {
        let r = client
            .post(format!("{base}/graphql"))
            .json(&json!({"query": query, "variables": variables}));
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let recorded = post(
        RECORD,
        json!({"input": analysis_input("https://stop.example.com", EXAMPLE)}),
    )
    .await;
    let id = recorded["data"]["recordAnalysis"]["dashboard"]["analysisId"]
        .as_str()
        .unwrap()
        .to_owned();
    // an event committed but not yet published (as if its publication had failed)
    sql(
        &db,
        &format!("INSERT INTO event_outbox (analysis_id, payload) VALUES ('{id}', '{{}}')"),
    )
    .await;
    let mut ws = WsClient::ready(&base, TRANSPORT_WS).await;
    ws.subscribe(
        "k",
        "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { analysisId } }",
        json!({"id": id}),
    )
    .await;

    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    // at once: the socket is told to go elsewhere, and readiness is withdrawn
    let closed = ws.next("k", Duration::from_secs(1)).await;
    assert!(
        matches!(closed, Some(Received::Closed(Some(1001)))),
        "{closed:?}"
    );
    let (status, body) = ready(&base).await;
    assert_eq!(
        (status, &body["status"]),
        (503, &json!("stopping")),
        "{body}"
    );
    // a new socket is told the same at once (a refused handshake would be fatal to graphql-ws)
    let mut late = WsClient::connect(&base, TRANSPORT_WS).await;
    assert_eq!(late.closed_with(Duration::from_secs(2)).await, Some(1001));
    // while draining, requests are still answered
    let r = post(&DASHBOARD, json!({"id": id})).await;
    assert_eq!(r["data"]["dashboard"]["analysisId"], json!(id), "{r}");

    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("stops after the drain")
        .unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(
        db.count("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
            .await,
        0
    );
}

/// PostgreSQL away: a read that needs it is refused at once with a retryable code, and the
/// service is back as soon as PostgreSQL is.
#[tokio::test]
async fn requests_fail_fast_and_retryably_while_postgres_is_away() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let unknown = json!({"id": uuid::Uuid::new_v4()});
    let error = with_database_refused(&app, app.error(&DASHBOARD, unknown)).await;
    assert_eq!(
        error["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{error}"
    );
    assert_eq!(error["extensions"]["retryAfter"], 1);
    eventually_async("reads work again", || async {
        app.gql(&DASHBOARD, json!({"id": id}))
            .await
            .get("errors")
            .is_none()
    })
    .await;
}
