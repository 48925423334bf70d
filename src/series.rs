//! The Prometheus series the service records, by name, in one place (the `metrics` facade; the
//! recorder and `/metrics` are set up in `telemetry`). Labels are bounded: routes, kinds and
//! codes are ours, and operation names are the first [`MAX_OPERATIONS`] seen.
//!
//! Figures the service already keeps for `serviceStats` and the stats log (cache hits and misses,
//! live connections) are not counted twice: `telemetry` copies them into their series at scrape.

use std::collections::HashSet;
use std::sync::{LazyLock, RwLock};
use std::time::Duration;

use metrics::{counter, gauge, histogram, SharedString};

/// Distinct operation names kept as labels; later ones are `other`.
pub const MAX_OPERATIONS: usize = 200;
/// Longest operation name kept as a label.
const MAX_OPERATION_NAME: usize = 64;

static OPERATIONS: LazyLock<RwLock<HashSet<SharedString>>> = LazyLock::new(RwLock::default);

/// The label for an operation name: itself while fewer than 200 names are known, else `other`
/// (and `other` for an unnamed operation).
pub fn operation_label(name: Option<&str>) -> SharedString {
    let Some(name) = name.filter(|n| !n.is_empty() && n.len() <= MAX_OPERATION_NAME) else {
        return SharedString::const_str("other");
    };
    if let Some(known) = OPERATIONS.read().expect("operations lock").get(name) {
        return known.clone();
    }
    let mut known = OPERATIONS.write().expect("operations lock");
    if known.len() >= MAX_OPERATIONS {
        return SharedString::const_str("other");
    }
    let label = SharedString::from(name.to_owned());
    known.insert(label.clone());
    label
}

/// One GraphQL operation over HTTP or WebSocket: `kind` query, mutation or subscription; `code`
/// `ok` or the first error's code. `took`: none for a subscription (it lives on).
pub fn graphql_request(
    operation: SharedString,
    kind: &'static str,
    code: &'static str,
    took: Option<Duration>,
) {
    counter!("graphql_requests_total", "operation" => operation.clone(), "kind" => kind, "code" => code)
        .increment(1);
    if let Some(took) = took {
        histogram!("graphql_request_duration_seconds", "operation" => operation, "kind" => kind)
            .record(took.as_secs_f64());
    }
}

/// One HTTP answer; `route` is one of ours (`route_of`).
pub fn http_request(route: &'static str, status: u16) {
    counter!("http_requests_total", "route" => route, "status" => status_label(status))
        .increment(1);
}

/// The route a path belongs to, from the router's own list (`other` for the rest).
pub fn route_of(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/" => "/",
        "/toasts" => "/toasts",
        "/health" => "/health",
        "/ready" => "/ready",
        "/metrics" => "/metrics",
        p if p.starts_with("/reports/") => "/reports/{analysis_id}",
        p if p.starts_with("/confirm/") => "/confirm/{token}",
        p if p.starts_with("/unsubscribe/") => "/unsubscribe/{token}",
        _ => "other",
    }
}

fn status_label(status: u16) -> SharedString {
    match status {
        200 => SharedString::const_str("200"),
        400 => SharedString::const_str("400"),
        401 => SharedString::const_str("401"),
        404 => SharedString::const_str("404"),
        429 => SharedString::const_str("429"),
        503 => SharedString::const_str("503"),
        other => SharedString::from(other.to_string()),
    }
}

/// A wait for a pooled PostgreSQL connection.
pub fn db_pool_wait(waited: Duration) {
    histogram!("db_pool_wait_seconds").record(waited.as_secs_f64());
}

/// Events handed to the bus (`kind`: badge_awarded, kpi_updated, sessions_revoked).
pub fn events_published(kind: &'static str, n: u64) {
    counter!("events_published_total", "kind" => kind).increment(n);
}

/// One event handed to one live subscriber, `since_commit` after its change committed.
pub fn event_delivered(kind: &'static str, since_commit: Option<Duration>) {
    counter!("events_delivered_total", "kind" => kind).increment(1);
    if let Some(d) = since_commit {
        histogram!("event_fanout_seconds").record(d.as_secs_f64());
    }
}

/// A live subscriber that fell too far behind and was closed.
pub fn event_lagged() {
    counter!("events_lagged_total").increment(1);
}

/// Events written but not yet published, and how long the oldest has waited.
pub fn outbox(pending: u64, oldest: Duration) {
    gauge!("outbox_pending").set(pending as f64);
    gauge!("outbox_oldest_seconds").set(oldest.as_secs_f64());
}

/// One badge awarded (`badge`: its slug, from the catalog).
pub fn badge_awarded(badge: &str) {
    counter!("badge_awards_total", "badge" => badge.to_owned()).increment(1);
}

/// One email (`kind`: report or confirmation; `outcome`: sent or failed).
pub fn email_send(kind: &'static str, outcome: &'static str) {
    counter!("email_sends_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// One report rendered (`format`: pdf, html, or email for the two bodies of a report email).
pub fn report_render(format: &'static str, took: Duration) {
    counter!("report_renders_total", "format" => format).increment(1);
    histogram!("report_render_seconds", "format" => format).record(took.as_secs_f64());
}

/// One request or action refused by a limit (`scope`: request, report_client, report_analysis,
/// confirmation_address, confirmation_caller).
pub fn rate_limited(scope: &'static str) {
    counter!("rate_limited_total", "scope" => scope).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        assert_eq!(&*operation_label(None), "other");
        assert_eq!(&*operation_label(Some(&"x".repeat(65))), "other");
        assert_eq!(&*operation_label(Some("Dashboard")), "Dashboard");
        for i in 0..MAX_OPERATIONS {
            operation_label(Some(&format!("op{i}")));
        }
        assert_eq!(
            &*operation_label(Some("Dashboard")),
            "Dashboard",
            "known names stay"
        );
        assert_eq!(&*operation_label(Some("OneTooMany")), "other");
    }

    #[test]
    fn routes_are_ours() {
        assert_eq!(route_of("/reports/abc"), "/reports/{analysis_id}");
        assert_eq!(route_of("/wp-admin"), "other");
    }
}
