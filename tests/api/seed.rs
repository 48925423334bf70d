use progress_dashboard::service::seed::{seed_demo, EXAMPLE_ANALYSIS_ID};

use crate::helpers::*;

#[tokio::test]
async fn seed_demo_is_idempotent_and_holds_the_example() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.conn().await;
    let first = seed_demo(&mut conn, 20, t0()).await.unwrap();
    assert_eq!((first.created, first.existing), (21, 0));
    let again = seed_demo(&mut conn, 20, t0()).await.unwrap();
    assert_eq!((again.created, again.existing), (0, 21));
    assert_eq!(app.db.count("SELECT count(*) FROM analyses").await, 21);

    let d = app.dashboard(&EXAMPLE_ANALYSIS_ID.to_string()).await;
    assert_eq!(d["identity"]["companyName"], "Example Inc.");
    let m = &d["metrics"];
    assert_eq!(m["timeSaved"]["potentialWeekly"], 15.0);
    assert_eq!(m["timeSaved"]["implementedAnnual"], 260);
    assert_eq!(m["moneySaved"]["potentialAnnual"], 39000);
    assert_eq!(m["moneySaved"]["implementedAnnual"], 13000);
    assert_eq!(slugs(&d["badges"]), ["first_step", "quick_win"]);

    // a realistic spread: every badge is held by someone, and some analyses are untouched
    for slug in [
        "first_step",
        "quick_win",
        "time_saver",
        "efficiency_expert",
        "streak_master",
    ] {
        let n = app.db.count(&format!("SELECT count(*) FROM user_badges u JOIN badge_metadata b ON b.id = u.badge_id WHERE b.slug = '{slug}'")).await;
        assert!(n > 0, "nobody holds {slug}");
    }
    assert!(app.db.count("SELECT count(*) FROM analyses a WHERE NOT EXISTS (SELECT 1 FROM progress_activity p WHERE p.analysis_id = a.id)").await > 0);
    assert!(app.db.count("SELECT count(*) FROM (SELECT analysis_id FROM opportunities GROUP BY 1 HAVING count(*) <> 3) x").await > 0);
}
