//! The monitoring that ships with the service (deploy/prometheus, deploy/grafana): every query
//! of the dashboards parses as PromQL and names only series the server exports, and every alert
//! links to a runbook section that exists. `tests/api/metrics.rs` calls the first with the
//! names a live server exported after a scenario; deploy/check.sh runs promtool's rule tests.

use std::collections::BTreeSet;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every PromQL query of the Grafana dashboards (panels and variables), Grafana's own variables
/// replaced by what they stand for.
fn dashboard_queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ["system.json", "business.json"] {
        let text = std::fs::read_to_string(format!("{ROOT}/deploy/grafana/{name}")).unwrap();
        let d: Value = serde_json::from_str(&text).unwrap();
        fn walk(v: &Value, into: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("expr", Value::String(e)) => into.push(e.clone()),
                            ("definition", Value::String(e)) => into.push(e.clone()),
                            _ => walk(v, into),
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| walk(v, into)),
                _ => {}
            }
        }
        let mut exprs = Vec::new();
        walk(&d, &mut exprs);
        assert!(exprs.len() > 5, "{name} has queries");
        for e in exprs {
            let e = e
                .replace("$__rate_interval", "5m")
                .replace("$__range", "1h")
                .replace("$job", ".*");
            // label_values(metric, label) is Grafana's, not PromQL: its metric is the query
            let e = match e.strip_prefix("label_values(") {
                Some(rest) => rest.split(',').next().unwrap().trim().to_owned(),
                None => e,
            };
            out.push((name.to_owned(), e));
        }
    }
    out
}

/// The metric names a PromQL expression reads (labels, functions, keywords and durations left
/// out).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut text = String::new();
    let (mut in_braces, mut in_brackets, mut in_string) = (false, false, false);
    for c in expr.chars() {
        match c {
            '"' if in_braces => in_string = !in_string,
            _ if in_string => {}
            '{' => in_braces = true,
            '}' => in_braces = false,
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ if in_braces || in_brackets => {}
            c => text.push(c),
        }
    }
    // the label lists of by (...) and without (...)
    let mut cleaned = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(|c: char| c.is_alphabetic() || c == '_' || c == ':') {
        cleaned.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if matches!(
            word,
            "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
        ) {
            if let Some(close) = rest
                .find(')')
                .filter(|_| rest.trim_start().starts_with('('))
            {
                rest = &rest[close + 1..];
            }
            continue;
        }
        cleaned.push(' ');
        cleaned.push_str(word);
        cleaned.push(if rest.trim_start().starts_with('(') {
            '('
        } else {
            ' '
        });
    }
    cleaned
        .split_whitespace()
        .filter(|w| !w.ends_with('(') && !w.contains('('))
        .filter(|w| {
            !matches!(
                *w,
                "and" | "or" | "unless" | "bool" | "offset" | "inf" | "nan"
                    // aggregations, which may stand apart from their parenthesis (sum by (x) (...))
                    | "sum" | "avg" | "min" | "max" | "count" | "group" | "stddev" | "stdvar"
                    | "topk" | "bottomk" | "quantile" | "count_values"
            )
        })
        .filter(|w| w.starts_with(|c: char| c.is_alphabetic() || c == '_'))
        .map(str::to_owned)
        .collect()
}

/// The series the recording rules of deploy/prometheus/alerts.yaml make.
fn recorded() -> BTreeSet<String> {
    std::fs::read_to_string(format!("{ROOT}/deploy/prometheus/alerts.yaml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- record: "))
        .map(str::to_owned)
        .collect()
}

/// Fails unless every dashboard query parses (promtool) and reads only `exported` series (a
/// histogram's `_bucket`, `_sum` and `_count` count as its own) or recorded ones.
pub fn dashboards_use_only(exported: &BTreeSet<&str>) {
    let queries = dashboard_queries();
    // promtool parses each query as the expression of a recording rule
    let mut rules = String::from("groups:\n  - name: dashboards\n    rules:\n");
    for (i, (_, e)) in queries.iter().enumerate() {
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {}\n",
            serde_json::to_string(e).unwrap()
        ));
    }
    let file = std::env::temp_dir().join(format!("pd-dashboards-{}.yaml", std::process::id()));
    std::fs::write(&file, rules).unwrap();
    let (ok, said) = crate::metrics::promtool(&["check", "rules", file.to_str().unwrap()], None);
    assert!(ok, "a dashboard query does not parse:\n{said}");
    let recorded = recorded();
    let exists = |name: &str| {
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        exported.contains(name) || exported.contains(base) || recorded.contains(name)
    };
    let mut seen = 0;
    for (dashboard, e) in &queries {
        for name in metric_names(e) {
            seen += 1;
            assert!(exists(&name), "{dashboard}: {name} is not exported ({e})");
        }
    }
    assert!(seen > 20, "the dashboards' series were read ({seen})");
}

#[test]
fn metric_names_are_read_from_promql() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (operation, le) (rate(graphql_request_duration_seconds_bucket{job=~".*",code!="ok"}[5m]))) / 3600"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["graphql_request_duration_seconds_bucket"]
    );
    let names = metric_names(
        "job:request_errors:ratio_5m > 0.01 and sum without (instance) (up) or vector(0)",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["job:request_errors:ratio_5m", "up"]
    );
}

/// Every alert has a summary and a runbook link to a section of docs/operations.md that exists.
#[test]
fn every_alert_links_to_its_runbook() {
    let rules = std::fs::read_to_string(format!("{ROOT}/deploy/prometheus/alerts.yaml")).unwrap();
    let docs = std::fs::read_to_string(format!("{ROOT}/docs/operations.md")).unwrap();
    // GitHub's anchors: the heading in lower case, spaces as dashes, punctuation dropped
    let anchors: BTreeSet<String> = docs
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| {
            h.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert!(alerts.len() >= 11, "{alerts:?}");
    let links: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("runbook_url: "))
        .collect();
    assert_eq!(links.len(), alerts.len(), "one runbook per alert");
    assert_eq!(
        rules.matches("summary: ").count(),
        alerts.len(),
        "one summary per alert"
    );
    for (alert, link) in alerts.iter().zip(&links) {
        let anchor = link.split_once("docs/operations.md#").map(|(_, a)| a);
        assert_eq!(
            anchor,
            Some(format!("alert-{}", alert.to_lowercase()).as_str()),
            "{alert}: {link}"
        );
        assert!(
            anchors.contains(anchor.unwrap()),
            "{alert}: no section {anchor:?} in docs/operations.md"
        );
    }
}
