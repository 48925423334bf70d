use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn example_dashboard_shows_the_briefs_figures() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;

    let d = app.dashboard(&id).await;
    assert_eq!(d["id"], json!(id));
    assert_eq!(d["url"], "https://www.example.com/");
    assert_eq!(d["identity"]["companyName"], "Example Inc.");
    let created = chrono::DateTime::parse_from_rfc3339(d["createdAt"].as_str().unwrap()).unwrap();
    assert_eq!(created, t0());
    let money = &d["metrics"]["moneySaved"];
    assert_eq!(money["hourlyRate"], json!(null));
    assert_eq!(money["potentialAnnual"], json!(null));
    assert_eq!(money["currency"], "CAD");
    assert_eq!(d["progressSummary"]["completionPercentage"], 0);
    assert_eq!(d["badges"], json!([]));

    let r = app
        .update(&id, "digital_presence", "IMPLEMENTED", Some(50.0))
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let d = app.dashboard(&id).await;
    assert_eq!(
        d["metrics"],
        json!({
            "timeSaved": {"potentialWeekly": 15.0, "implementedWeekly": 5.0, "potentialAnnual": 780, "implementedAnnual": 260},
            "moneySaved": {"hourlyRate": 50.0, "potentialAnnual": 39000, "implementedAnnual": 13000, "currency": "CAD"}
        })
    );
    assert_eq!(
        d["progressSummary"],
        json!({"totalOpportunities": 3, "notStarted": 2, "inProgress": 0, "implemented": 1, "completionPercentage": 33})
    );
    // The mutation's payload says the same as a fresh read.
    let p = &r["data"]["updateProgress"];
    assert_eq!(p["metrics"], d["metrics"]);
    assert_eq!(p["progressSummary"], d["progressSummary"]);
    assert_eq!(p["dashboard"]["id"], json!(id));
}

#[tokio::test]
async fn recommendations_rank_not_started_by_priority_score() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let d = app.dashboard(&id).await;
    let recs = d["recommendations"].as_array().unwrap();
    let order: Vec<_> = recs
        .iter()
        .map(|r| r["opportunity"]["opportunityId"].as_str().unwrap())
        .collect();
    // 8/5 = 1.6, 5/7 = 0.71, 2/3 = 0.67
    assert_eq!(
        order,
        ["value_creation", "digital_presence", "business_management"]
    );
    assert_eq!(recs[0]["priorityScore"], 1.6);
    // in the analysis' language, French by default
    assert!(recs[0]["reason"].as_str().unwrap().contains("Fort impact"));
    assert!(recs[2]["reason"].as_str().unwrap().contains("Gain rapide"));

    app.advance(&id, "value_creation", "IN_PROGRESS").await;
    let d = app.dashboard(&id).await;
    let order: Vec<_> = d["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["opportunity"]["opportunityId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(order, ["digital_presence", "business_management"]);
}

#[tokio::test]
async fn achievements_show_progress_towards_locked_badges() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.advance(&id, "business_management", "IMPLEMENTED").await;
    let d = app.dashboard(&id).await;
    let a: Vec<_> = d["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["badge"]["slug"].as_str().unwrap().to_owned(),
                a["unlocked"].as_bool().unwrap(),
                a["progressPercentage"].as_i64().unwrap(),
                a["nextMilestone"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        a,
        vec![
            ("first_step".into(), true, 100, None),
            ("quick_win".into(), true, 100, None),
            (
                "time_saver".into(),
                false,
                20,
                Some("Économisez encore 8,0 heures par semaine".into())
            ),
            (
                "efficiency_expert".into(),
                false,
                33,
                Some("Implémentez encore 2 opportunités".into())
            ),
            (
                "streak_master".into(),
                false,
                14,
                Some("Progressez encore 6 jours d'affilée".into())
            ),
        ]
    );
    assert_eq!(
        d["achievements"][0]["badge"]["unlockCriteria"]["conditions"][0]["field"],
        "opportunities_started"
    );
}

