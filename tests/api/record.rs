use chrono::Duration;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn records_analysis_with_not_started_progress() {
    let app = TestApp::spawn().await;
    let five: Vec<_> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|id| (*id, 1.0, 52, 2))
        .collect();
    let r = app
        .data(
            RECORD,
            json!({"input": analysis_input("https://five.example.com", &five)}),
        )
        .await;
    let p = &r["recordAnalysis"];
    assert_eq!(p["duplicate"], false);
    let opps = p["dashboard"]["opportunities"].as_array().unwrap();
    assert_eq!(opps.len(), 5);
    assert!(opps.iter().all(|o| o["status"] == "NOT_STARTED"));
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM user_progress WHERE status = 'NOT_STARTED'")
            .await,
        5
    );
}

#[tokio::test]
async fn same_normalised_url_within_seven_days_returns_the_existing_analysis() {
    let app = TestApp::spawn().await;
    let first = app.record("https://www.Example.com/", EXAMPLE).await;
    app.clock.advance(Duration::days(6));
    for variant in [
        "http://example.com",
        "EXAMPLE.COM/",
        "https://www.example.com",
    ] {
        let r = app
            .data(RECORD, json!({"input": analysis_input(variant, EXAMPLE)}))
            .await;
        assert_eq!(r["recordAnalysis"]["duplicate"], true, "{variant}");
        assert_eq!(r["recordAnalysis"]["dashboard"]["analysisId"], json!(first));
    }
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    let r = app
        .data(
            RECORD,
            json!({"input": analysis_input("example.com", EXAMPLE)}),
        )
        .await;
    assert_eq!(r["recordAnalysis"]["duplicate"], false);
    assert_ne!(r["recordAnalysis"]["dashboard"]["analysisId"], json!(first));
    assert_eq!(app.db.count("SELECT count(*) FROM analyses").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_of_one_site_make_one_analysis() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.data(
                    RECORD,
                    json!({"input": analysis_input("https://race.example.com", EXAMPLE)}),
                )
                .await
            })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        if t.await.unwrap()["recordAnalysis"]["duplicate"] == false {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
    assert_eq!(app.db.count("SELECT count(*) FROM analyses").await, 1);
}

#[tokio::test]
async fn older_analyses_can_be_imported_with_their_dates() {
    let app = TestApp::spawn().await;
    let mut input = analysis_input("https://old.example.com", EXAMPLE);
    input["createdAt"] = json!("2025-10-27T12:00:00Z");
    input["completedAt"] = json!("2025-10-27T12:00:35Z");
    let r = app.data(RECORD, json!({"input": input})).await;
    let created = r["recordAnalysis"]["dashboard"]["createdAt"]
        .as_str()
        .unwrap();
    assert!(created.starts_with("2025-10-27T12:00:00"), "{created}");
}

#[tokio::test]
async fn invalid_analyses_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let good = analysis_input("https://ok.example.com", EXAMPLE);
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("empty url", {
            let mut i = good.clone();
            i["url"] = json!(" ");
            i
        }),
        ("not a url", {
            let mut i = good.clone();
            i["url"] = json!("hello world");
            i
        }),
        ("no opportunities", {
            let mut i = good.clone();
            i["opportunities"] = json!([]);
            i
        }),
        ("empty opportunity id", {
            let mut i = good.clone();
            i["opportunities"][0]["opportunityId"] = json!("");
            i
        }),
        ("duplicate opportunity id", {
            let mut i = good.clone();
            i["opportunities"][1]["opportunityId"] = json!("digital_presence");
            i
        }),
        ("complexity 11", {
            let mut i = good.clone();
            i["opportunities"][0]["complexityLevel"] = json!(11);
            i
        }),
        ("complexity 0", {
            let mut i = good.clone();
            i["opportunities"][0]["complexityLevel"] = json!(0);
            i
        }),
        ("negative hours", {
            let mut i = good.clone();
            i["opportunities"][0]["hoursPerWeek"] = json!(-1);
            i
        }),
        ("future", {
            let mut i = good.clone();
            i["createdAt"] = json!("2030-01-01T00:00:00Z");
            i
        }),
        ("completed before created", {
            let mut i = good.clone();
            i["createdAt"] = json!("2026-01-02T00:00:00Z");
            i["completedAt"] = json!("2026-01-01T00:00:00Z");
            i
        }),
        ("unknown category", {
            let mut i = good.clone();
            i["opportunities"][0]["category"] = json!("MARKETING");
            i
        }),
    ];
    for (what, input) in cases {
        let e = app.error(RECORD, json!({"input": input})).await;
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{what}: {e}");
    }
    assert_eq!(app.db.count("SELECT count(*) FROM analyses").await, 0);
    assert_eq!(app.db.count("SELECT count(*) FROM opportunities").await, 0);
}
