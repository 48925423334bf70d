//! The Prometheus series the service records, by name, in one place (the `metrics` facade; the
//! recorder and `/metrics` are set up in `telemetry`). Labels are bounded: routes, kinds and
//! codes are ours, and operation names are the first [`MAX_OPERATIONS`] seen.
//!
//! Figures the service already keeps for `serviceStats` and the stats log (cache hits and misses,
//! live connections) are not counted twice: `telemetry` copies them into their series at scrape.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, RwLock};
use std::time::Duration;

use metrics::{counter, gauge, histogram, Counter, Histogram, SharedString};

use crate::error::ErrorCode;

mod help;
pub use help::describe_all;

/// Distinct operation names kept as labels; later ones are `other`.
pub const MAX_OPERATIONS: usize = 200;
/// Longest operation name kept as a label.
const MAX_OPERATION_NAME: usize = 64;

/// What a GraphQL operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Mutation => "mutation",
            Self::Subscription => "subscription",
        }
    }
}

const KINDS: usize = 3;
/// `ok` and each code of the contract.
const CODES: usize = 1 + ErrorCode::ALL.len();

/// The series of one operation name, their handles made once: on the hot path a request costs
/// an index and an atomic add, not a label set built, hashed and looked up.
pub struct Operation {
    name: SharedString,
    requests: [[OnceLock<Counter>; CODES]; KINDS],
    durations: [OnceLock<Histogram>; KINDS],
}

impl Operation {
    fn new(name: SharedString) -> Self {
        Self {
            name,
            requests: Default::default(),
            durations: Default::default(),
        }
    }