#[tokio::test]
async fn dashboards_batches_in_order_and_skips_unknown_ids() {
    let app = TestApp::spawn().await;
    let a = app.record("https://a.example.com", EXAMPLE).await;
    let b = app
        .record("https://b.example.com", &[("only", 1.0, 52, 1)])
        .await;
    let q = "query($ids: [UUID!]!) { dashboards(analysisIds: $ids) { id progressSummary { totalOpportunities } } }";
    let d = app
        .data(
            q,
            json!({"ids": [b, "00000000-0000-0000-0000-000000000000", a, b]}),
        )
        .await;
    let ids: Vec<_> = d["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [b.clone(), a.clone()]);
    assert_eq!(
        d["dashboards"][0]["progressSummary"]["totalOpportunities"],
        1
    );
    assert_eq!(
        app.data(q, json!({"ids": []})).await["dashboards"],
        json!([])
    );
}

/// The N+1 guard: a dashboards call costs the same statements for 1, 10 or 100 analyses.
#[tokio::test]
async fn dashboards_statement_count_does_not_grow_with_ids() {
    // the uncached path: every call goes to PostgreSQL; no relay sweeping the outbox meanwhile
    let app = TestApp::spawn_with(|c| {
        c.cache.enabled = false;
        quiet(c);
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..100 {
        let id = app
            .record(&format!("https://company-{i}.example.com"), EXAMPLE)
            .await;
        if i % 3 == 0 {
            app.advance(&id, "value_creation", "IMPLEMENTED").await;
        }
        ids.push(id);
    }
    // Every part a dashboard is loaded from (100 whole dashboards would be over the cost limit).
    let q = "query($ids: [UUID!]!) { dashboards(analysisIds: $ids) { url opportunities { status }
        badges { badgeType } achievements { unlocked } metrics { moneySaved { implementedAnnual } }
        recommendations { priorityScore } } }";
    app.data(q, json!({"ids": ids[..1]})).await; // warm the pool
    app.quiesce().await;
    let mut counts = Vec::new();
    for n in [1, 10, 100] {
        let before = app.statements();
        let d = app.data(q, json!({"ids": ids[..n]})).await;
        counts.push(app.statements() - before);
        assert_eq!(d["dashboards"].as_array().unwrap().len(), n);
        assert_eq!(d["dashboards"][0]["badges"][0]["badgeType"], "first_step");
    }
    println!("SQL statements per dashboards call for N = 1, 10, 100: {counts:?}");
    assert_eq!(counts[0], counts[1]);
    assert_eq!(counts[1], counts[2]);
    assert!(counts[0] <= 5, "{counts:?}");
}

#[tokio::test]
async fn badge_catalog_lists_the_launch_badges_in_order() {
    let app = TestApp::spawn().await;
    let d = app.data("{ badgeCatalog { slug name rarity points category displayOrder version unlockCriteria } }", json!({})).await;
    let c = d["badgeCatalog"].as_array().unwrap();
    let rows: Vec<_> = c
        .iter()
        .map(|b| {
            (
                b["slug"].as_str().unwrap(),
                b["name"].as_str().unwrap(),
                b["rarity"].as_str().unwrap(),
                b["points"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("first_step", "Premier Pas", "COMMON", 10),
            ("quick_win", "Victoire Rapide", "RARE", 25),
            ("time_saver", "Économiseur de Temps", "RARE", 50),
            ("efficiency_expert", "Expert Efficacité", "EPIC", 100),
            ("streak_master", "Maître de la Constance", "EPIC", 75),
        ]
    );
    assert_eq!(c[4]["category"], "CONSISTENCY");
    assert_eq!(
        c[4]["unlockCriteria"]["conditions"][0],
        json!({"field": "consecutive_active_days", "operator": ">=", "value": 7.0})
    );
}
