use serde_json::json;

use crate::helpers::*;

fn status(r: &serde_json::Value) -> &str {
    r["data"]["updateProgress"]["opportunity"]["status"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn every_allowed_move_and_the_refused_one() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let opp = "value_creation";
    for (to, implemented) in [
        ("IN_PROGRESS", false), // NS -> IP
        ("NOT_STARTED", false), // IP -> NS
        ("IMPLEMENTED", true),  // NS -> IMP
        ("NOT_STARTED", false), // IMP -> NS (undo clears implementedAt)
        ("IN_PROGRESS", false), // NS -> IP
        ("IMPLEMENTED", true),  // IP -> IMP
    ] {
        let r = app.update(&id, opp, to, None).await;
        assert_eq!(status(&r), to, "{r:#}");
        let at = &r["data"]["updateProgress"]["opportunity"]["implementedAt"];
        assert_eq!(at.is_string(), implemented, "{to}: {at}");
    }
    let e = app
        .error(
            UPDATE,
            json!({"input": {"analysisId": id, "opportunityId": opp, "status": "IN_PROGRESS"}}),
        )
        .await;
    assert_eq!(e["extensions"]["code"], "INVALID_STATUS_TRANSITION");
    assert_eq!(
        app.dashboard(&id).await["opportunities"][1]["status"],
        "IMPLEMENTED"
    );
    // six accepted moves, six activity rows; the refused one wrote nothing
    assert_eq!(
        app.db.count("SELECT count(*) FROM progress_activity").await,
        6
    );
}

#[tokio::test]
async fn implemented_at_is_the_clock_time() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.clock.advance(chrono::Duration::hours(5));
    let r = app
        .update(&id, "digital_presence", "IMPLEMENTED", None)
        .await;
    let at = r["data"]["updateProgress"]["opportunity"]["implementedAt"]
        .as_str()
        .unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(at).unwrap(),
        t0() + chrono::Duration::hours(5)
    );
}

#[tokio::test]
async fn same_status_is_a_successful_no_op() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    assert_eq!(
        app.advance(&id, "digital_presence", "IN_PROGRESS").await,
        ["first_step"]
    );
    let r = app
        .update(&id, "digital_presence", "IN_PROGRESS", None)
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    assert_eq!(status(&r), "IN_PROGRESS");
    assert_eq!(r["data"]["updateProgress"]["newBadges"], json!([]));
    assert_eq!(
        app.db.count("SELECT count(*) FROM progress_activity").await,
        1
    );
    // NOT_STARTED -> NOT_STARTED on an untouched opportunity too
    let r = app.update(&id, "value_creation", "NOT_STARTED", None).await;
    assert_eq!(status(&r), "NOT_STARTED");
    assert_eq!(
        app.db.count("SELECT count(*) FROM progress_activity").await,
        1
    );
}

#[tokio::test]
async fn hourly_rate_is_remembered_on_the_analysis() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.update(&id, "value_creation", "IN_PROGRESS", Some(80.0))
        .await;
    // a later change without a rate keeps it
    let r = app.update(&id, "value_creation", "IMPLEMENTED", None).await;
    let money = &r["data"]["updateProgress"]["metrics"]["moneySaved"];
    assert_eq!(money["hourlyRate"], 80.0);
    assert_eq!(money["implementedAnnual"], 416 * 80);
    // and a same-status call may still change it
    let r = app
        .update(&id, "value_creation", "IMPLEMENTED", Some(20.0))
        .await;
    assert_eq!(
        r["data"]["updateProgress"]["metrics"]["moneySaved"]["implementedAnnual"],
        416 * 20
    );
}

/// Twenty identical requests at once: one move, one activity row, one award, one response with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_updates_award_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let id = app.record_example().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(
                async move { app.update(&id, "value_creation", "IN_PROGRESS", None).await },
            )
        })
        .collect();
    let mut toasts = 0;
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.get("errors").is_none(), "{r:#}");
        toasts += r["data"]["updateProgress"]["newBadges"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(toasts, 1);
    assert_eq!(app.db.count("SELECT count(*) FROM user_badges").await, 1);
    assert_eq!(
        app.db.count("SELECT count(*) FROM progress_activity").await,
        1
    );
}

/// The state a change leaves is worked out in memory (and written through to the cache) rather
/// than read back: after every kind of change it is exactly what PostgreSQL then holds, badges,
/// activity days, first implementation and version included.
#[tokio::test]
async fn the_state_a_change_leaves_is_the_state_stored() {
    use progress_dashboard::domain::status::ProgressStatus::*;
    use progress_dashboard::service::update_progress::{update_progress, ProgressChange};
    let app = TestApp::spawn().await;
    let id: progress_dashboard::domain::ids::AnalysisId =
        uuid::Uuid::parse_str(&app.record_example().await)
            .unwrap()
            .into();
    let mut conn = app.db.conn().await;
    let steps = [
        ("digital_presence", InProgress, None, 0),
        ("digital_presence", Implemented, Some(55.5), 0),
        ("value_creation", Implemented, None, 1),
        ("value_creation", NotStarted, None, 1),
        ("value_creation", NotStarted, Some(60.0), 2), // no move, a new rate
        ("value_creation", NotStarted, None, 2),       // nothing at all
        ("business_management", Implemented, None, 9),
        ("value_creation", Implemented, None, 9),
    ];
    let mut earned = 0;
    for (i, (opp, status, rate, day)) in steps.into_iter().enumerate() {
        // a time with nanoseconds, which the database cannot keep
        let now = t0() + chrono::Duration::days(day) + chrono::Duration::nanoseconds(123_456_789);
        let change = ProgressChange {
            analysis_id: id,
            opportunity_id: opp.into(),
            status,
            hourly_rate: rate,
            actor: None,
        };
        let outcome = update_progress(&mut conn, change, now).await.unwrap();
        earned += outcome.new_badges.len();
        let stored = progress_dashboard::db::dashboard::load_many(&conn, &[id])
            .await
            .unwrap()
            .remove(&id)
            .unwrap();
        assert_eq!(
            serde_json::to_value(&outcome.dashboard).unwrap(),
            serde_json::to_value(&stored).unwrap(),
            "step {i}"
        );
    }
    assert!(earned >= 3, "the steps earn badges on the way: {earned}");
    // each badge's progress as the last change that moved one of its facts left it: all earned
    // but the streak, one day long on day 9 (days 0, 1, 2, then 9)
    let stored = format!(
        "SELECT count(*) FROM achievement_progress p JOIN badge_metadata b ON b.id = p.badge_id
          WHERE p.analysis_id = '{id}'
            AND ((b.slug <> 'streak_master' AND p.progress_percentage = 100 AND p.next_milestone IS NULL)
              OR (b.slug = 'streak_master' AND p.progress_percentage = 14
                  AND p.next_milestone = 'Progressez encore 6 jours d''affilée'))"
    );
    assert_eq!(app.db.count(&stored).await, 5);
}
