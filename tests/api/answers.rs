//! Stored answers (`http::answers`): a repeated query is answered without running it, and never
//! says anything running it would not: after a write on another instance, to a caller with less
//! access, or past the moment a time-dependent field changes.

use std::sync::atomic::Ordering;

use chrono::{Duration, TimeZone, Utc};
use progress_dashboard::config::Config;
use progress_dashboard::domain::access::Role;
use serde_json::{json, Value};

use crate::access::{jwt_mode, token, two_analyses};
use crate::helpers::*;

/// (hits, misses) of an instance's answer store so far.
fn answered(app: &TestApp) -> (u64, u64) {
    let s = &app.app.services.dashboards.answer_stats;
    (
        s.hits.load(Ordering::Relaxed),
        s.misses.load(Ordering::Relaxed),
    )
}

/// The same request twice: the second is the stored answer, byte for byte, and costs no SQL.
#[tokio::test]
async fn a_repeated_query_is_answered_from_the_store() {
    let app = TestApp::spawn_with(quiet).await;
    let id = app.record_example().await;
    let first = app.dashboard(&id).await;
    app.quiesce().await;
    let (hits, _) = answered(&app);
    let before = app.statements();
    let again = app.dashboard(&id).await;
    assert_eq!(again, first);
    assert_eq!(answered(&app).0, hits + 1);
    assert_eq!(app.statements(), before);

    // a change makes the stored answer stale: the next read runs, and says what changed
    app.advance(&id, "value_creation", "IMPLEMENTED").await;
    let (hits, misses) = answered(&app);
    let after = app.dashboard(&id).await;
    assert_eq!(answered(&app), (hits, misses + 1));
    assert_eq!(after["progressSummary"]["implemented"], 1);

    // mutations and errors are never stored
    for _ in 0..2 {
        app.update(&id, "value_creation", "IN_PROGRESS", None).await;
        let unknown = json!({"id": uuid::Uuid::new_v4()});
        app.gql(&DASHBOARD, unknown).await;
    }
    assert_eq!(answered(&app).0, hits);
}

/// A client chooses the keys (any bytes that make a valid query): however many distinct
/// requests it sends, the store stays within its bound.
#[tokio::test]
async fn the_store_stays_within_its_bound() {
    let app = TestApp::spawn_with(|c| {
        c.cache.responses_mb = 1;
        quiet(c);
    })
    .await;
    let id = app.record_example().await;
    // the same query with other spacing each time: other bytes, other keys, 3 KB answers
    for i in 0..1500 {
        let query = format!("{}{}", &*DASHBOARD, " ".repeat(i));
        app.data(&query, json!({"id": id})).await;
    }
    let held = app.app.pipeline.response_cache.bytes();
    assert!(held <= 1 << 20, "{held}");
    assert!(held > 1 << 19, "it filled up: {held}");
}

/// Two instances on one Redis: a write on B, then at once a read on A that had the old answer
/// stored, shows the write, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_instance_is_read_at_once_on_the_other() {
    let (a, b) = two_on_redis().await;
    let id = a.record_example().await;
    let summary = |d: &Value| d["progressSummary"]["inProgress"].as_i64().unwrap();
    let mut in_progress = 0;
    for round in 0..20 {
        // A has the current answer stored (its second read is served from the store)
        a.dashboard(&id).await;
        let (hits, _) = answered(&a);
        assert_eq!(
            summary(&a.dashboard(&id).await),
            in_progress,
            "round {round}"
        );
        assert_eq!(answered(&a).0, hits + 1, "round {round}");
        let status = if round % 2 == 0 {
            "IN_PROGRESS"
        } else {
            "NOT_STARTED"
        };
        b.advance(&id, "digital_presence", status).await;
        in_progress = 1 - in_progress;
        // the read sent the moment B answered
        assert_eq!(
            summary(&a.dashboard(&id).await),
            in_progress,
            "round {round}"
        );
    }
}

