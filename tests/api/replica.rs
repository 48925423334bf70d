//! A real streaming replica (`pg_basebackup -R`): uncached dashboards, history and activity are
//! read there while it keeps up; a read never shows less than the primary had when it began (the
//! replica's replay paused, a write, the read right after it); past the lag bound, or gone, it is
//! skipped for the primary, and taken back once it has caught up.

use std::sync::Arc;
use std::time::Duration;

use progress_dashboard::clock::ManualClock;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::pg_replica::PgPair;

const READ: &str = "query($id: UUID!) { dashboard(analysisId: $id) {
  identity { companyName }
  progressSummary { inProgress implemented }
  history(granularity: DAY) { inProgress implemented }
  activity(first: 5) { totalCount edges { node { opportunityId to } } } } }";

async fn replica_is(app: &TestApp, word: &str) {
    let base = app.base.clone();
    eventually_async(&format!("the replica {word}"), || {
        let base = base.clone();
        async move { get_json(&format!("{base}/ready")).await["replica"] == word }
    })
    .await;
}

async fn company(app: &TestApp, id: &str) -> Value {
    app.data(READ, json!({"id": id})).await["dashboard"]["identity"]["companyName"].clone()
}

/// What a reader sees: in progress and implemented by the summary, by the last point of the
/// history, and the activity log's length.
async fn seen(app: &TestApp, id: &str) -> (Value, Value, Value) {
    let d = app.data(READ, json!({"id": id})).await["dashboard"].clone();
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    (
        json!([
            d["progressSummary"]["inProgress"],
            d["progressSummary"]["implemented"]
        ]),
        json!([last["inProgress"], last["implemented"]]),
        d["activity"]["totalCount"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_a_streaming_replica_that_keeps_up() {
    let pg = PgPair::start().await;
    let db = Arc::new(TestDb {
        url: pg.primary_url(),
    });
    let replica_url = pg.replica_url();
    let app = TestApp::spawn_on(db, ManualClock::new(t0()), |c| {
        c.database.replica_url = Some(replica_url.into());
        c.database.replica_max_lag = Duration::from_millis(2000);
        // every read is an uncached one
        c.cache.enabled = false;
    })
    .await;
    replica_is(&app, "ok").await;
    let id = app.record_example().await;

    // Read after write, the replica keeping up: each read shows the write just made.
    for (n, (opp, status)) in [
        ("value_creation", "IN_PROGRESS"),
        ("value_creation", "IMPLEMENTED"),
    ]
    .into_iter()
    .enumerate()
    {
        app.advance(&id, opp, status).await;
        let expected = if n == 0 { json!([1, 0]) } else { json!([0, 1]) };
        let (summary, history, activity) = seen(&app, &id).await;
        assert_eq!((&summary, &history), (&expected, &expected), "step {n}");
        assert_eq!(activity, n + 1);
    }
    // The reads are the replica's: a change made on the primary behind the service's back (no
    // new version) is not seen while the replica's replay is paused.
    let before = company(&app, &id).await;
    pg.wait_replayed();
    pg.on_replica("SELECT pg_wal_replay_pause()");
    sql(
        &app.db,
        &format!("UPDATE analyses SET company_name = 'Renamed' WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(company(&app, &id).await, before, "read on the replica");

    // Still paused, a write: the read right after it shows it all the same (the replica's version
    // is behind the primary's, so the primary answers), history and activity included.
    app.advance(&id, "business_management", "IN_PROGRESS").await;
    let (summary, history, activity) = seen(&app, &id).await;
    assert_eq!(
        (summary, history, activity),
        (json!([1, 1]), json!([1, 1]), json!(3))
    );
    // past the bound it is skipped altogether
    replica_is(&app, "lagging").await;
    assert_eq!(company(&app, &id).await, "Renamed");
    // caught up: back in use, and it has the change now
    pg.on_replica("SELECT pg_wal_replay_resume()");
    replica_is(&app, "ok").await;
    assert_eq!(company(&app, &id).await, "Renamed");

    // Lost: reads go to the primary at once, and it is taken back when it returns.
    pg.stop_replica();
    assert_eq!(seen(&app, &id).await.2, 3);
    app.advance(&id, "business_management", "IMPLEMENTED").await;
    assert_eq!(seen(&app, &id).await.0, json!([0, 2]));
    replica_is(&app, "unreachable").await;
    pg.start_replica();
    replica_is(&app, "ok").await;
    assert_eq!(seen(&app, &id).await.0, json!([0, 2]));
}
