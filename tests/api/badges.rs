use chrono::{Duration, TimeZone, Utc};

use crate::helpers::*;
use serde_json::json;

/// Moving one opportunity at a time through to all four progress badges, each change listing
/// only the badges it earned.
#[tokio::test]
async fn journey_through_the_progress_badges() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.clock.advance(Duration::days(2));
    assert_eq!(
        app.advance(&id, "business_management", "IN_PROGRESS").await,
        ["first_step"]
    );
    assert_eq!(
        app.advance(&id, "business_management", "IMPLEMENTED").await,
        ["quick_win"]
    );
    assert!(app
        .advance(&id, "digital_presence", "IMPLEMENTED")
        .await
        .is_empty()); // 7 h/week
    assert_eq!(
        app.advance(&id, "value_creation", "IMPLEMENTED").await,
        ["time_saver", "efficiency_expert"]
    );

    let d = app.dashboard(&id).await;
    assert_eq!(
        slugs(&d["badges"]),
        ["first_step", "quick_win", "time_saver", "efficiency_expert"]
    );
    assert!(d["badges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["versionEarned"] == 1));
    assert_eq!(d["progressSummary"]["completionPercentage"], 100);

    // Awards are never taken back, and never given twice.
    assert!(app
        .advance(&id, "value_creation", "NOT_STARTED")
        .await
        .is_empty());
    assert!(app
        .advance(&id, "value_creation", "IMPLEMENTED")
        .await
        .is_empty());
    assert_eq!(app.db.count("SELECT count(*) FROM user_badges").await, 4);
    assert_eq!(slugs(&app.dashboard(&id).await["badges"]).len(), 4);
}

#[tokio::test]
async fn quick_win_needs_the_first_implementation_within_seven_days() {
    let app = TestApp::spawn().await;
    let late = app.record("https://late.example.com", EXAMPLE).await;
    let on_time = app.record("https://ontime.example.com", EXAMPLE).await;
    app.clock.advance(Duration::days(7));
    assert_eq!(
        app.advance(&on_time, "value_creation", "IMPLEMENTED").await,
        ["first_step", "quick_win"]
    );
    app.clock.advance(Duration::seconds(1));
    assert_eq!(
        app.advance(&late, "value_creation", "IMPLEMENTED").await,
        ["first_step"]
    );
    let d = app.dashboard(&late).await;
    let quick = &d["achievements"][1];
    assert_eq!(quick["unlocked"], false);
    assert!(
        quick["nextMilestone"]
            .as_str()
            .unwrap()
            .contains("est passé"),
        "{quick}"
    );
}

/// Seven consecutive local days (America/Toronto, UTC-5 in winter) across a month end, the
/// last change just after local midnight.
#[tokio::test]
async fn streak_master_after_seven_consecutive_days_across_a_month_end() {
    let app = TestApp::spawn().await;
    // 23:30 on 28 January in Toronto
    let start = Utc.with_ymd_and_hms(2027, 1, 29, 4, 30, 0).unwrap();
    app.clock.set(start);
    let id = app.record("https://streak.example.com", EXAMPLE).await;
    let moves = [
        ("digital_presence", "IN_PROGRESS"),
        ("digital_presence", "NOT_STARTED"),
        ("value_creation", "IN_PROGRESS"),
        ("value_creation", "NOT_STARTED"),
        ("business_management", "IN_PROGRESS"),
        ("business_management", "NOT_STARTED"),
        ("digital_presence", "IN_PROGRESS"),
    ];
    for (day, (opp, status)) in moves.iter().enumerate() {
        // 23:30 on day 0, then 00:10 on each following local day
        if day > 0 {
            app.clock.set(
                Utc.with_ymd_and_hms(2027, 1, 28, 5, 10, 0).unwrap() + Duration::days(day as i64),
            );
        }
        let earned = app.advance(&id, opp, status).await;
        let streak = earned.iter().any(|s| s == "streak_master");
        assert_eq!(streak, day == 6, "day {day}: {earned:?}");
    }
    use progress_dashboard::clock::Clock;
    assert_eq!(app.clock.now().date_naive().to_string(), "2027-02-03");
}

#[tokio::test]
async fn a_missed_day_restarts_the_streak() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let opps = ["digital_presence", "value_creation", "business_management"];
    for day in 0..8 {
        app.clock
            .set(t0() + Duration::days(if day < 3 { day } else { day + 1 }));
        let status = if day % 2 == 0 {
            "IN_PROGRESS"
        } else {
            "NOT_STARTED"
        };
        let earned = app.advance(&id, opps[(day as usize / 2) % 3], status).await;
        assert!(!earned.contains(&"streak_master".to_owned()), "day {day}");
    }
    let d = app.dashboard(&id).await;
    assert_eq!(d["achievements"][4]["progressPercentage"], 71); // 5 of 7
}

/// Each badge's conditions as the evaluator that awards it judges them, in the reader's language.
#[tokio::test]
async fn achievements_explain_each_condition_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.advance(&id, "value_creation", "IMPLEMENTED").await; // 8 hours a week
    let query = "query($id: UUID!) { dashboard(analysisId: $id) { achievements {
      unlocked badge { slug } conditions { field operator target current met label } } } }";
    for (lang, label) in [
        ("en", "Hours saved per week: 8 of 10"),
        ("fr", "Heures économisées par semaine\u{a0}: 8 sur 10"),
    ] {
        let data = crate::language::post_as(&app, Some(lang), query, json!({"id": id})).await;
        let achievements = data["dashboard"]["achievements"]
            .as_array()
            .unwrap()
            .clone();
        let time_saver = achievements
            .iter()
            .find(|a| a["badge"]["slug"] == "time_saver")
            .unwrap();
        assert_eq!(time_saver["unlocked"], false);
        assert_eq!(
            time_saver["conditions"],
            json!([{"field": "hours_saved_weekly", "operator": ">=", "target": 10.0,
                "current": 8.0, "met": false, "label": label}])
        );
        // what is earned shows every condition met (the catalog's rules all need every one)
        for a in achievements.iter().filter(|a| a["unlocked"] == true) {
            let conditions = a["conditions"].as_array().unwrap();
            assert!(
                !conditions.is_empty() && conditions.iter().all(|c| c["met"] == true),
                "{a}"
            );
        }
        assert!(achievements.iter().any(|a| a["unlocked"] == true));
    }
    // The same request after a change: not the stored answer of before (8 of 10), but now.
    app.advance(&id, "business_management", "IMPLEMENTED").await; // 2 more
    let data = crate::language::post_as(&app, Some("en"), query, json!({"id": id})).await;
    let time_saver = data["dashboard"]["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["badge"]["slug"] == "time_saver")
        .unwrap()
        .clone();
    assert_eq!(time_saver["unlocked"], true);
    assert_eq!(
        time_saver["conditions"][0],
        json!({"field": "hours_saved_weekly", "operator": ">=", "target": 10.0,
            "current": 10.0, "met": true, "label": "Hours saved per week: 10 of 10"})
    );
}
