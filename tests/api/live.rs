//! Subscriptions over real WebSockets, across two instances sharing PostgreSQL and Redis.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use progress_dashboard::domain::ids::AnalysisId;
use progress_dashboard::domain::period::Period;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ws_client::*;

const BADGES: &str = "subscription($id: UUID!, $since: DateTime) {
  badgeAwarded(analysisId: $id, since: $since) { analysisId badge { id badgeType earnedAt versionEarned } } }";
const KPI: &str = "subscription($id: UUID!) {
  kpiUpdated(analysisId: $id) { analysisId at metrics { timeSaved { implementedWeekly } moneySaved { implementedAnnual } }
                                progressSummary { inProgress implemented completionPercentage } } }";
const PLATFORM: &str = "subscription($p: KpiPeriod!) {
  platformKpis(period: $p) { period at activeDashboards implementationRate hoursSavedWeekly badgesAwarded } }";

pub async fn badge_subscribers(app: &TestApp, n: i64) {
    eventually("badge subscribers", || {
        app.app
            .services
            .state
            .counts
            .badge_awarded
            .load(Ordering::Relaxed)
            == n
    })
    .await;
}

async fn kpi_subscribers(app: &TestApp, n: i64) {
    eventually("kpi subscribers", || {
        app.app
            .services
            .state
            .counts
            .kpi_updated
            .load(Ordering::Relaxed)
            == n
    })
    .await;
}

async fn bus_connected(app: &TestApp) {
    eventually("the event bus", || app.app.services.state.bus.connected()).await;
}

