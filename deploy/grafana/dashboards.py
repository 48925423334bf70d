"""Writes the Grafana dashboards (system.json, business.json) from the panels listed here:
`python3 deploy/grafana/dashboards.py`. The JSON is committed (import it in Grafana: Dashboards,
New, Import); deploy/check.sh fails when it is not what this file writes. Every query names
only series the server exports (tests/api/metrics.rs checks them against a live /metrics)."""
import json
import os

J = '{job=~"$job"}'


def sel(extra=""):
    """A label selector with the dashboard's job, and `extra` matchers."""
    return '{job=~"$job"' + ("," + extra if extra else "") + "}"


def panel(title, exprs, unit="short", kind="timeseries", legend=None, desc=""):
    targets = []
    for i, e in enumerate(exprs):
        expr, fmt = (e, None) if isinstance(e, str) else e
        t = {"refId": chr(65 + i), "expr": expr, "datasource": {"type": "prometheus", "uid": "${datasource}"}}
        if fmt:
            t["legendFormat"] = fmt
        targets.append(t)
    return {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
        "targets": targets,
    }


def dashboard(uid, title, rows):
    panels, y, pid = [], 0, 1
    for row_title, row in rows:
        panels.append({"type": "row", "title": row_title, "id": pid, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1
        y += 1
        for i, p in enumerate(row):
            p = dict(p, id=pid, gridPos={"h": 8, "w": 24 // len(row), "x": (24 // len(row)) * i, "y": y})
            panels.append(p)
            pid += 1
        y += 8
    return {
        "uid": uid,
        "title": title,
        "tags": ["progress-dashboard"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0},
            {"name": "job", "label": "Job", "type": "query",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(build_info, job)", "refId": "job"},
             "definition": "label_values(build_info, job)", "includeAll": True, "multi": True,
             "allValue": ".*", "current": {"text": "All", "value": "$__all"}, "refresh": 2, "hide": 0},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


NOT_OK = sel('code!="ok"')
HIT = sel('result="hit"')
IMPLEMENTED = sel('to="IMPLEMENTED"')
GAINED = sel('direction="gained"')
UNDONE = sel('direction="undone"')
REPORT = sel('kind="report"')
R = "[$__rate_interval]"
system = dashboard("pd-system", "Progress dashboard · system health", [
    ("Requests", [
        panel("GraphQL requests by operation", [(f"sum by (operation) (rate(graphql_requests_total{J}{R}))", "{{operation}}")], "reqps"),
        panel("GraphQL p95 by operation", [(f"histogram_quantile(0.95, sum by (operation, le) (rate(graphql_request_duration_seconds_bucket{J}{R})))", "{{operation}}")], "s",
              desc="The specification's bound for the dashboard read: 200 ms (alert DashboardLatencyHigh)."),
        panel("HTTP answers by route and status", [(f"sum by (route, status) (rate(http_requests_total{J}{R}))", "{{route}} {{status}}")], "reqps"),
    ]),
    ("Errors and limits", [
        panel("GraphQL errors by code", [(f"sum by (code) (rate(graphql_requests_total{NOT_OK}{R}))", "{{code}}")], "reqps"),
        panel("Error ratio (5xx and INTERNAL)", [("job:request_errors:ratio_5m{job=~\"$job\"}", "{{job}}")], "percentunit",
              desc="Recorded by deploy/prometheus/alerts.yaml; the alert fires over 1 %."),
        panel("Refused by a limit, by scope", [(f"sum by (scope) (rate(rate_limited_total{J}{R}))", "{{scope}}")], "reqps"),
    ]),
    ("Cache", [
        panel("Dashboard cache hit rate", [(f"sum(rate(cache_requests_total{HIT}{R})) / sum(rate(cache_requests_total{J}{R}))", "hit rate")], "percentunit",
              desc="Alert CacheHitRateLow under 70 %."),
        panel("Stored answers hit rate", [(f"sum(rate(answers_requests_total{HIT}{R})) / sum(rate(answers_requests_total{J}{R}))", "hit rate")], "percentunit"),
        panel("Redis up, per instance", [(f"min by (instance) (cache_redis_up{J})", "{{instance}}")]),
    ]),
    ("Live updates", [
        panel("WebSocket connections and subscriptions", [
            (f"sum(websocket_connections{J})", "connections"),
            (f"sum by (kind) (subscriptions_active{J})", "{{kind}}"),
            (f"sum(subscription_shared_runs{J})", "shared runs")]),
        panel("Fan-out time, commit to subscriber (p50, p95)", [
            (f"histogram_quantile(0.5, sum by (le) (rate(event_fanout_seconds_bucket{J}{R})))", "p50"),
            (f"histogram_quantile(0.95, sum by (le) (rate(event_fanout_seconds_bucket{J}{R})))", "p95")], "s"),
        panel("Events and lagging subscribers", [
            (f"sum by (kind) (rate(events_published_total{J}{R}))", "published {{kind}}"),
            (f"sum by (kind) (rate(events_delivered_total{J}{R}))", "delivered {{kind}}"),
            (f"sum(increase(events_lagged_total{J}[5m]))", "dropped for lag (5 min)")]),
    ]),
    ("Outbox, database, email", [
        panel("Outbox", [(f"max(outbox_pending{J})", "pending"), (f"max(outbox_oldest_seconds{J})", "oldest (s)")]),
        panel("PostgreSQL pool", [
            (f"sum by (state) (db_pool_connections{J})", "{{state}}"),
            (f"histogram_quantile(0.95, sum by (le) (rate(db_pool_wait_seconds_bucket{J}{R})))", "wait p95 (s)")]),
        panel("Emails by kind and outcome", [(f"sum by (kind, outcome) (rate(email_sends_total{J}{R}))", "{{kind}} {{outcome}}")], "ops"),
    ]),
    ("Releases", [
        panel("Report render time p95", [(f"histogram_quantile(0.95, sum by (format, le) (rate(report_render_seconds_bucket{J}{R})))", "{{format}}")], "s"),
        panel("Instances by release", [(f"count by (version, commit) (build_info{J})", "{{version}} {{commit}}")]),
    ]),
])

N = "[$__range]"
business = dashboard("pd-business", "Progress dashboard · business", [
    ("Progress", [
        panel("Opportunities implemented (per hour)", [(f"sum(increase(opportunity_moves_total{IMPLEMENTED}[1h]))", "implemented")]),
        panel("Moves by status reached (range)", [(f"sum by (to) (increase(opportunity_moves_total{J}{N}))", "{{to}}")], kind="stat"),
        panel("Badges awarded by badge (range)", [(f"sum by (badge) (increase(badge_awards_total{J}{N}))", "{{badge}}")], kind="bargauge"),
    ]),
    ("Savings", [
        panel("Time saved a week, net (range)", [(
            f"(sum(increase(saved_time_per_week_seconds_total{GAINED}{N})) - sum(increase(saved_time_per_week_seconds_total{UNDONE}{N}))) / 3600",
            "hours a week")], "h", kind="stat"),
        panel("Money saved a year, net, by currency (range)", [(
            f"(sum by (currency) (increase(saved_money_per_year_cents_total{GAINED}{N})) - sum by (currency) (increase(saved_money_per_year_cents_total{UNDONE}{N}))) / 100",
            "{{currency}}")], kind="stat"),
        panel("Time saved a week, gained per hour", [(f"sum(increase(saved_time_per_week_seconds_total{GAINED}[1h])) / 3600", "hours a week")], "h"),
    ]),
    ("Reports and analyses", [
        panel("Reports sent and failed (per hour)", [(f"sum by (outcome) (increase(email_sends_total{REPORT}[1h]))", "{{outcome}}")]),
        panel("Documents rendered by format (per hour)", [(f"sum by (format) (increase(report_renders_total{J}[1h]))", "{{format}}")]),
        panel("Duplicate analyses found (hit rate)", [(f"sum(rate(dedup_lookups_total{HIT}{R})) / sum(rate(dedup_lookups_total{J}{R}))", "hit rate")], "percentunit",
              desc="Each hit is an analysis the pipeline did not have to run again."),
    ]),
])

# DASHBOARDS_OUT: another folder (deploy/check.sh compares what it writes there with the committed)
here = os.environ.get("DASHBOARDS_OUT") or os.path.dirname(os.path.abspath(__file__))
for name, d in (("system.json", system), ("business.json", business)):
    with open(os.path.join(here, name), "w") as f:
        json.dump(d, f, indent=2, ensure_ascii=False)
        f.write("\n")