/// An answer stored for a caller who may read an analysis is not served to one who may not,
/// though the request is the same bytes and the callers the same kind.
#[tokio::test]
async fn a_caller_without_access_is_refused_on_a_stored_answer() {
    let app = TestApp::spawn_with(|c: &mut Config| {
        jwt_mode(c);
        quiet(c);
    })
    .await;
    let (a, b) = two_analyses(&app).await;
    let body = json!({"query": &*DASHBOARD, "variables": {"id": a}});
    let call = |bearer: Option<String>| {
        let body = body.clone();
        let client = app.client.clone();
        let url = app.graphql_url();
        async move {
            let mut r = client.post(url).json(&body);
            if let Some(t) = bearer {
                r = r.bearer_auth(t);
            }
            r.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let of_a = token(Role::Viewer, &[&a]);
    let of_b = token(Role::Viewer, &[&b]);
    let seen = call(Some(of_a.clone())).await;
    assert!(seen.get("errors").is_none(), "{seen}");
    let (hits, _) = answered(&app);
    assert_eq!(call(Some(of_a)).await, seen);
    assert_eq!(answered(&app).0, hits + 1, "stored");

    let refused = call(Some(of_b)).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "ANALYSIS_NOT_FOUND"
    );
    assert!(refused["data"].is_null(), "{refused}");
    let anonymous = call(None).await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(
        answered(&app).0,
        hits + 1,
        "neither was served the stored answer"
    );

    // a list answered for a caller who sees one of two ids is not the answer for one who sees both
    let both = json!({"query": "query($ids: [UUID!]!) { dashboards(analysisIds: $ids) { analysisId } }",
                      "variables": {"ids": [a, b]}});
    let list = |bearer: String| {
        let r = app
            .client
            .post(app.graphql_url())
            .json(&both)
            .bearer_auth(bearer);
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ids = |r: Value| r["data"]["dashboards"].as_array().unwrap().len();
    assert_eq!(ids(list(token(Role::Viewer, &[&a])).await), 1);
    assert_eq!(ids(list(token(Role::Viewer, &[&a])).await), 1);
    assert_eq!(ids(list(token(Role::Viewer, &[&a, &b])).await), 2);
}

const ACHIEVEMENTS: &str = "query($id: UUID!) { dashboard(analysisId: $id) {
    achievements { badge { slug } progressPercentage nextMilestone } } }";

/// The achievement of `slug` in a dashboard's answer.
fn achievement(data: &Value, slug: &str) -> Value {
    data["dashboard"]["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["badge"]["slug"] == slug)
        .unwrap()
        .clone()
}

/// A stored answer holds until the local day ends (Toronto's: a streak ends with it), or until a time window
/// counts down (at the analysis' time of day), not a moment longer.
#[tokio::test]
async fn time_moves_stored_answers_on() {
    let app = TestApp::spawn_with(quiet).await;
    // made at 10:00; active on the 1st and the 2nd
    let made = Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap();
    app.clock.set(made);
    let id = app.record_example().await;
    app.advance(&id, "digital_presence", "IN_PROGRESS").await;
    app.clock.set(made + Duration::days(1));
    app.advance(&id, "value_creation", "IN_PROGRESS").await;
    let read = || async { app.data(ACHIEVEMENTS, json!({"id": id})).await };

    // the window for a first implementation: 6 days left until 10:00 on the 3rd, then 5
    app.clock
        .set(made + Duration::days(2) - Duration::seconds(1));
    let before = read().await;
    let (hits, _) = answered(&app);
    assert_eq!(read().await, before);
    assert_eq!(answered(&app).0, hits + 1, "stored");
    let quick = |d: &Value| achievement(d, "quick_win")["nextMilestone"].clone();
    assert_eq!(quick(&before), "Implémentez une opportunité d'ici 6 jours");
    app.clock
        .set(made + Duration::days(2) + Duration::seconds(1));
    assert_eq!(
        quick(&read().await),
        "Implémentez une opportunité d'ici 5 jours"
    );

    // the streak: 2 days to 23:59:59 on the 3rd in Toronto (it ends yesterday), none a second
    // later (05:00 UTC: EST is UTC-5)
    let streak = |d: &Value| achievement(d, "streak_master")["progressPercentage"].clone();
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 3, 4, 4, 59, 59).unwrap());
    let late = read().await;
    assert_eq!(streak(&late), 28);
    let (hits, _) = answered(&app);
    assert_eq!(read().await, late);
    assert_eq!(answered(&app).0, hits + 1, "stored");
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 3, 4, 5, 0, 0).unwrap());
    assert_eq!(streak(&read().await), 0);
}

/// A resolver written without a thought for the response cache: it reads a dashboard through the
/// request's loaders and records nothing itself. Its answer still depends on what it read (the
/// loader records it), so a change to that dashboard is seen on the next request.
mod a_new_resolver {
    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
    use axum::body::Bytes;
    use progress_dashboard::domain::access::Caller;
    use progress_dashboard::graphql::loaders::{recording_loaders, DashboardKey, Loaders};
    use progress_dashboard::graphql::pipeline::Transport;
    use progress_dashboard::graphql::reads::ReadRecorder;
    use progress_dashboard::graphql::response_cache::ResponseCache;
    use serde_json::json;