fn slug(d: &Value) -> String {
    d["badgeAwarded"]["badge"]["badgeType"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Two instances behind no load balancer: a client on A sees what a mutation on B caused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toasts_and_kpis_cross_instances() {
    let prefix = redis_prefix();
    let a = TestApp::spawn_with(with_redis(&prefix)).await;
    let b = a.spawn_sibling(with_redis(&prefix)).await;
    bus_connected(&a).await;
    bus_connected(&b).await;
    let id = b.record_example().await;

    let mut ws = WsClient::ready(&a.base, TRANSPORT_WS).await;
    ws.subscribe("toasts", BADGES, json!({"id": id})).await;
    ws.subscribe("kpis", KPI, json!({"id": id})).await;
    badge_subscribers(&a, 1).await;
    kpi_subscribers(&a, 1).await;

    assert_eq!(
        b.advance(&id, "value_creation", "IN_PROGRESS").await,
        ["first_step"]
    );
    let toast = ws.data("toasts").await;
    assert_eq!(slug(&toast), "first_step");
    assert_eq!(toast["badgeAwarded"]["analysisId"], json!(id));
    let kpi = ws.data("kpis").await;
    assert_eq!(kpi["kpiUpdated"]["progressSummary"]["inProgress"], 1);

    // Twenty identical requests at once on B: exactly one toast on A.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (base, id) = (b.base.clone(), id.clone());
            tokio::spawn(async move {
                let c = reqwest::Client::new();
                c.post(format!("{base}/graphql"))
                    .json(&json!({"query": UPDATE, "variables": {"input": {"analysisId": id, "opportunityId": "business_management", "status": "IMPLEMENTED", "hourlyRate": 50}}}))
                    .send().await.unwrap().json::<Value>().await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().get("errors").is_none());
    }
    assert_eq!(slug(&ws.data("toasts").await), "quick_win");
    ws.silent("toasts", Duration::from_millis(700)).await;
    let kpi = ws.data("kpis").await;
    assert_eq!(kpi["kpiUpdated"]["progressSummary"]["implemented"], 1);
    assert_eq!(
        kpi["kpiUpdated"]["metrics"]["moneySaved"]["implementedAnnual"],
        104 * 50
    );
    ws.silent("kpis", Duration::from_millis(300)).await;
    assert_eq!(
        a.db.count("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
            .await,
        0
    );

    // and the other way round, on the older protocol
    let mut legacy = WsClient::ready(&b.base, LEGACY_WS).await;
    legacy.subscribe("t", BADGES, json!({"id": id})).await;
    badge_subscribers(&b, 1).await;
    assert_eq!(
        a.advance(&id, "digital_presence", "IMPLEMENTED").await,
        Vec::<String>::new()
    );
    a.advance(&id, "value_creation", "IMPLEMENTED").await;
    let got: BTreeSet<_> = [slug(&legacy.data("t").await), slug(&legacy.data("t").await)].into();
    assert_eq!(
        got,
        BTreeSet::from(["time_saver".to_owned(), "efficiency_expert".to_owned()])
    );
}

/// A client that reconnects with `since` gets exactly what it missed, then the live stream.
#[tokio::test]
async fn reconnect_with_since_loses_nothing_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let mut ws = WsClient::ready(&app.base, TRANSPORT_WS).await;
    ws.subscribe("1", BADGES, json!({"id": id})).await;
    badge_subscribers(&app, 1).await;
    app.advance(&id, "value_creation", "IN_PROGRESS").await;
    let first = ws.data("1").await;
    let seen_at = first["badgeAwarded"]["badge"]["earnedAt"].clone();
    drop(ws);
    badge_subscribers(&app, 0).await;

    // missed while away
    app.clock.advance(chrono::Duration::minutes(1));
    app.advance(&id, "business_management", "IMPLEMENTED").await; // quick_win
    app.clock.advance(chrono::Duration::minutes(1));
    app.advance(&id, "value_creation", "IMPLEMENTED").await; // time_saver

    let mut ws = WsClient::ready(&app.base, TRANSPORT_WS).await;
    ws.subscribe("2", BADGES, json!({"id": id, "since": seen_at}))
        .await;
    assert_eq!(slug(&ws.data("2").await), "quick_win");
    assert_eq!(slug(&ws.data("2").await), "time_saver");
    ws.silent("2", Duration::from_millis(300)).await;
    // then live, once
    app.clock.advance(chrono::Duration::minutes(1));
    app.advance(&id, "digital_presence", "IMPLEMENTED").await;
    assert_eq!(slug(&ws.data("2").await), "efficiency_expert");
    ws.silent("2", Duration::from_millis(300)).await;

    // since before everything: the whole history, in order
    let mut all = WsClient::ready(&app.base, TRANSPORT_WS).await;
    all.subscribe(
        "3",
        BADGES,
        json!({"id": id, "since": "2000-01-01T00:00:00Z"}),
    )
    .await;
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(slug(&all.data("3").await));
    }
    assert_eq!(
        order,
        ["first_step", "quick_win", "time_saver", "efficiency_expert"]
    );
    all.silent("3", Duration::from_millis(200)).await;
}

/// Redis stops mid-test: reads and writes go on from PostgreSQL; once it is back, the bus
/// delivers again (and what could not be sent meanwhile goes out late) with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_degrades_and_recovers() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let prefix = redis_prefix();
    let configure = |c: &mut progress_dashboard::config::Config| {
        c.redis.url = Some(url.clone().into());
        c.redis.prefix = prefix.clone();
        c.live.outbox_relay_interval = Duration::from_millis(200);
    };
    let a = TestApp::spawn_with(configure).await;
    let b = a.spawn_sibling(configure).await;
    bus_connected(&a).await;
    let id = b.record_example().await;
    a.dashboard(&id).await; // cached
    let mut ws = WsClient::ready(&a.base, TRANSPORT_WS).await;
    ws.subscribe("t", BADGES, json!({"id": id})).await;
    badge_subscribers(&a, 1).await;

    redis.stop();
    assert_eq!(
        b.advance(&id, "value_creation", "IN_PROGRESS").await,
        ["first_step"]
    );
    for app in [&a, &b] {
        let d = app.dashboard(&id).await;
        assert_eq!(
            d["opportunities"][1]["status"], "IN_PROGRESS",
            "stale read during the outage"
        );
    }
    let stats = a
        .data(
            "{ serviceStats { cache { redisDown backend } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats["serviceStats"]["cache"],
        json!({"redisDown": true, "backend": "redis"})
    );

    redis.restart();
    bus_connected(&a).await;
    assert_eq!(
        b.advance(&id, "business_management", "IMPLEMENTED").await,
        ["quick_win"]
    );
    let got: BTreeSet<_> = [slug(&ws.data("t").await), slug(&ws.data("t").await)].into();
    assert_eq!(
        got,
        BTreeSet::from(["first_step".to_owned(), "quick_win".to_owned()])
    );
    // the restarted Redis is empty: reads fill it again and show the latest state
    assert_eq!(a.dashboard(&id).await["progressSummary"]["implemented"], 1);
}

