//! Two instances on a real Redis Cluster (three masters, three replicas): the checks that hold on
//! one Redis hold there, a master is killed in the middle (reads fall back to PostgreSQL, the award
//! made meanwhile reaches its subscriber once), and they hold again on the new topology, and again
//! after the events' slot is moved to another master.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use progress_dashboard::config::Config;
use serde_json::{json, Value};

use crate::access::{five_then_refused, limited};
use crate::helpers::*;
use crate::live::badge_subscribers;
use crate::redis_cluster::RedisCluster;
use crate::ws_client::*;

const BADGES: &str = "subscription($id: UUID!) {
  badgeAwarded(analysisId: $id) { badge { badgeType } } }";
const KPI: &str = "subscription($id: UUID!) {
  kpiUpdated(analysisId: $id) { progressSummary { inProgress implemented } } }";

fn on_cluster<'a>(cluster: &'a RedisCluster, prefix: &'a str) -> impl Fn(&mut Config) + 'a {
    move |c| {
        c.redis.cluster_nodes = Some(cluster.nodes().into());
        c.redis.prefix = prefix.to_owned();
    }
}

fn slug(d: &Value) -> String {
    d["badgeAwarded"]["badge"]["badgeType"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What one Redis does for two instances, on the cluster: toasts and KPIs cross over once, a read
/// after a write shows it whichever instance reads, the next reads cost no SQL (the cache spans
/// the shards), the cache's memory is read from every master.
async fn crosses_over(a: &TestApp, b: &TestApp, ws: &mut WsClient, id: &str, step: (&str, &str)) {
    let awarded = b.advance(id, step.0, step.1).await;
    let mut toasts = BTreeSet::new();
    for _ in &awarded {
        toasts.insert(slug(&ws.data("toasts").await));
    }
    assert_eq!(toasts, awarded.iter().cloned().collect(), "{step:?}");
    ws.silent("toasts", Duration::from_millis(500)).await;
    match ws.next("kpis", Duration::from_secs(10)).await {
        Some(Received::Data(_)) => {}
        other => panic!("a KPI update after {step:?}: {other:?}"),
    }
    let after = b.dashboard(id).await["progressSummary"].clone();
    assert_eq!(a.dashboard(id).await["progressSummary"], after);
    a.quiesce().await;
    let before = a.statements();
    for _ in 0..3 {
        a.dashboard(id).await;
    }
    assert_eq!(a.statements() - before, 0, "cached reads cost no SQL");
    let stats = a
        .data(
            "{ serviceStats { cache { backend usedMemoryBytes } } }",
            json!({}),
        )
        .await;
    let cache = &stats["serviceStats"]["cache"];
    assert_eq!(cache["backend"], "redis");
    assert!(cache["usedMemoryBytes"].as_u64().unwrap() > 0, "{cache}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_a_cluster_survive_a_master_failover() {
    let mut cluster = RedisCluster::start();
    let prefix = redis_prefix();
    let a = TestApp::spawn_with(on_cluster(&cluster, &prefix)).await;
    let b = a.spawn_sibling(on_cluster(&cluster, &prefix)).await;
    for app in [&a, &b] {
        eventually("the bus on the cluster", || {
            app.app.services.state.bus.connected()
        })
        .await;
    }
    // one sharded channel, on one shard, with both instances on it
    let channel = format!("{prefix}events");
    eventually("both subscribers on the events' shard", || {
        cluster.shard_subscribers(&channel) == "2"
    })
    .await;
    let id = b.record_example().await;
    let mut ws = WsClient::ready(&a.base, TRANSPORT_WS).await;
    ws.subscribe("toasts", BADGES, json!({"id": id})).await;
    ws.subscribe("kpis", KPI, json!({"id": id})).await;
    badge_subscribers(&a, 1).await;
    eventually("the kpi subscriber", || {
        a.app
            .services
            .state
            .counts
            .kpi_updated
            .load(Ordering::Relaxed)
            == 1
    })
    .await;
    crosses_over(&a, &b, &mut ws, &id, ("value_creation", "IN_PROGRESS")).await;

    // The master of the events' shard dies: reads fall back to PostgreSQL, and what is awarded
    // meanwhile reaches A once, when the bus is back (outbox, then the catch-up after the gap).
    let events_master = cluster.master_of(&channel);
    cluster.kill(events_master);
    let awarded = b.advance(&id, "business_management", "IMPLEMENTED").await;
    assert!(!awarded.is_empty());
    assert_eq!(
        a.dashboard(&id).await["progressSummary"]["implemented"],
        1,
        "a read during the failover"
    );
    let mut toasts = BTreeSet::new();
    for _ in &awarded {
        match ws.next("toasts", Duration::from_secs(30)).await {
            Some(Received::Data(d)) => toasts.insert(slug(&d)),
            other => panic!("the award made during the failover: {other:?}"),
        };
    }
    assert_eq!(toasts, awarded.iter().cloned().collect());
    cluster.wait_ok();
    assert_ne!(cluster.master_of(&channel), events_master);
    ws.silent("toasts", Duration::from_millis(700)).await;
    while ws.next("kpis", Duration::from_millis(300)).await.is_some() {}

    // The new topology is followed without a restart, and the old master comes back as a replica.
    cluster.revive(events_master);
    cluster.wait_ok();
    eventually("both subscribers on the new master", || {
        cluster.shard_subscribers(&channel) == "2"
    })
    .await;
    crosses_over(&a, &b, &mut ws, &id, ("value_creation", "IMPLEMENTED")).await;

    // Resharding moves the events' slot to another master: Redis unsubscribes both instances
    // from the channel there, they subscribe again on its new owner, and toasts still cross.
    let moved_to = cluster.move_slot_of(&channel);
    eventually("both subscribers on the slot's new owner", || {
        cluster.shard_subscribers(&channel) == "2"
    })
    .await;
    assert_eq!(cluster.master_of(&channel), moved_to);
    crosses_over(&a, &b, &mut ws, &id, ("digital_presence", "IMPLEMENTED")).await;
    assert_eq!(
        a.db.count("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
            .await,
        0
    );
}

/// Rate limits (the client's and the subject's windows are on different shards) and persisted
/// documents are shared through the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_documents_are_shared_through_a_cluster() {
    let cluster = RedisCluster::start();
    let prefix = redis_prefix();
    let configure = |c: &mut Config| {
        on_cluster(&cluster, &prefix)(c);
        limited(5)(c);
    };
    let a = TestApp::spawn_with(configure).await;
    let b = a.spawn_sibling(configure).await;
    five_then_refused(&a, &b).await;

    let open = TestApp::spawn_with(on_cluster(&cluster, &prefix)).await;
    let sibling = open.spawn_sibling(on_cluster(&cluster, &prefix)).await;
    let query = "{ badgeCatalog { slug } }";
    let hash = progress_dashboard::domain::persisted::document_id(query);
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let (_, first) = open
        .post_json(&json!({"query": query, "extensions": ext}))
        .await;
    assert!(first["data"]["badgeCatalog"].is_array(), "{first}");
    let (_, by_hash) = sibling.post_json(&json!({"extensions": ext})).await;
    assert_eq!(by_hash["data"], first["data"], "{by_hash}");
}
