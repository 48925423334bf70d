//! GraphQL over HTTP as the specification has it: graphql-http's own server audit (Node, beside
//! the Apollo journey), and content negotiation case by case.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_http_audit_passes_clean() {
    let app = TestApp::spawn().await;
    let stdout = run_node(&app, "audit.mjs", "graphql-http", &[]).await;
    println!("{stdout}");
    assert!(stdout.contains("graphql-http audit ok"), "{stdout}");
}

/// POSTs `body` with `accept`; status, content type and JSON body.
async fn post(app: &TestApp, accept: Option<&str>, body: Value) -> (u16, String, Value) {
    let mut r = app.client.post(app.graphql_url()).json(&body);
    if let Some(a) = accept {
        r = r.header("accept", a);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn responses_follow_the_accept_header() {
    let app = TestApp::spawn().await;
    let ok = json!({ "query": "{ __typename }" });
    let invalid = json!({ "query": "{ nope }" });
    let unparsable = json!({ "query": "{" });
    let coercion = json!({ "query": "query($id: UUID!) { dashboard(analysisId: $id) { id } }", "variables": { "id": 5 } });
    let missing = json!({ "query": "query($id: UUID!) { dashboard(analysisId: $id) { id } }", "variables": { "id": "550e8400-e29b-41d4-a716-44665544ffff" } });
    const GQL: &str = "application/graphql-response+json";

    // application/json: the type asked for, 200 for every GraphQL response.
    for accept in [
        Some("application/json"),
        Some("*/*"),
        None,
        Some("application/*;q=0.5, text/html"),
    ] {
        let (status, ct, _) = post(&app, accept, ok.clone()).await;
        assert_eq!(
            (status, ct.as_str()),
            (200, "application/json; charset=utf-8"),
            "{accept:?}"
        );
        for bad in [&invalid, &unparsable, &coercion] {
            let (status, _, body) = post(&app, accept, bad.clone()).await;
            assert_eq!(status, 200, "{accept:?} {bad}");
            assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
        }
    }
    // application/graphql-response+json: 400 and no data for a request refused before execution,
    // 200 for an execution result, even one with errors.
    for accept in [
        GQL,
        "application/graphql-response+json, application/json;q=0.9",
        "application/json;q=0.5, application/graphql-response+json",
    ] {
        let (status, ct, body) = post(&app, Some(accept), ok.clone()).await;
        assert_eq!(
            (status, ct.as_str()),
            (200, "application/graphql-response+json; charset=utf-8"),
            "{accept}"
        );
        assert_eq!(body["data"]["__typename"], "Query");
        for bad in [&invalid, &unparsable, &coercion] {
            let (status, _, body) = post(&app, Some(accept), bad.clone()).await;
            assert_eq!(status, 400, "{accept} {bad}");
            assert!(body.get("data").is_none(), "{body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
        }
        let (status, _, body) = post(&app, Some(accept), missing.clone()).await;
        assert_eq!(status, 200, "a resolver's error is an execution result");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "ANALYSIS_NOT_FOUND"
        );
        assert!(body.get("data").is_some());
    }
    // Neither: 406, as JSON.
    let (status, _, body) = post(&app, Some("text/html"), ok.clone()).await;
    assert_eq!(status, 406);
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    // GET negotiates the same way.
    let r = app
        .client
        .get(app.graphql_url())
        .query(&[("query", "{ nope }")])
        .header("accept", GQL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Parameters of the wrong type, or no query: 400 whatever is accepted.
    for body in [
        json!({ "notquery": "{ __typename }" }),
        json!({ "query": 7 }),
        json!({ "query": "{ __typename }", "variables": "x" }),
    ] {
        assert_eq!(post(&app, None, body.clone()).await.0, 400, "{body}");
    }
    // Nulls are allowed for every optional parameter.
    let nulls = json!({ "query": "{ __typename }", "variables": null, "operationName": null, "extensions": null });
    assert_eq!(post(&app, None, nulls).await.0, 200);
}