/// An award whose event never reached this instance (published while its bus listener was
/// away) still reaches its subscribers: when the listener is back, badge streams catch up from
/// the database, each award sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badge_toasts_catch_up_when_the_bus_is_back() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let prefix = redis_prefix();
    let a = TestApp::spawn_with(|c| {
        c.redis.url = Some(url.clone().into());
        c.redis.prefix = prefix.clone();
    })
    .await;
    bus_connected(&a).await;
    let id = a.record_example().await;
    let mut ws = WsClient::ready(&a.base, TRANSPORT_WS).await;
    ws.subscribe("t", BADGES, json!({"id": id})).await;
    badge_subscribers(&a, 1).await;
    assert_eq!(
        a.advance(&id, "value_creation", "IN_PROGRESS").await,
        ["first_step"]
    );
    assert_eq!(slug(&ws.data("t").await), "first_step");

    redis.stop();
    // an award made by another instance meanwhile, whose event this one never hears
    sql(
        &a.db,
        &format!(
            "INSERT INTO user_badges (id, analysis_id, badge_id, version_earned, earned_at)
             SELECT gen_random_uuid(), '{id}', b.id, 1, now() FROM badge_metadata b
             WHERE b.slug = 'quick_win'"
        ),
    )
    .await;
    redis.restart();
    assert_eq!(slug(&ws.data("t").await), "quick_win");
    // and first_step, already sent, is not sent again
    ws.silent("t", Duration::from_millis(500)).await;
}

/// A read right after a write never shows the old state, whichever instance reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_reads_never_show_old_state_after_a_write() {
    let (a, b) = two_on_redis().await;
    let id = a.record_example().await;
    let steps = [
        ("value_creation", "IN_PROGRESS", 1, 0),
        ("value_creation", "IMPLEMENTED", 0, 1),
        ("business_management", "IN_PROGRESS", 1, 1),
        ("value_creation", "NOT_STARTED", 1, 0),
    ];
    for (i, (opp, status, in_progress, implemented)) in steps.into_iter().enumerate() {
        let (writer, reader) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        reader.dashboard(&id).await; // the reader has it cached
        writer.advance(&id, opp, status).await;
        for app in [reader, writer] {
            let s = &app.dashboard(&id).await["progressSummary"];
            assert_eq!(
                (s["inProgress"].as_i64(), s["implemented"].as_i64()),
                (Some(in_progress), Some(implemented)),
                "step {i}"
            );
        }
    }
    // cached reads cost no SQL
    a.quiesce().await;
    let before = a.statements();
    for _ in 0..5 {
        a.dashboard(&id).await;
    }
    assert_eq!(a.statements() - before, 0);
    let stats = a
        .data(
            "{ serviceStats { cache { backend hits misses hitRate usedMemoryBytes } } }",
            json!({}),
        )
        .await;
    let c = &stats["serviceStats"]["cache"];
    assert_eq!(c["backend"], "redis");
    assert!(c["hits"].as_u64().unwrap() >= 5, "{c}");
    assert!(c["hitRate"].as_f64().unwrap() > 0.5, "{c}");
    assert!(c["usedMemoryBytes"].as_u64().unwrap() > 0, "{c}");
}

