use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn health_ready_and_request_ids() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(format!("{}/ready", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert!(!r.headers()["x-request-id"].is_empty());

    // the id the client sent is the one in the error
    let r = post_with_id(&app.client, &app.base, "trace-me", "{ nope }").await;
    assert_eq!(r["errors"][0]["extensions"]["requestId"], "trace-me");
}

#[tokio::test]
async fn not_ready_without_a_database() {
    let app = TestApp::spawn_with(|c| {
        c.database.url = "postgres://postgres@127.0.0.1:1/nowhere".into();
        c.database.connect_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let r = app
        .client
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let e = app
        .error(
            &DASHBOARD,
            json!({"id": "550e8400-e29b-41d4-a716-446655440000"}),
        )
        .await;
    // retryable, and nothing of the connection string in it
    assert_eq!(e["extensions"]["code"], "SERVICE_UNAVAILABLE");
    assert!(!e.to_string().contains("127.0.0.1"));
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_query("{ badgeCatalog { slug } }", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["badgeCatalog"][0]["slug"], "first_step");

    let m = "mutation { updateProgress(input: {analysisId: \"550e8400-e29b-41d4-a716-446655440000\", opportunityId: \"x\", status: IMPLEMENTED}) { newBadges { id } } }";
    let (status, body) = app.get_query(m, None).await;
    assert_eq!(status, 405);
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");

    let (status, body) = app
        .post_raw(Some("application/json"), b"{not json".to_vec())
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
}

#[tokio::test]
async fn playground_has_an_example_for_every_operation() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let page = r.text().await.unwrap();
    assert!(page.contains("/graphql") && page.contains("playground.js"));
    // nothing is loaded from another host (an example's data holds a URL, no element does)
    for element in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!page.contains(element), "{element}");
    }
    for op in [
        "dashboard(analysisId",
        "dashboards(analysisIds",
        "badgeCatalog {",
        "recordAnalysis(input",
        "updateProgress(input",
    ] {
        assert!(page.contains(op), "no example for {op}");
    }
}

/// Every example in the playground runs as written against a seeded database: queries and
/// mutations over HTTP, subscriptions over WebSocket.
#[tokio::test]
async fn playground_examples_run() {
    use crate::ws_client::{WsClient, TRANSPORT_WS};
    let app = TestApp::spawn_with(|c| {
        c.live.platform_kpi_tick = Some(std::time::Duration::from_millis(100))
    })
    .await;
    {
        let mut conn = app.db.conn().await;
        progress_dashboard::service::seed::seed_demo(&mut conn, 0, t0())
            .await
            .unwrap();
    }
    let examples: Vec<Value> =
        serde_json::from_str(include_str!("../../playground/examples.json")).unwrap();
    let mut ws = WsClient::ready(&app.base, TRANSPORT_WS).await;
    let (mut operations, mut subscriptions) = (0, 0);
    for e in &examples {
        let query = e["query"].as_str().unwrap();
        let variables = e.get("variables").cloned().unwrap_or(json!({}));
        if !query.contains("subscription ") {
            let r = app.gql(query, variables).await;
            assert!(
                r.get("errors").is_none(),
                "example {} failed: {r:#}",
                e["title"]
            );
            operations += 1;
            continue;
        }
        let id = e["title"].as_str().unwrap();
        ws.subscribe(id, query, variables).await;
        if id == "KpiUpdates" {
            // it speaks after a change, once it listens
            let counts = &app.app.services.state.counts;
            eventually("the kpiUpdated subscriber", || {
                counts
                    .kpi_updated
                    .load(std::sync::atomic::Ordering::Relaxed)
                    == 1
            })
            .await;
            app.advance(
                &progress_dashboard::service::seed::EXAMPLE_ANALYSIS_ID.to_string(),
                "business_management",
                "IMPLEMENTED",
            )
            .await;
        }
        let data = ws.data(id).await;
        assert!(
            data.as_object().is_some_and(|o| !o.is_empty()),
            "{id}: {data}"
        );
        subscriptions += 1;
    }
    assert_eq!((operations, subscriptions), (8, 3));
    let page = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("subscription BadgeToasts"));
}

/// The playground's files come from this server: under a path naming their content, cached for
/// good, gzipped for clients that take it and plain for the others; any other path is a 404.
#[tokio::test]
async fn playground_files_are_served_from_here() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    let script = page
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a script element");
    assert!(script.starts_with("/playground/") && script.ends_with("/playground.js"));
    let url = format!("{}{script}", app.base);

    let gz = app
        .client
        .get(&url)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status(), 200);
    let h = gz.headers();
    assert_eq!(h["content-encoding"], "gzip");
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let zipped = gz.bytes().await.unwrap();
    assert_eq!(&zipped[..2], &[0x1f, 0x8b]);

    let plain = app.client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(
        plain.len() > zipped.len() * 2,
        "{} {}",
        plain.len(),
        zipped.len()
    );
    assert!(std::str::from_utf8(&plain).is_ok());

    for missing in [
        url.replace("playground.js", "nothing.js"),
        format!("{}/playground/0000/playground.js", app.base),
    ] {
        let r = app.client.get(&missing).send().await.unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }
}

#[tokio::test]
async fn a_burst_of_connections_waits_in_the_accept_queue() {
    // A listener nobody accepts on: every connect that completes sits in the accept queue. With
    // the default queue (128) the rest lose their SYN and retry a second later; ours holds them.
    let app = TestApp::spawn().await;
    let listener = progress_dashboard::startup::bind(&app.app.config)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let burst = 600;
    let connects = (0..burst).map(|_| {
        tokio::time::timeout(
            std::time::Duration::from_millis(800),
            tokio::net::TcpStream::connect(addr),
        )
    });
    let results = futures_util::future::join_all(connects).await;
    let connected: Vec<_> = results.into_iter().filter_map(|r| r.ok()?.ok()).collect();
    assert_eq!(
        connected.len(),
        burst,
        "connections dropped by a full accept queue"
    );
}
