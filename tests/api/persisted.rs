//! Persisted documents: Apollo's automatic persisted queries over POST, GET and WebSocket (shared
//! between instances through Redis), and trusted-documents mode.

use std::time::Duration;

use progress_dashboard::config::Config;
use progress_dashboard::domain::persisted::{document_id, manifest_json};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ws_client::{Received, WsClient, LEGACY_WS, TRANSPORT_WS};

const CATALOG: &str = "query Catalog { badgeCatalog { slug points } }";

fn hash_only(hash: &str) -> Value {
    json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}})
}

fn with_document(query: &str, hash: &str) -> Value {
    let mut body = hash_only(hash);
    body["query"] = query.into();
    body
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

/// GET /graphql with only the hash in `extensions` (as a CDN-cacheable URL).
async fn get_by_hash(app: &TestApp, hash: &str) -> (u16, Value) {
    let extensions = hash_only(hash)["extensions"].to_string();
    let r = app
        .client
        .get(app.graphql_url())
        .query(&[("operationName", "Catalog"), ("extensions", &extensions)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn apq_misses_then_registers_then_runs_by_hash() {
    let app = TestApp::spawn().await;
    let hash = document_id(CATALOG);

    let (status, miss) = app.post_json(&hash_only(&hash)).await;
    assert_eq!(status, 200, "{miss}");
    assert_eq!(code(&miss), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(miss.get("data").is_none(), "{miss}");
    let (_, miss) = get_by_hash(&app, &hash).await;
    assert_eq!(code(&miss), "PERSISTED_QUERY_NOT_FOUND");

    // the hash is checked against the text, and a mismatch registers nothing
    let (_, wrong) = app
        .post_json(&with_document("{ badgeCatalog { slug } }", &hash))
        .await;
    assert_eq!(code(&wrong), "INVALID_INPUT", "{wrong}");
    let (_, still) = app.post_json(&hash_only(&hash)).await;
    assert_eq!(code(&still), "PERSISTED_QUERY_NOT_FOUND");

    let (_, first) = app.post_json(&with_document(CATALOG, &hash)).await;
    assert_eq!(
        first["data"]["badgeCatalog"][0]["slug"], "first_step",
        "{first}"
    );
    for _ in 0..2 {
        let (status, by_hash) = get_by_hash(&app, &hash).await;
        assert_eq!(
            (status, &by_hash["data"]),
            (200, &first["data"]),
            "{by_hash}"
        );
        let (_, posted) = app.post_json(&hash_only(&hash)).await;
        assert_eq!(posted["data"], first["data"]);
    }

    // a malformed extension is a client error, never a miss
    for extension in [
        json!({"persistedQuery": {"version": 2, "sha256Hash": hash}}),
        json!({"persistedQuery": {"version": 1, "sha256Hash": "abc"}}),
        json!({"persistedQuery": "x"}),
    ] {
        let (_, r) = app.post_json(&json!({"extensions": extension})).await;
        assert_eq!(code(&r), "INVALID_INPUT", "{r}");
    }
    // no document and no hash is malformed as before
    let (status, r) = app.post_json(&json!({"variables": {}})).await;
    assert_eq!((status, code(&r)), (400, "INVALID_INPUT"), "{r}");
}

#[tokio::test]
async fn apq_documents_over_the_limits_are_refused_and_not_kept() {
    let app = TestApp::spawn().await;
    let deep = format!("{{ {}x{} }}", "a { ".repeat(60), " }".repeat(60));
    let hash = document_id(&deep);
    let (_, r) = app.post_json(&with_document(&deep, &hash)).await;
    assert_eq!(code(&r), "INVALID_INPUT", "{r}");
    let (_, again) = app.post_json(&hash_only(&hash)).await;
    assert_eq!(code(&again), "PERSISTED_QUERY_NOT_FOUND", "{again}");
}

#[tokio::test]
async fn apq_documents_over_the_registration_size_run_but_are_not_kept() {
    let app = TestApp::spawn().await;
    let max = progress_dashboard::service::persisted::MAX_DOCUMENT_BYTES;
    let long = format!("# {}\n{CATALOG}", "x".repeat(max));
    let hash = document_id(&long);
    let (_, ran) = app.post_json(&with_document(&long, &hash)).await;
    assert!(ran["data"]["badgeCatalog"].is_array(), "{ran}");
    let (_, again) = app.post_json(&hash_only(&hash)).await;
    assert_eq!(code(&again), "PERSISTED_QUERY_NOT_FOUND", "{again}");
}

#[tokio::test]
async fn apq_registrations_are_shared_through_redis() {
    let (a, b) = two_on_redis().await;
    let hash = document_id(CATALOG);
    let (_, first) = a.post_json(&with_document(CATALOG, &hash)).await;
    assert!(first["data"]["badgeCatalog"].is_array(), "{first}");
    let (status, by_hash) = get_by_hash(&b, &hash).await;
    assert_eq!(
        (status, &by_hash["data"]),
        (200, &first["data"]),
        "{by_hash}"
    );
}

#[tokio::test]
async fn apq_over_websocket() {
    let app = TestApp::spawn().await;
    let query = "subscription Kpis($id: UUID!) { kpiUpdated(analysisId: $id) { analysisId } }";
    let hash = document_id(query);
    let id = "00000000-0000-4000-8000-000000000000";
    for (n, protocol) in [TRANSPORT_WS, LEGACY_WS].into_iter().enumerate() {
        let mut ws = WsClient::ready(&app.base, protocol).await;
        let kind = if protocol == TRANSPORT_WS {
            "subscribe"
        } else {
            "start"
        };
        let mut payload = hash_only(&hash);
        payload["variables"] = json!({"id": id});
        ws.send(json!({"id": "a", "type": kind, "payload": payload}))
            .await;
        let first_time = n == 0;
        match ws.next("a", Duration::from_secs(5)).await {
            Some(Received::Error(e)) if first_time => {
                assert_eq!(e["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{e}")
            }
            // registered over the first socket: the second one runs it (an unknown analysis)
            Some(Received::Error(e)) => {
                assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND", "{e}")
            }
            other => panic!("{protocol}: {other:?}"),
        }
        if first_time {
            let mut full = with_document(query, &hash);
            full["variables"] = json!({"id": id});
            ws.send(json!({"id": "b", "type": kind, "payload": full}))
                .await;
            match ws.next("b", Duration::from_secs(5)).await {
                Some(Received::Error(e)) => {
                    assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND", "{e}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// A manifest of the playground's examples plus `extra`, written where the server reads it.
fn manifest_file(name: &str, extra: &[(&str, &str, &str)]) -> String {
    let mut manifest = progress_dashboard::graphql::operations::examples_manifest().unwrap();
    let listed = manifest_json(extra.iter().copied());
    for op in listed["operations"].as_array().unwrap() {
        manifest["operations"]
            .as_array_mut()
            .unwrap()
            .push(op.clone());
    }
    let path = std::env::temp_dir().join(format!("{name}-{}.json", std::process::id()));
    std::fs::write(&path, manifest.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn trusted(path: String) -> impl FnOnce(&mut Config) {
    move |c| c.server.trusted_documents = Some(path.into())
}

#[tokio::test]
async fn trusted_documents_run_and_nothing_else() {
    let path = manifest_file("trusted", &[("Catalog", "query", CATALOG)]);
    let app = TestApp::spawn_with(trusted(path)).await;
    let hash = document_id(CATALOG);

    let (_, by_hash) = app.post_json(&hash_only(&hash)).await;
    assert_eq!(
        by_hash["data"]["badgeCatalog"][0]["slug"], "first_step",
        "{by_hash}"
    );
    let (_, by_get) = get_by_hash(&app, &hash).await;
    assert_eq!(by_get["data"], by_hash["data"]);
    // the listed text as it is runs too (the playground sends its examples so)
    let (_, as_text) = app.post_json(&json!({"query": CATALOG})).await;
    assert_eq!(as_text["data"], by_hash["data"]);

    let other = "{ badgeCatalog { name } }";
    for body in [
        json!({"query": other}),
        with_document(other, &document_id(other)),
        json!({"query": "{ __schema { types { name } } }"}),
    ] {
        let (status, r) = app.post_json(&body).await;
        assert_eq!(
            (status, code(&r)),
            (200, "PERSISTED_QUERY_ONLY"),
            "{body}: {r}"
        );
    }
    let (_, r) = app.get_query(other, None).await;
    assert_eq!(code(&r), "PERSISTED_QUERY_ONLY", "{r}");
    // an unknown hash alone is a miss (Apollo's link then sends the text, which is refused)
    let (_, r) = app.post_json(&hash_only(&document_id(other))).await;
    assert_eq!(code(&r), "PERSISTED_QUERY_NOT_FOUND", "{r}");

    for protocol in [TRANSPORT_WS, LEGACY_WS] {
        let mut ws = WsClient::ready(&app.base, protocol).await;
        ws.subscribe(
            "x",
            "subscription { platformKpis(period: MINUTE) { period } }",
            json!({}),
        )
        .await;
        match ws.next("x", Duration::from_secs(5)).await {
            Some(Received::Error(e)) => {
                assert_eq!(e["extensions"]["code"], "PERSISTED_QUERY_ONLY", "{e}")
            }
            other => panic!("{protocol}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_manifest_whose_ids_are_not_its_hashes_stops_the_server() {
    let db = TestDb::new().await;
    let mut manifest = manifest_json([("Catalog", "query", CATALOG)]);
    manifest["operations"][0]["id"] = document_id("something else").into();
    let path = std::env::temp_dir().join(format!("stale-{}.json", std::process::id()));
    std::fs::write(&path, manifest.to_string()).unwrap();
    let mut config = Config::for_database(&db.url);
    config.server.trusted_documents = Some(path.clone());
    let clock = std::sync::Arc::new(progress_dashboard::clock::ManualClock::new(t0()));
    let error = progress_dashboard::startup::build(config, clock)
        .await
        .err()
        .expect("a stale manifest is refused at start-up");
    assert!(error.to_string().contains("TRUSTED_DOCUMENTS"), "{error}");
}