/// A burst of misses on one key loads it from PostgreSQL once (or very few times), not per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_misses_rebuilds_once() {
    let prefix = redis_prefix();
    let app = std::sync::Arc::new(
        TestApp::spawn_with(|c| {
            with_redis(&prefix)(c);
            quiet(c);
        })
        .await,
    );
    let id = app.record_example().await;
    let uuid = uuid::Uuid::parse_str(&id).unwrap().into();
    app.dashboard(&id).await; // warms the pool
    app.app.services.dashboards.evict(uuid).await;
    let before = app.statements();
    let reads: Vec<_> = (0..20)
        .map(|_| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move { app.dashboard(&id).await })
        })
        .collect();
    for r in reads {
        assert_eq!(r.await.unwrap()["id"], json!(id));
    }
    let loads = (app.statements() - before) / 5;
    assert!(loads <= 2, "{loads} loads for 20 concurrent misses");
}

#[tokio::test]
async fn platform_kpis_are_computed_once_per_tick_for_all_listeners() {
    let app =
        TestApp::spawn_with(|c| c.live.platform_kpi_tick = Some(Duration::from_millis(150))).await;
    let id = app.record_example().await;
    app.advance(&id, "value_creation", "IMPLEMENTED").await;

    let mut one = WsClient::ready(&app.base, TRANSPORT_WS).await;
    let mut two = WsClient::ready(&app.base, LEGACY_WS).await;
    one.subscribe("p", PLATFORM, json!({"p": "MINUTE"})).await;
    two.subscribe("p", PLATFORM, json!({"p": "MINUTE"})).await;
    let k = one.data("p").await["platformKpis"].clone();
    assert_eq!(k["period"], "MINUTE");
    assert_eq!(k["activeDashboards"], 1);
    assert_eq!(k["badgesAwarded"], 2);
    assert_eq!(k["hoursSavedWeekly"], 8.0);
    assert_eq!(k["implementationRate"], 33.3);
    two.data("p").await;
    let platform = &app.app.services.platform;
    assert_eq!(platform.subscribers()[0].1, 2);

    let start = platform.computations();
    let mut received = 0;
    for _ in 0..6 {
        one.data("p").await;
        received += 1;
    }
    let computed = platform.computations() - start;
    // one computation per tick, shared: not one per listener
    assert!(
        computed <= received + 1,
        "{computed} computations for {received} ticks and 2 listeners"
    );

    let stats = app.data("{ serviceStats { live { platformKpis { period subscribers } websocketConnections } } }", json!({})).await;
    assert_eq!(
        stats["serviceStats"]["live"]["platformKpis"][0],
        json!({"period": "MINUTE", "subscribers": 2})
    );
    assert_eq!(stats["serviceStats"]["live"]["websocketConnections"], 2);

    drop(one);
    drop(two);
    eventually("no listeners", || platform.subscribers()[0].1 == 0).await;
    let idle = platform.computations_of(Period::Minute);
    // three ticks of another period, on the same 150 ms tick, while nobody listens to MINUTE
    let mut hour = platform.subscribe(Period::Hour);
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(10), hour.latest.changed())
            .await
            .expect("an HOUR tick")
            .unwrap();
    }
    assert_eq!(
        platform.computations_of(Period::Minute),
        idle,
        "computed with nobody listening"
    );
}