    use crate::helpers::*;

    struct NewQuery;

    #[Object]
    impl NewQuery {
        /// Implemented opportunities of one analysis, read the ordinary way.
        async fn implemented(&self, ctx: &Context<'_>, id: uuid::Uuid) -> usize {
            let data = ctx
                .data_unchecked::<Loaders>()
                .load_one(DashboardKey(id.into()))
                .await
                .unwrap()
                .unwrap();
            data.opportunities
                .iter()
                .filter(|o| o.status.as_str() == "IMPLEMENTED")
                .count()
        }
    }

    #[tokio::test]
    async fn what_it_read_decides_when_its_stored_answer_is_served() {
        let app = TestApp::spawn().await;
        let id = app.record_example().await;
        let dashboards = app.app.services.dashboards.clone();
        let schema = Schema::new(NewQuery, EmptyMutation, EmptySubscription);
        let answers = ResponseCache::new(1 << 20, &dashboards);
        let query = format!("{{ implemented(id: \"{id}\") }}");
        let key = answers
            .key(Transport::Post, &Caller::Open, None, query.as_bytes())
            .expect("the store is on");
        let run = |reads: ReadRecorder| {
            let request = async_graphql::Request::new(query.clone())
                .data(recording_loaders(dashboards.clone(), Some(reads)));
            schema.execute(request)
        };

        let reads = ReadRecorder::default();
        let response = run(reads.clone()).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let recorded = reads.take();
        assert_eq!(recorded.dashboards.len(), 1, "the loader recorded the read");
        let body = Bytes::from(serde_json::to_vec(&response).unwrap());
        let operation = progress_dashboard::series::operation(None);
        answers.store(key, recorded, body.clone(), operation, &dashboards);
        let now = progress_dashboard::clock::Clock::now(&app.clock);
        let served = answers.serve(key, &Caller::Open, &dashboards, now).await;
        assert_eq!(served, Some(body), "unchanged: served again");

        app.advance(&id, "value_creation", "IMPLEMENTED").await;
        let served = answers.serve(key, &Caller::Open, &dashboards, now).await;
        assert_eq!(served, None, "the dashboard it read changed: run again");
        let again = run(ReadRecorder::default()).await;
        assert_eq!(again.data.into_json().unwrap(), json!({ "implemented": 1 }));
    }
}

/// The time fields (history, the activity log, the streak) read through the dashboard: their
/// stored answer is served again while the analysis is unchanged, and never after it changed.
/// `progressSince` shows the instant itself, so its answer is never served again.
#[tokio::test]
async fn time_fields_are_served_again_only_while_what_they_read_holds() {
    let app = TestApp::spawn_with(quiet).await;
    let id = app.record_example().await;
    app.advance(&id, "digital_presence", "IN_PROGRESS").await;
    let q = "query($id: UUID!) { dashboard(analysisId: $id) {
        streak { current } history { implemented inProgress changes }
        activity(first: 5) { totalCount edges { node { to } } } } }";
    let read = || async { app.data(q, json!({"id": id})).await };
    let before = read().await;
    let (hits, _) = answered(&app);
    assert_eq!(read().await, before);
    assert_eq!(answered(&app).0, hits + 1, "stored");
    assert_eq!(before["dashboard"]["activity"]["totalCount"], 1);

    app.advance(&id, "digital_presence", "IMPLEMENTED").await;
    let (hits, misses) = answered(&app);
    let after = read().await;
    assert_eq!(answered(&app), (hits, misses + 1), "run again, not served");
    let d = &after["dashboard"];
    assert_eq!(d["activity"]["totalCount"], 2);
    assert_eq!(d["activity"]["edges"][0]["node"]["to"], "IMPLEMENTED");
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["implemented"].clone(), last["changes"].clone()),
        (json!(1), json!(2))
    );

    let since = "query($id: UUID!) { dashboard(analysisId: $id) {
        progressSince(since: \"2026-01-01T00:00:00Z\") { now { at progressSummary { implemented } } } } }";
    app.data(since, json!({"id": id})).await;
    let (hits, _) = answered(&app);
    app.data(since, json!({"id": id})).await;
    assert_eq!(answered(&app).0, hits, "never stored");
}
