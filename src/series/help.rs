//! `# HELP` for every series the service exports, beside the names (Prometheus's linter,
//! `promtool check metrics`, wants one for each; `tests/api/metrics.rs` runs it).

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

enum Kind {
    Counter,
    Gauge,
    /// Its unit is seconds: every histogram here is a duration.
    Histogram,
}

const HELP: &[(&str, Kind, &str)] = &[
    (
        "http_requests_total",
        Kind::Counter,
        "HTTP answers, by route and status.",
    ),
    (
        "graphql_requests_total",
        Kind::Counter,
        "GraphQL operations answered, by operation name, kind and result (ok or the first error's code).",
    ),
    (
        "graphql_request_duration_seconds",
        Kind::Histogram,
        "Time to answer a GraphQL query or mutation, by operation name and kind.",
    ),
    (
        "db_pool_wait_seconds",
        Kind::Histogram,
        "Time spent waiting for a pooled PostgreSQL connection.",
    ),
    (
        "db_pool_connections",
        Kind::Gauge,
        "PostgreSQL connections of this instance's pool, by state (idle, in_use).",
    ),
    (
        "cache_requests_total",
        Kind::Counter,
        "Dashboard cache look-ups, by tier (memory, redis) and result (hit, miss, error).",
    ),
    (
        "answers_requests_total",
        Kind::Counter,
        "Stored GraphQL answers looked up, by result (hit, miss).",
    ),
    (
        "cache_redis_up",
        Kind::Gauge,
        "1 while Redis answers, 0 while the service runs on PostgreSQL alone (only with REDIS_URL or REDIS_CLUSTER_NODES).",
    ),
    (
        "websocket_connections",
        Kind::Gauge,
        "WebSocket connections open on this instance.",
    ),
    (
        "subscriptions_active",
        Kind::Gauge,
        "Live subscriptions on this instance, by kind.",
    ),
    (
        "subscription_shared_runs",
        Kind::Gauge,
        "Shared subscription runs going on (one per analysis, kind and language watched).",
    ),
    (
        "events_published_total",
        Kind::Counter,
        "Events handed to the event bus, by kind.",
    ),
    (
        "events_delivered_total",
        Kind::Counter,
        "Events handed to live subscribers, by kind (one per subscriber).",
    ),
    (
        "event_fanout_seconds",
        Kind::Histogram,
        "Time from a change's commit to its event reaching a subscriber.",
    ),
    (
        "events_lagged_total",
        Kind::Counter,
        "Live subscribers closed for falling too far behind.",
    ),
    (
        "database_replica_lag_seconds",
        Kind::Gauge,
        "How far the read replica's replay is behind (-1: it does not answer); set only with DATABASE_REPLICA_URL.",
    ),
    (
        "database_replica_in_use",
        Kind::Gauge,
        "1 while reads go to the replica, 0 while it is skipped for the primary.",
    ),
    (
        "database_replica_reads_total",
        Kind::Counter,
        "Reads that may go to the replica, by where they went (replica, primary).",
    ),
    (
        "outbox_pending",
        Kind::Gauge,
        "Events committed but not yet published.",
    ),
    (
        "outbox_oldest_seconds",
        Kind::Gauge,
        "How long the oldest unpublished event has waited.",
    ),
    (
        "badge_awards_total",
        Kind::Counter,
        "Badges awarded, by badge.",
    ),
    (
        "opportunity_moves_total",
        Kind::Counter,
        "Opportunities moved, by the status they moved to.",
    ),
    (
        "saved_time_per_week_seconds_total",
        Kind::Counter,
        "Weekly time saved by implementations (gained) or given back by undoing them (undone), in seconds per week.",
    ),
    (
        "saved_money_per_year_cents_total",
        Kind::Counter,
        "Yearly money saved by implementations (gained) or given back (undone), in cents, by currency; only for analyses with an hourly rate.",
    ),
    (
        "dedup_lookups_total",
        Kind::Counter,
        "Look-ups of a site's recent analysis, by result (hit: an analysis of the last 7 days was found).",
    ),
    (
        "email_sends_total",
        Kind::Counter,
        "Emails, by kind (report, confirmation) and outcome (sent, failed).",
    ),
    (
        "report_renders_total",
        Kind::Counter,
        "Reports rendered, by format.",
    ),
    (
        "report_render_seconds",
        Kind::Histogram,
        "Time to render a report, by format.",
    ),
    (
        "rate_limited_total",
        Kind::Counter,
        "Requests or actions refused by a limit, by scope.",
    ),
    (
        "build_info",
        Kind::Gauge,
        "1, labelled with the version and commit this instance runs.",
    ),
];

/// Describes every series to the recorder (call it once the recorder is set).
pub fn describe_all() {
    for (name, kind, help) in HELP {
        match kind {
            Kind::Counter => describe_counter!(*name, *help),
            Kind::Gauge => describe_gauge!(*name, *help),
            Kind::Histogram => describe_histogram!(*name, Unit::Seconds, *help),
        }
    }
}