#[tokio::test]
async fn websocket_limits_init_deadline_and_pings() {
    let app = TestApp::spawn_with(|c| {
        c.live.ws_init_timeout = Duration::from_millis(300);
        c.limits.ws_max_operations = 2;
        c.live.ws_ping_interval = Duration::from_millis(200);
    })
    .await;
    let id = app.record_example().await;

    // no connection_init: closed with 4408
    let mut idle = WsClient::connect(&app.base, TRANSPORT_WS).await;
    match idle.next("x", Duration::from_secs(3)).await {
        Some(Received::Closed(code)) => assert_eq!(code, Some(4408)),
        other => panic!("expected a close, got {other:?}"),
    }

    let mut ws = WsClient::ready(&app.base, TRANSPORT_WS).await;
    ws.subscribe("1", BADGES, json!({"id": id})).await;
    ws.subscribe("2", KPI, json!({"id": id})).await;
    ws.subscribe("3", KPI, json!({"id": id})).await;
    match ws.next("3", Duration::from_secs(3)).await {
        Some(Received::Error(e)) => assert_eq!(e["extensions"]["code"], "RATE_LIMITED", "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }
    // an unknown analysis fails at once
    ws.unsubscribe("2").await;
    kpi_subscribers(&app, 0).await;
    ws.subscribe(
        "4",
        BADGES,
        json!({"id": "00000000-0000-4000-8000-000000000000"}),
    )
    .await;
    match ws.next("4", Duration::from_secs(3)).await {
        Some(Received::Error(e)) => {
            assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND", "{e}");
            assert!(e["extensions"]["requestId"].is_string(), "{e}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // the server keeps the connection alive with pings (the client answers them)
    ws.silent("1", Duration::from_millis(700)).await;
    assert_eq!(
        app.app
            .services
            .state
            .counts
            .websocket_connections
            .load(Ordering::Relaxed),
        1
    );
}

/// A subscriber that stops reading is told it fell behind and closed; the others get everything.
#[tokio::test]
async fn a_slow_subscriber_is_closed_without_slowing_the_others() {
    use futures_util::StreamExt;
    use progress_dashboard::events::Event;

    let app = TestApp::spawn().await;
    let id: AnalysisId = uuid::Uuid::parse_str(&app.record_example().await)
        .unwrap()
        .into();
    let services = &app.app.services;
    let mut slow = Box::pin(progress_dashboard::service::live::kpi_updates(
        services,
        id,
        Default::default(),
    ));
    let fast = progress_dashboard::service::live::kpi_updates(services, id, Default::default());
    let reader = tokio::spawn(fast.take(200).collect::<Vec<_>>());
    tokio::task::yield_now().await;
    let data = services.dashboards.load(&[id]).await.unwrap()[&id].clone();
    for i in 0..200 {
        services
            .state
            .hub
            .dispatch(std::sync::Arc::new(Event::KpiUpdated {
                analysis_id: id,
                metrics: progress_dashboard::domain::metrics::metrics(
                    &data.opportunities,
                    None,
                    "CAD",
                ),
                summary: progress_dashboard::domain::metrics::progress_summary(&data.opportunities),
                at: t0() + chrono::Duration::seconds(i),
            }));
        tokio::task::yield_now().await;
    }
    let got = reader.await.unwrap();
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(Result::is_ok));
    assert!(matches!(
        slow.next().await,
        Some(Err(progress_dashboard::service::live::Lagged(_)))
    ));
    assert!(slow.next().await.is_none());
}

/// A shared run that ends with an error (an unknown analysis) gives every member the error and
/// leaves the registry at once, so the next identical subscription starts a run of its own and
/// is told why too.
#[tokio::test]
async fn a_shared_run_that_fails_tells_every_member_and_is_not_joined_again() {
    let app = TestApp::spawn().await;
    let kpi = "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { at } }";
    let unknown = json!({"id": uuid::Uuid::new_v4()});
    for protocol in [TRANSPORT_WS, LEGACY_WS, TRANSPORT_WS] {
        let mut ws = WsClient::ready(&app.base, protocol).await;
        ws.subscribe("k", kpi, unknown.clone()).await;
        match ws.next("k", Duration::from_secs(5)).await {
            Some(Received::Error(e)) => {
                assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND", "{protocol}");
                assert_eq!(e["path"], json!(["kpiUpdated"]), "{protocol}");
            }
            other => panic!("{protocol}: expected ANALYSIS_NOT_FOUND, got {other:?}"),
        }
        assert!(
            matches!(
                ws.next("k", Duration::from_secs(5)).await,
                Some(Received::Complete)
            ),
            "{protocol}"
        );
    }
    eventually("no run left", || app.app.shared.runs() == 0).await;
}