    /// One run: `code` `None` when it succeeded, else its first error's; `took` none for a
    /// subscription (it lives on).
    pub fn record(&self, kind: OperationKind, code: Option<ErrorCode>, took: Option<Duration>) {
        let k = kind as usize;
        let c = code.map_or(0, |code| {
            1 + ErrorCode::ALL.iter().position(|x| *x == code).unwrap_or(0)
        });
        self.requests[k][c]
            .get_or_init(|| {
                let code = code.map_or("ok", ErrorCode::as_str);
                counter!("graphql_requests_total", "operation" => self.name.clone(), "kind" => kind.label(), "code" => code)
            })
            .increment(1);
        if let Some(took) = took {
            self.durations[k]
                .get_or_init(|| {
                    histogram!("graphql_request_duration_seconds", "operation" => self.name.clone(), "kind" => kind.label())
                })
                .record(took.as_secs_f64());
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

static OPERATIONS: LazyLock<RwLock<HashMap<String, Arc<Operation>>>> =
    LazyLock::new(RwLock::default);
static OTHER: LazyLock<Arc<Operation>> =
    LazyLock::new(|| Arc::new(Operation::new(SharedString::const_str("other"))));

/// The series of an operation name: its own while fewer than 200 names are known, else `other`
/// (and `other` for an unnamed operation).
pub fn operation(name: Option<&str>) -> Arc<Operation> {
    let Some(name) = name.filter(|n| !n.is_empty() && n.len() <= MAX_OPERATION_NAME) else {
        return OTHER.clone();
    };
    if let Some(known) = OPERATIONS.read().expect("operations lock").get(name) {
        return known.clone();
    }
    let mut known = OPERATIONS.write().expect("operations lock");
    if known.len() >= MAX_OPERATIONS {
        return OTHER.clone();
    }
    known
        .entry(name.to_owned())
        .or_insert_with(|| Arc::new(Operation::new(SharedString::from(name.to_owned()))))
        .clone()
}

/// The routes of the router, as labels.
const ROUTES: [&str; 10] = [
    "/graphql",
    "/reports/{analysis_id}",
    "/",
    "/toasts",
    "/health",
    "/ready",
    "/metrics",
    "/confirm/{token}",
    "/unsubscribe/{token}",
    "other",
];
/// Statuses with a handle made once per route; others are looked up each time.
const STATUSES: [u16; 14] = [
    101, 200, 204, 400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 503,
];

static HTTP: LazyLock<Vec<[OnceLock<Counter>; STATUSES.len()]>> =
    LazyLock::new(|| ROUTES.iter().map(|_| Default::default()).collect());

/// A route of ours, by its index in [`ROUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route(usize);

/// The route a path belongs to, from the router's own list (`other` for the rest).
pub fn route_of(path: &str) -> Route {
    let exact = ROUTES[..7].iter().position(|r| *r == path);
    Route(exact.unwrap_or(match path {
        p if p.starts_with("/reports/") => 1,
        p if p.starts_with("/confirm/") => 7,
        p if p.starts_with("/unsubscribe/") => 8,
        _ => 9,
    }))
}

/// One HTTP answer.
pub fn http_request(route: Route, status: u16) {
    let label = ROUTES[route.0];
    let make = || counter!("http_requests_total", "route" => label, "status" => status.to_string());
    match STATUSES.iter().position(|s| *s == status) {
        Some(i) => HTTP[route.0][i].get_or_init(make).increment(1),
        None => make().increment(1),
    }
}

/// A wait for a pooled PostgreSQL connection.
pub fn db_pool_wait(waited: Duration) {
    histogram!("db_pool_wait_seconds").record(waited.as_secs_f64());
}

/// The read replica's replay lag (`None`: it does not answer; the series then reads -1).
pub fn replica_lag(lag: Option<Duration>) {
    gauge!("database_replica_lag_seconds").set(lag.map_or(-1.0, |l| l.as_secs_f64()));
}

/// Whether reads go to the replica now.
pub fn replica_in_use(in_use: bool) {
    gauge!("database_replica_in_use").set(if in_use { 1.0 } else { 0.0 });
}

/// One read that could go to the replica, by where it went (`replica`, `primary`).
pub fn replica_read(target: &'static str) {
    counter!("database_replica_reads_total", "target" => target).increment(1);
}

/// One event handed to the bus (`kind`: badge_awarded, kpi_updated, sessions_revoked).
pub fn events_published(kind: &'static str) {
    debug_assert!(EVENT_KINDS.contains(&kind), "{kind} is not in EVENT_KINDS");
    counter!("events_published_total", "kind" => kind).increment(1);
}

/// One event handed to `n` live subscribers, `since_commit` after its change committed.
pub fn event_delivered(kind: &'static str, since_commit: Option<Duration>, n: usize) {
    debug_assert!(EVENT_KINDS.contains(&kind), "{kind} is not in EVENT_KINDS");
    counter!("events_delivered_total", "kind" => kind).increment(n as u64);
    if let Some(d) = since_commit {
        histogram!("event_fanout_seconds").record_many(d.as_secs_f64(), n);
    }
}

/// Shared subscription runs going on (`http::shared`).
pub fn shared_runs(n: usize) {
    gauge!("subscription_shared_runs").set(n as f64);
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

/// `badge_awards_total` at zero for each badge of the catalog, as [`export_all`] does for the rest.
pub fn export_badges(slugs: &[&str]) {
    for badge in slugs {
        counter!("badge_awards_total", "badge" => badge.to_string()).increment(0);
    }
}

/// One badge awarded (`badge`: its slug, from the catalog).
pub fn badge_awarded(badge: &str) {
    counter!("badge_awards_total", "badge" => badge.to_owned()).increment(1);
}

/// One opportunity moved to `to` (NOT_STARTED, IN_PROGRESS or IMPLEMENTED).
pub fn opportunity_moved(to: &'static str) {
    counter!("opportunity_moves_total", "to" => to).increment(1);
}

/// Time a week (and money a year, when the analysis has a rate) an implementation saved
/// (`gained`) or an undo gave back (`undone`), in seconds and cents: the recorder's counters are
/// whole numbers, and a quarter of an hour must count.
pub fn savings(
    direction: &'static str,
    hours_weekly: f64,
    money_yearly: Option<f64>,
    currency: &str,
) {
    let whole = |x: f64| x.max(0.0).round() as u64;
    counter!("saved_time_per_week_seconds_total", "direction" => direction)
        .increment(whole(hours_weekly * 3600.0));
    if let Some(money) = money_yearly {
        let currency = CURRENCIES
            .iter()
            .find(|c| **c == currency)
            .copied()
            .unwrap_or("other");
        counter!("saved_money_per_year_cents_total", "direction" => direction, "currency" => currency)
            .increment(whole(money * 100.0));
    }
}

/// One look-up of a site's recent analysis (`recentAnalysis`, or `recordAnalysis` before it
/// records): a hit found one, a miss did not.
pub fn dedup_lookup(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    counter!("dedup_lookups_total", "result" => result).increment(1);
}

/// One email (`kind`: report or confirmation; `outcome`: sent or failed).
pub fn email_send(kind: &'static str, outcome: &'static str) {
    debug_assert!(EMAIL_KINDS.contains(&kind) && EMAIL_OUTCOMES.contains(&outcome));
    counter!("email_sends_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// One report rendered (`format`: pdf, html, or email for the two bodies of a report email).
pub fn report_render(format: &'static str, took: Duration) {
    debug_assert!(
        RENDER_FORMATS.contains(&format),
        "{format} is not in RENDER_FORMATS"
    );
    counter!("report_renders_total", "format" => format).increment(1);
    histogram!("report_render_seconds", "format" => format).record(took.as_secs_f64());
}

/// One request or action refused by a limit (`scope`: request, report_client, report_analysis,
/// confirmation_address, confirmation_caller).
pub fn rate_limited(scope: &'static str) {
    debug_assert!(
        LIMIT_SCOPES.contains(&scope),
        "{scope} is not in LIMIT_SCOPES"
    );
    counter!("rate_limited_total", "scope" => scope).increment(1);
}

/// The currencies named as labels; any other counts as `other` (the label stays bounded).
pub const CURRENCIES: [&str; 4] = ["CAD", "USD", "EUR", "GBP"];
pub const STATUSES_TO: [&str; 3] = ["NOT_STARTED", "IN_PROGRESS", "IMPLEMENTED"];
pub const DIRECTIONS: [&str; 2] = ["gained", "undone"];

/// The label values each labelled series can take (the functions above check theirs).
pub const EVENT_KINDS: [&str; 3] = ["badge_awarded", "kpi_updated", "sessions_revoked"];
pub const EMAIL_KINDS: [&str; 2] = ["report", "confirmation"];
pub const EMAIL_OUTCOMES: [&str; 2] = ["sent", "failed"];
pub const RENDER_FORMATS: [&str; 3] = ["pdf", "html", "email"];
pub const LIMIT_SCOPES: [&str; 5] = [
    "request",
    "report_client",
    "report_analysis",
    "confirmation_address",
    "confirmation_caller",
];

/// Which release this instance runs, as a series (`build_info{version, commit}` = 1).
pub fn build_info(version: &'static str, commit: &'static str) {
    gauge!("build_info", "version" => version, "commit" => commit).set(1.0);
}

/// Every series that can exist, at zero, with each of its known label values: a dashboard or an
/// alert on `rate(...)` sees a flat line from start-up, not nothing then a jump. Adding zero
/// leaves a running total as it is.
pub fn export_all() {
    for result in ["hit", "miss"] {
        counter!("dedup_lookups_total", "result" => result).increment(0);
    }
    for kind in EVENT_KINDS {
        counter!("events_published_total", "kind" => kind).increment(0);
        counter!("events_delivered_total", "kind" => kind).increment(0);
    }
    for kind in EMAIL_KINDS {
        for outcome in EMAIL_OUTCOMES {
            counter!("email_sends_total", "kind" => kind, "outcome" => outcome).increment(0);
        }
    }
    for format in RENDER_FORMATS {
        counter!("report_renders_total", "format" => format).increment(0);
        let _ = histogram!("report_render_seconds", "format" => format);
    }
    for scope in LIMIT_SCOPES {
        counter!("rate_limited_total", "scope" => scope).increment(0);
    }
    for to in STATUSES_TO {
        counter!("opportunity_moves_total", "to" => to).increment(0);
    }
    for direction in DIRECTIONS {
        counter!("saved_time_per_week_seconds_total", "direction" => direction).increment(0);
        for currency in CURRENCIES.iter().copied().chain(["other"]) {
            counter!("saved_money_per_year_cents_total", "direction" => direction, "currency" => currency)
                .increment(0);
        }
    }
    counter!("events_lagged_total").increment(0);
    let _ = histogram!("event_fanout_seconds");
    let _ = histogram!("db_pool_wait_seconds");
    gauge!("subscription_shared_runs").increment(0.0);
    gauge!("outbox_pending").increment(0.0);
    gauge!("outbox_oldest_seconds").increment(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        assert_eq!(operation(None).name(), "other");
        assert_eq!(operation(Some(&"x".repeat(65))).name(), "other");
        assert_eq!(operation(Some("Dashboard")).name(), "Dashboard");
        for i in 0..MAX_OPERATIONS {
            operation(Some(&format!("op{i}")));
        }
        assert_eq!(
            operation(Some("Dashboard")).name(),
            "Dashboard",
            "known names stay"
        );
        assert_eq!(operation(Some("OneTooMany")).name(), "other");
    }

    #[test]
    fn routes_are_ours() {
        let label = |path| ROUTES[route_of(path).0];
        assert_eq!(label("/reports/abc"), "/reports/{analysis_id}");
        assert_eq!(label("/graphql"), "/graphql");
        assert_eq!(label("/unsubscribe/x"), "/unsubscribe/{token}");
        assert_eq!(label("/wp-admin"), "other");
    }
}
