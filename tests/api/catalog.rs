use diesel_async::RunQueryDsl;
use progress_dashboard::db::catalog::{launch_catalog, sync};
use serde_json::json;

use crate::helpers::*;

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    version: i32,
}

/// Changing a badge bumps its version and keeps the history; awards keep the version they were
/// earned under; a badge removed from the file is deactivated.
#[tokio::test]
async fn catalog_changes_are_versioned() {
    let app = TestApp::spawn().await;
    let early = app.record("https://early.example.com", EXAMPLE).await;
    app.advance(&early, "value_creation", "IN_PROGRESS").await;

    let mut entries = launch_catalog().unwrap();
    let mut conn = app.db.conn().await;
    assert_eq!(sync(&mut conn, &entries).await.unwrap().unchanged, 5);

    // quick_win relaxed to 14 days; streak_master retired
    entries[1].unlock_criteria["conditions"][0]["value"] = json!(14.0);
    entries.retain(|e| e.slug != "streak_master");
    let report = sync(&mut conn, &entries).await.unwrap();
    assert_eq!(report.updated, ["quick_win"]);
    assert_eq!(report.deactivated, ["streak_master"]);
    assert_eq!(report.unchanged, 3);
    // idempotent
    let again = sync(&mut conn, &entries).await.unwrap();
    assert!(again.updated.is_empty() && again.deactivated.is_empty());

    let v = diesel::sql_query("SELECT version FROM badge_metadata WHERE slug = 'quick_win'")
        .get_result::<Version>(&mut conn)
        .await
        .unwrap();
    assert_eq!(v.version, 2);
    assert_eq!(app.db.count("SELECT count(*) FROM badge_versions v JOIN badge_metadata b ON b.id = v.badge_id WHERE b.slug = 'quick_win'").await, 2);
    assert_eq!(app.db.count("SELECT count(*) FROM badge_versions").await, 7);

    // the new rule applies now: a first implementation on day 10 earns quick_win v2
    app.clock.advance(chrono::Duration::days(10));
    let late = app.record("https://late.example.com", EXAMPLE).await;
    app.clock.advance(chrono::Duration::days(10));
    let r = app
        .update(&late, "value_creation", "IMPLEMENTED", None)
        .await;
    let new = &r["data"]["updateProgress"]["newBadges"];
    assert_eq!(slugs(new), ["first_step", "quick_win"]);
    assert_eq!(new[1]["versionEarned"], 2);
    assert_eq!(app.dashboard(&early).await["badges"][0]["versionEarned"], 1);

    let c = app
        .data("{ badgeCatalog { slug version } }", json!({}))
        .await;
    assert_eq!(c["badgeCatalog"].as_array().unwrap().len(), 4);
    assert_eq!(
        app.dashboard(&late).await["achievements"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

/// A changed translation is a new version; a missing one reads in French (and is reported), for
/// a reader who asks for English, through the real server.
#[tokio::test]
async fn translations_are_versioned_and_fall_back_to_french() {
    let app = TestApp::spawn().await;
    const CATALOG: &str = "{ badgeCatalog { slug name description version } }";
    let en = || crate::language::post_as(&app, Some("en"), CATALOG, json!({}));
    // an answer stored before the change is not served after it
    let held = app.app.pipeline.response_cache.bytes();
    let before = en().await;
    assert_eq!(before["badgeCatalog"][0]["name"], "First Step");
    assert!(
        app.app.pipeline.response_cache.bytes() > held,
        "the answer is stored"
    );
    assert_eq!(en().await, before);
    let mut entries = launch_catalog().unwrap();
    let mut conn = app.db.conn().await;
    let english = progress_dashboard::domain::reports::Lang::En;
    // first_step renamed in English; time_saver loses its English words
    entries[0].translations.get_mut(&english).unwrap().name = Some("Baby Steps".into());
    entries[2].translations.clear();
    let report = sync(&mut conn, &entries).await.unwrap();
    assert_eq!(report.updated, ["first_step", "time_saver"]);
    assert_eq!(
        report.untranslated,
        ["time_saver: name in en", "time_saver: description in en"]
    );
    let v = diesel::sql_query("SELECT version FROM badge_metadata WHERE slug = 'first_step'")
        .get_result::<Version>(&mut conn)
        .await
        .unwrap();
    assert_eq!(v.version, 2);

    // a dashboard read from the database sees the catalog changed (the catalog is otherwise
    // held for an hour)
    let after = app.record("https://after.example.com", EXAMPLE).await;
    app.dashboard(&after).await;
    let r = en().await;
    let catalog = r["badgeCatalog"].as_array().unwrap().clone();
    assert_eq!(catalog[0]["name"], "Baby Steps", "{r}");
    assert_eq!(
        catalog[0]["description"],
        "You started your first opportunity!"
    );
    assert_eq!(catalog[0]["version"], 2);
    assert_eq!(catalog[2]["name"], "Économiseur de Temps", "{r}");
    assert_eq!(catalog[1]["name"], "Quick Win");
}
