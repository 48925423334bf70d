use serde_json::json;

use crate::helpers::*;

const MISSING: &str = "00000000-0000-4000-8000-000000000000";

#[tokio::test]
async fn unknown_analysis_and_opportunity() {
    let app = TestApp::spawn().await;
    let e = app.error(&DASHBOARD, json!({"id": MISSING})).await;
    assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND");
    assert!(e["message"].as_str().unwrap().contains(MISSING));

    let e = app.error(UPDATE, json!({"input": {"analysisId": MISSING, "opportunityId": "x", "status": "IMPLEMENTED"}})).await;
    assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND");

    let id = app.record_example().await;
    let e = app
        .error(
            UPDATE,
            json!({"input": {"analysisId": id, "opportunityId": "nope", "status": "IMPLEMENTED"}}),
        )
        .await;
    assert_eq!(e["extensions"]["code"], "OPPORTUNITY_NOT_FOUND");
}

#[tokio::test]
async fn bad_input_is_invalid_input_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let update = |input: serde_json::Value| json!({"input": input});
    let cases = [
        ("bad uuid", app.error(&DASHBOARD, json!({"id": "not-a-uuid"})).await),
        ("bad uuid literal", app.error(r#"{ dashboard(analysisId: "123") { id } }"#, json!({})).await),
        ("rate too low", app.error(UPDATE, update(json!({"analysisId": id, "opportunityId": "value_creation", "status": "IMPLEMENTED", "hourlyRate": 19.99}))).await),
        ("rate too high", app.error(UPDATE, update(json!({"analysisId": id, "opportunityId": "value_creation", "status": "IMPLEMENTED", "hourlyRate": 500.5}))).await),
        ("empty opportunity id", app.error(UPDATE, update(json!({"analysisId": id, "opportunityId": "  ", "status": "IMPLEMENTED"}))).await),
        ("unknown status", app.error(UPDATE, update(json!({"analysisId": id, "opportunityId": "value_creation", "status": "DONE"}))).await),
        ("unknown field", app.error("{ badgeCatalog { nope } }", json!({})).await),
        ("syntax", app.error("{ dashboard(", json!({})).await),
    ];
    for (what, e) in cases {
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{what}: {e}");
    }
    assert_eq!(
        app.db.count("SELECT count(*) FROM progress_activity").await,
        0
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM analyses WHERE hourly_rate IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn too_many_dashboard_ids() {
    let app = TestApp::spawn().await;
    let ids: Vec<_> = (0..101)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let e = app
        .error(
            "query($ids: [UUID!]!) { dashboards(analysisIds: $ids) { id } }",
            json!({"ids": ids}),
        )
        .await;
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
    assert!(e["message"].as_str().unwrap().contains("100"), "{e}");
}

/// A broken database shows as INTERNAL with a request id, and nothing about the failure itself.
#[tokio::test]
async fn internal_errors_do_not_leak() {
    // uncached, so that the read reaches the broken table
    let app = TestApp::spawn_with(|c| c.cache.enabled = false).await;
    let id = app.record_example().await;
    sql(
        &app.db,
        "ALTER TABLE activity_days RENAME TO activity_days_gone",
    )
    .await;
    let e = app.error(&DASHBOARD, json!({"id": id})).await;
    assert_eq!(e["extensions"]["code"], "INTERNAL");
    let text = e.to_string();
    for secret in ["activity_days", "relation", "SELECT", "postgres", "diesel"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let e = app.error(UPDATE, json!({"input": {"analysisId": id, "opportunityId": "value_creation", "status": "IN_PROGRESS"}})).await;
    assert_eq!(e["extensions"]["code"], "INTERNAL");
    // the failed update rolled back entirely
    sql(
        &app.db,
        "ALTER TABLE activity_days_gone RENAME TO activity_days",
    )
    .await;
    assert_eq!(
        app.dashboard(&id).await["opportunities"][1]["status"],
        "NOT_STARTED"
    );
}

#[tokio::test]
async fn validation_is_skipped_only_for_the_exact_request_that_passed_it() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let known = || app.app.pipeline.documents.valid_requests();
    let before = known();

    // refused, and refused again: an invalid request is never remembered
    for _ in 0..2 {
        let e = app.error("{ badgeCatalog { nope } }", json!({})).await;
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
    }
    assert_eq!(known(), before);

    // valid: remembered once, then answered the same without validation
    let first = app.data(&DASHBOARD, json!({"id": id})).await;
    assert_eq!(known(), before + 1);
    assert_eq!(app.data(&DASHBOARD, json!({"id": id})).await, first);
    assert_eq!(known(), before + 1);

    // the same document with other variables is another request: fully validated
    let update = |status: &str| json!({"input": {"analysisId": id, "opportunityId": "value_creation", "status": status}});
    app.data(UPDATE, update("IN_PROGRESS")).await;
    assert_eq!(known(), before + 2);
    let e = app.error(UPDATE, update("DONE")).await;
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid value for argument"),
        "refused by validation, not at execution: {e}"
    );
    assert_eq!(known(), before + 2);

    // a resolver's error does not make the request invalid, and stays the resolver's
    for _ in 0..2 {
        let e = app.error(&DASHBOARD, json!({"id": MISSING})).await;
        assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND");
    }
    assert_eq!(known(), before + 3);
}
