//! After a change commits: the cache gets the new state and the bus gets the change's events (from
//! the outbox rows written in the same transaction). The relay publishes whatever that missed.

use std::time::Duration;

use diesel_async::AsyncPgConnection;

use crate::db::outbox;
use crate::domain::dashboard::DashboardData;
use crate::events::Event;
use crate::series;
use crate::service::Services;

/// Rows this old and still unpublished are the relay's.
const RELAY_GRACE_SECS: f64 = 3.0;
const RELAY_BATCH: i64 = 500;
/// Published rows are kept this long (for inspection), then pruned.
const KEEP_DAYS: i32 = 1;

/// Write-through of the committed state, then publication of its events. One call per change:
/// it both refreshes the cache entry and triggers the `kpiUpdated` push.
pub async fn changed(
    services: &Services,
    data: &DashboardData,
    events: Vec<Event>,
    outbox_ids: Vec<i64>,
) {
    services.dashboards.write_through(data).await;
    if events.is_empty() {
        return;
    }
    let services = services.clone();
    // Off the request's path: the response need not wait for the bus.
    tokio::spawn(async move {
        if publish(&services, &events).await {
            match services.state.pool.get().await {
                Ok(mut conn) => {
                    if let Err(e) = outbox::mark_published(&mut conn, &outbox_ids).await {
                        tracing::warn!(error = %e, "outbox: could not mark events published; the relay will resend them");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: no connection to mark events published")
                }
            }
        }
    });
}

/// Hands `events` to the bus, counting them when it took them.
pub async fn publish(services: &Services, events: &[Event]) -> bool {
    let sent = services.state.bus.publish(events).await;
    if sent {
        for event in events {
            series::events_published(event.kind());
        }
    }
    sent
}

/// One pass of the relay: publishes up to a batch of the outbox rows older than `grace_secs`;
/// how many went out.
async fn relay_batch(
    services: &Services,
    conn: &mut AsyncPgConnection,
    grace_secs: f64,
) -> diesel::QueryResult<usize> {
    outbox::relay(conn, grace_secs, RELAY_BATCH, |payloads| async move {
        let events: Vec<Event> = payloads
            .into_iter()
            .filter_map(|p| serde_json::from_value(p).ok())
            .collect();
        publish(services, &events).await
    })
    .await
}

/// Publishes every event still in the outbox, whatever its age (at shutdown), for at most a few
/// seconds.
pub async fn flush_outbox(services: &Services) {
    let flush = async {
        let mut conn = services.state.pool.get().await.ok()?;
        let mut total = 0;
        loop {
            let batch = relay_batch(services, &mut conn, 0.0).await.ok()?;
            total += batch;
            if batch == 0 {
                return Some(total);
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), flush).await {
        Ok(Some(0)) => {}
        Ok(Some(n)) => tracing::info!(events = n, "outbox flushed"),
        _ => tracing::warn!("outbox not flushed; another instance's relay will publish it"),
    }
}

/// Sweeps the outbox every `every`: events whose publication after commit failed (a crash, Redis
/// away) go out late rather than never.
pub fn spawn_outbox_relay(services: Services, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut sweeps: u64 = 0;
        loop {
            tick.tick().await;
            sweeps += 1;
            let Ok(mut conn) = services.state.pool.get().await else {
                continue;
            };
            let result = relay_batch(&services, &mut conn, RELAY_GRACE_SECS).await;
            if let Ok((n, oldest)) = outbox::pending(&mut conn).await {
                series::outbox(n.max(0) as u64, Duration::from_secs_f64(oldest.max(0.0)));
            }
            match result {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "outbox relay published late events"),
                Err(e) => tracing::warn!(error = %e, "outbox relay failed"),
            }
            if sweeps.is_multiple_of(600) {
                if let Err(e) = outbox::prune(&mut conn, KEEP_DAYS).await {
                    tracing::warn!(error = %e, "outbox prune failed");
                }
            }
        }
    });
}
