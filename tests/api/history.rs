//! Progress over time through the real server: local days across midnight and a DST change,
//! history as a replay of the log, before and after, the activity log's pages and actors, time
//! zones, the look-up before an analysis, and report subscriptions the owner sees and ends.

use chrono::{DateTime, Duration, TimeZone, Utc};
use progress_dashboard::domain::access::Role;
use serde_json::{json, Value};

use crate::access::{jwt_app, token};
use crate::helpers::*;

const HISTORY: &str = "query($id: UUID!, $g: HistoryGranularity!, $from: DateTime, $to: DateTime) {
  dashboard(analysisId: $id) {
    timeZone
    streak { current longest lastActiveDay }
    progressSummary { notStarted inProgress implemented completionPercentage }
    metrics { timeSaved { implementedWeekly } moneySaved { implementedAnnual } }
    history(granularity: $g, from: $from, to: $to) {
      at notStarted inProgress implemented completionPercentage hoursSavedWeekly
      moneySavedAnnual badgesEarned points changes
    }
  } }";

const ACTIVITY: &str = "query($id: UUID!, $first: Int!, $after: String) {
  dashboard(analysisId: $id) {
    activity(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id at opportunityId from to actor badges { badgeType } } }
    } } }";

/// POSTs an operation with a bearer token; the JSON body.
async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    app.client
        .post(app.graphql_url())
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// One move of the test: when, which opportunity, to what, with which rate.
type Move = (&'static str, &'static str, &'static str, Option<f64>);

/// Moves in Toronto's time (EST, UTC-5, until DST begins on 8 March 2026 at 02:00; EDT, UTC-4,
/// after): 19:00 and 20:00 on the 5th are one local day (two UTC days); 23:30 on the 6th and
/// 00:30 on the 7th are two; 23:30 on the 8th and 00:30 on the 9th straddle the first local
/// midnight after the change.
const MOVES: [Move; 6] = [
    (
        "2026-03-06T00:00:00Z",
        "digital_presence",
        "IN_PROGRESS",
        None,
    ),
    (
        "2026-03-06T01:00:00Z",
        "digital_presence",
        "IMPLEMENTED",
        Some(50.0),
    ),
    (
        "2026-03-07T04:30:00Z",
        "value_creation",
        "IN_PROGRESS",
        None,
    ),
    (
        "2026-03-07T05:30:00Z",
        "value_creation",
        "IMPLEMENTED",
        None,
    ),
    (
        "2026-03-09T03:30:00Z",
        "business_management",
        "IN_PROGRESS",
        None,
    ),
    (
        "2026-03-09T04:30:00Z",
        "digital_presence",
        "NOT_STARTED",
        None,
    ),
];

async fn analysis_with_moves(app: &TestApp) -> String {
    app.clock.set(utc("2026-03-05T17:00:00Z"));
    let id = app.record("https://history.example.com", EXAMPLE).await;
    for (at, opp, status, rate) in MOVES {
        app.clock.set(utc(at));
        let r = app.update(&id, opp, status, rate).await;
        assert!(r.get("errors").is_none(), "{r:#}");
    }
    id
}

/// The figures at the end of `[.., end)` as the moves say: (not started, in progress,
/// implemented, implemented hours a week, money a year, changes in `[start, end)`).
fn replay(start: DateTime<Utc>, end: DateTime<Utc>) -> (i64, i64, i64, f64, Option<i64>, i64) {
    let hours = |o: &str| {
        EXAMPLE
            .iter()
            .find(|e| e.0 == o)
            .map(|e| (e.1, e.2))
            .unwrap()
    };
    let mut status: std::collections::HashMap<&str, &str> =
        EXAMPLE.iter().map(|e| (e.0, "NOT_STARTED")).collect();
    let (mut rate, mut changes) = (None, 0);
    for (at, opp, to, r) in MOVES {
        let at = utc(at);
        if at < end {
            status.insert(opp, to);
            rate = r.or(rate);
            changes += i64::from(at >= start);
        }
    }
    let count = |s: &str| status.values().filter(|v| **v == s).count() as i64;
    let implemented = status.iter().filter(|(_, s)| **s == "IMPLEMENTED");
    let (weekly, annual) = implemented.fold((0.0, 0), |(w, y), (o, _)| {
        let (hw, hy) = hours(o);
        (w + hw, y + i64::from(hy))
    });
    let money = rate.map(|r: f64| (r * annual as f64).round() as i64);
    (
        count("NOT_STARTED"),
        count("IN_PROGRESS"),
        count("IMPLEMENTED"),
        weekly,
        money,
        changes,
    )
}

#[tokio::test]
async fn days_are_local_across_midnight_and_dst_and_history_replays_the_log() {
    let app = TestApp::spawn().await;
    let id = analysis_with_moves(&app).await;
    let d = app.data(HISTORY, json!({"id": id, "g": "DAY"})).await["dashboard"].clone();
    assert_eq!(d["timeZone"], "America/Toronto");
    // 5, 6, 7, 8 and 9 March, local
    assert_eq!(
        d["streak"],
        json!({"current": 5, "longest": 5, "lastActiveDay": "2026-03-09"})
    );
    let points = d["history"].as_array().unwrap();
    let starts: Vec<&str> = points.iter().map(|p| p["at"].as_str().unwrap()).collect();
    // local midnights: UTC-5, then UTC-4 from the 9th
    assert_eq!(
        starts,
        [
            "2026-03-05T05:00:00+00:00",
            "2026-03-06T05:00:00+00:00",
            "2026-03-07T05:00:00+00:00",
            "2026-03-08T05:00:00+00:00",
            "2026-03-09T04:00:00+00:00",
        ]
    );
    let changes: Vec<i64> = points
        .iter()
        .map(|p| p["changes"].as_i64().unwrap())
        .collect();
    assert_eq!(
        changes,
        [2, 1, 1, 1, 1],
        "19:00 and 20:00 are one day; 23:30 and 00:30 two"
    );
    // every point is the replay of the moves up to the end of its day
    for (i, p) in points.iter().enumerate() {
        let start = utc(starts[i]);
        let end = points.get(i + 1).map_or(utc("2026-03-10T04:00:00Z"), |n| {
            utc(n["at"].as_str().unwrap())
        });
        let (ns, ip, imp, weekly, money, changes) = replay(start, end);
        assert_eq!(p["notStarted"], ns, "{p}");
        assert_eq!(p["inProgress"], ip, "{p}");
        assert_eq!(p["implemented"], imp, "{p}");
        assert_eq!(p["hoursSavedWeekly"].as_f64().unwrap(), weekly, "{p}");
        assert_eq!(p["moneySavedAnnual"].as_i64(), money, "{p}");
        assert_eq!(p["changes"], changes, "{p}");
    }
    // the last point is the dashboard as it stands
    let last = points.last().unwrap();
    assert_eq!(last["implemented"], d["progressSummary"]["implemented"]);
    assert_eq!(
        last["hoursSavedWeekly"],
        d["metrics"]["timeSaved"]["implementedWeekly"]
    );
    assert_eq!(
        last["moneySavedAnnual"],
        d["metrics"]["moneySaved"]["implementedAnnual"]
    );
    // first_step and quick_win on the first day, and badges stay earned
    assert_eq!(points[0]["badgesEarned"], 2);
    assert_eq!(points[0]["points"], 35);
    assert!(points.iter().all(|p| p["badgesEarned"].as_i64() >= Some(2)));

    // weeks from Monday and months, local
    let weeks =
        app.data(HISTORY, json!({"id": id, "g": "WEEK"})).await["dashboard"]["history"].clone();
    let at: Vec<&str> = weeks
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        at,
        ["2026-03-02T05:00:00+00:00", "2026-03-09T04:00:00+00:00"]
    );
    assert_eq!(weeks[0]["changes"], 5);
    assert_eq!(weeks[1]["changes"], 1);
    let months = app
        .data(
            HISTORY,
            json!({"id": id, "g": "MONTH", "from": "2026-01-15T12:00:00Z"}),
        )
        .await["dashboard"]["history"]
        .clone();
    assert_eq!(months.as_array().unwrap().len(), 3);
    assert_eq!(months[0]["at"], "2026-01-01T05:00:00+00:00");
    assert_eq!(
        months[0]["notStarted"], 3,
        "before the analysis: nothing done"
    );
    assert_eq!(months[2]["changes"], 6);

    // the streak is broken once a whole local day passes without activity
    app.clock.set(utc("2026-03-11T03:59:00Z")); // 23:59 on the 10th
    let s = app.data(HISTORY, json!({"id": id, "g": "DAY"})).await;
    assert_eq!(s["dashboard"]["streak"]["current"], 5);
    app.clock.set(utc("2026-03-11T04:00:00Z")); // midnight: the 11th
    let s = app.data(HISTORY, json!({"id": id, "g": "DAY"})).await;
    assert_eq!(s["dashboard"]["streak"]["current"], 0);
    assert_eq!(s["dashboard"]["streak"]["longest"], 5);
}

#[tokio::test]
async fn history_is_bounded_and_progress_since_creation_starts_from_zero() {
    let app = TestApp::spawn().await;
    let id = analysis_with_moves(&app).await;
    for (vars, says) in [
        (
            json!({"g": "DAY", "from": "2020-01-01T00:00:00Z"}),
            "at most 400 points",
        ),
        (
            json!({"g": "MONTH", "from": "1900-01-01T00:00:00Z"}),
            "at most 400 points",
        ),
        (
            json!({"g": "DAY", "from": "2026-03-09T00:00:00Z", "to": "2026-03-08T00:00:00Z"}),
            "from must not be after to",
        ),
    ] {
        let mut vars = vars;
        vars["id"] = json!(id);
        let e = app.error(HISTORY, vars).await;
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
    }
    // the calendar's ends: refused by count, or answered, never a hang
    for (g, from, to) in [
        ("WEEK", "+262142-12-01T00:00:00Z", "+262142-12-31T00:00:00Z"),
        ("WEEK", "-262143-01-01T00:00:00Z", "-262143-01-01T00:00:00Z"),
        (
            "MONTH",
            "-262143-01-01T00:00:00Z",
            "-262143-01-02T00:00:00Z",
        ),
        ("DAY", "-262143-01-01T00:00:00Z", "-262143-01-01T00:00:00Z"),
        (
            "MONTH",
            "-262143-01-01T00:00:00Z",
            "+262142-12-31T00:00:00Z",
        ),
        ("DAY", "1970-01-01T00:00:00Z", "+262142-12-31T00:00:00Z"),
    ] {
        let r = app
            .gql(HISTORY, json!({"id": id, "g": g, "from": from, "to": to}))
            .await;
        let refused = r["errors"][0]["extensions"]["code"].as_str();
        assert!(
            r["data"]["dashboard"]["history"].is_array() || refused == Some("INVALID_INPUT"),
            "{g} {from}..{to}: {r}"
        );
    }
    // a year of days is 366 points at most: within the bound
    let year = json!({"id": id, "g": "DAY", "from": "2025-03-09T12:00:00Z"});
    let points = app.data(HISTORY, year).await["dashboard"]["history"].clone();
    assert_eq!(points.as_array().unwrap().len(), 366);

    let since = "query($id: UUID!, $since: DateTime!) { dashboard(analysisId: $id) {
        createdAt progressSince(since: $since) {
          since
          before { progressSummary { notStarted implemented completionPercentage }
                   metrics { timeSaved { implementedWeekly } moneySaved { implementedAnnual } } points }
          now { progressSummary { notStarted inProgress implemented } points }
          badgesEarned { badgeType }
        } badges { badgeType points } } }";
    let created = app.dashboard(&id).await["createdAt"].clone();
    let d = app.data(since, json!({"id": id, "since": created})).await["dashboard"].clone();
    let delta = &d["progressSince"];
    assert_eq!(
        delta["before"],
        json!({
            "progressSummary": {"notStarted": 3, "implemented": 0, "completionPercentage": 0},
            "metrics": {"timeSaved": {"implementedWeekly": 0.0}, "moneySaved": {"implementedAnnual": null}},
            "points": 0
        })
    );
    assert_eq!(
        delta["now"]["progressSummary"],
        json!({"notStarted": 1, "inProgress": 1, "implemented": 1})
    );
    let all: i64 = d["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["points"].as_i64().unwrap())
        .sum();
    assert_eq!(delta["now"]["points"], all);
    assert_eq!(
        delta["badgesEarned"].as_array().unwrap().len(),
        d["badges"].as_array().unwrap().len()
    );
    // since the 7th, local: the last three moves, and no badge earned before
    let later = app
        .data(since, json!({"id": id, "since": "2026-03-07T06:00:00Z"}))
        .await["dashboard"]["progressSince"]
        .clone();
    assert_eq!(
        later["before"]["progressSummary"],
        json!({"notStarted": 1, "implemented": 2, "completionPercentage": 66})
    );
}

#[tokio::test]
async fn the_activity_log_is_walked_once_newest_first_with_its_actors() {
    let app = jwt_app().await;
    let admin = token(Role::Admin, &[]);
    let input = analysis_input("https://log.example.com", EXAMPLE);
    let r = post(
        &app,
        &admin,
        json!({"query": RECORD, "variables": {"input": input}}),
    )
    .await;
    let id = r["data"]["recordAnalysis"]["dashboard"]["analysisId"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = token(Role::Owner, &[&id]);
    let moves = [
        ("digital_presence", "IN_PROGRESS"),
        ("digital_presence", "IMPLEMENTED"),
        ("value_creation", "IN_PROGRESS"),
        ("value_creation", "NOT_STARTED"),
        ("business_management", "IMPLEMENTED"),
        ("value_creation", "IMPLEMENTED"),
        ("digital_presence", "NOT_STARTED"),
    ];
    for (i, (opp, status)) in moves.iter().enumerate() {
        app.clock.set(t0() + Duration::hours(i as i64));
        let input = json!({"analysisId": id, "opportunityId": opp, "status": status});
        let r = post(
            &app,
            &owner,
            json!({"query": UPDATE, "variables": {"input": input}}),
        )
        .await;
        assert!(r.get("errors").is_none(), "{r:#}");
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let vars = json!({"id": id, "first": 3, "after": after});
        let r = post(&app, &owner, json!({"query": ACTIVITY, "variables": vars})).await;
        assert!(r.get("errors").is_none(), "{r:#}");
        let a = &r["data"]["dashboard"]["activity"];
        assert_eq!(a["totalCount"], moves.len());
        pages += 1;
        for e in a["edges"].as_array().unwrap() {
            seen.push(e["node"].clone());
        }
        if a["pageInfo"]["hasNextPage"] != true {
            assert_eq!(
                a["pageInfo"]["endCursor"],
                seen.last().map_or(Value::Null, |_| {
                    a["edges"].as_array().unwrap().last().unwrap()["cursor"].clone()
                })
            );
            break;
        }
        after = a["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), moves.len(), "every entry once");
    let ids: std::collections::HashSet<_> = seen.iter().map(|n| n["id"].clone()).collect();
    assert_eq!(ids.len(), moves.len());
    // newest first: the moves in reverse
    for (node, (opp, status)) in seen.iter().zip(moves.iter().rev()) {
        assert_eq!(node["opportunityId"], *opp);
        assert_eq!(node["to"], *status);
        assert_eq!(node["actor"], "owner-caller", "the token's subject");
    }
    assert_eq!(seen.last().unwrap()["from"], "NOT_STARTED");
    let first_step = seen.last().unwrap()["badges"].clone();
    assert_eq!(first_step, json!([{"badgeType": "first_step"}]));

    for (vars, says) in [
        (json!({"first": 0}), "first must be between 1 and 100"),
        (json!({"first": 101}), "first must be between 1 and 100"),
        (
            json!({"first": 3, "after": "activity:abc"}),
            "after must be a cursor",
        ),
        (
            json!({"first": 3, "after": "\u{0}"}),
            "after must be a cursor",
        ),
    ] {
        let mut vars = vars;
        vars["id"] = json!(id);
        let r = post(&app, &owner, json!({"query": ACTIVITY, "variables": vars})).await;
        let e = &r["errors"][0];
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{r}");
        assert!(e["message"].as_str().unwrap().contains(says), "{r}");
    }
}

#[tokio::test]
async fn open_mode_changes_have_no_actor() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.advance(&id, "value_creation", "IN_PROGRESS").await;
    let a =
        app.data(ACTIVITY, json!({"id": id, "first": 5})).await["dashboard"]["activity"].clone();
    assert_eq!(a["edges"][0]["node"]["actor"], Value::Null);
}

#[tokio::test]
async fn a_time_zone_is_set_by_name_and_moves_the_days() {
    let app = TestApp::spawn().await;
    let set = "mutation($id: UUID!, $tz: String!) { setTimeZone(analysisId: $id, timeZone: $tz) {
        timeZone streak { lastActiveDay } } }";
    // recorded in Paris from the start
    let mut input = analysis_input("https://paris.example.com", EXAMPLE);
    input["identity"]["timeZone"] = json!("Europe/Paris");
    let r = app.data(RECORD, json!({"input": input})).await;
    let id = r["recordAnalysis"]["dashboard"]["analysisId"].clone();
    // 23:30 on the 15th in Toronto; 05:30 on the 16th in Paris
    app.clock.set(utc("2026-03-16T03:30:00Z"));
    app.advance(id.as_str().unwrap(), "value_creation", "IN_PROGRESS")
        .await;
    let q =
        "query($id: UUID!) { dashboard(analysisId: $id) { timeZone streak { lastActiveDay } } }";
    let d = app.data(q, json!({"id": id})).await;
    assert_eq!(
        d["dashboard"],
        json!({"timeZone": "Europe/Paris", "streak": {"lastActiveDay": "2026-03-16"}})
    );
    let d = app
        .data(set, json!({"id": id, "tz": "America/Toronto"}))
        .await;
    assert_eq!(
        d["setTimeZone"],
        json!({"timeZone": "America/Toronto", "streak": {"lastActiveDay": "2026-03-15"}})
    );
    // and a read after it, through the cache
    let d = app.data(q, json!({"id": id})).await;
    assert_eq!(d["dashboard"]["streak"]["lastActiveDay"], "2026-03-15");
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM activity_days WHERE day = '2026-03-15'")
            .await,
        1
    );
    for bad in [
        "Mars/Olympus",
        "",
        "america/toronto",
        "Europe/Paris\u{202e}",
        &"A/".repeat(40),
    ] {
        let e = app.error(set, json!({"id": id, "tz": bad})).await;
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{bad:?}: {e}");
        assert!(e["message"].as_str().unwrap().contains("timeZone"), "{e}");
    }
    let mut input = analysis_input("https://nowhere.example.com", EXAMPLE);
    input["identity"]["timeZone"] = json!("Nowhere/City");
    let e = app.error(RECORD, json!({"input": input})).await;
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("identity.timeZone must be"),
        "{e}"
    );
    let d = app.data(q, json!({"id": id})).await;
    assert_eq!(d["dashboard"]["timeZone"], "America/Toronto", "unchanged");
}

#[tokio::test]
async fn the_pipeline_can_ask_before_it_pays_for_an_analysis() {
    let app = TestApp::spawn().await;
    let look = "query($url: String!) { recentAnalysis(url: $url) { analysisId url } }";
    let miss = app
        .data(look, json!({"url": "https://www.site.example.com/"}))
        .await;
    assert_eq!(miss["recentAnalysis"], Value::Null);
    let id = app.record("https://www.site.example.com/", EXAMPLE).await;
    let analyses = app.db.count("SELECT count(*) FROM analyses").await;
    for variant in [
        "https://site.example.com",
        "HTTPS://WWW.Site.Example.com/",
        "site.example.com/",
    ] {
        let hit = app.data(look, json!({"url": variant})).await;
        assert_eq!(
            hit["recentAnalysis"]["analysisId"],
            id.as_str(),
            "{variant}"
        );
    }
    assert_eq!(
        app.db.count("SELECT count(*) FROM analyses").await,
        analyses,
        "records nothing"
    );
    let again = app
        .data(
            RECORD,
            json!({"input": analysis_input("https://site.example.com", EXAMPLE)}),
        )
        .await;
    assert_eq!(again["recordAnalysis"]["duplicate"], true);
    // eight days on: too old
    app.clock.set(t0() + Duration::days(8));
    let old = app
        .data(look, json!({"url": "https://site.example.com"}))
        .await;
    assert_eq!(old["recentAnalysis"], Value::Null);
    let e = app.error(look, json!({"url": "not a url\u{0}"})).await;
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
}

#[tokio::test]
async fn recent_analysis_is_for_admins() {
    let app = jwt_app().await;
    let look =
        json!({"query": "{ recentAnalysis(url: \"https://x.example.com\") { analysisId } }"});
    let owner = token(Role::Owner, &[]);
    let r = post(&app, &owner, look.clone()).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    let admin = token(Role::Admin, &[]);
    let r = post(&app, &admin, look).await;
    assert_eq!(r["data"]["recentAnalysis"], Value::Null, "{r}");
}

#[tokio::test]
async fn the_owner_sees_masked_subscriptions_and_ends_them() {
    let app = jwt_app().await;
    let (a, b) = crate::access::two_analyses(&app).await;
    for (id, email) in [
        (&a, "jeanne@example.com"),
        (&a, "x@example.org"),
        (&b, "other@example.com"),
    ] {
        insert_weekly_subscription(&app.db, id, email, "'2026-01-01'").await;
    }
    let owner = token(Role::Owner, &[&a]);
    let viewer = token(Role::Viewer, &[&a]);
    let list = |id: &str| json!({"query": "query($id: UUID!) { dashboard(analysisId: $id) { reportSubscriptions { id email frequency active } } }", "variables": {"id": id}});
    let r = post(&app, &owner, list(&a)).await;
    let subs = r["data"]["dashboard"]["reportSubscriptions"].clone();
    let mut emails: Vec<&str> = subs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(emails, ["j***@example.com", "x***@example.org"], "{r}");
    let r = post(&app, &viewer, list(&a)).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");

    let cancel = |id: &Value| json!({"query": "mutation($id: ID!) { cancelReportSubscription(id: $id) }", "variables": {"id": id}});
    let first = subs[0]["id"].clone();
    let r = post(&app, &owner, cancel(&first)).await;
    assert_eq!(r["data"]["cancelReportSubscription"], true, "{r}");
    let r = post(&app, &owner, list(&a)).await;
    assert_eq!(
        r["data"]["dashboard"]["reportSubscriptions"][0]["active"],
        false
    );
    // another analysis' subscription, or one that does not exist, is not found alike
    let theirs = app
        .db
        .count(&format!(
            "SELECT count(*) FROM email_subscriptions WHERE analysis_id = '{b}' AND active"
        ))
        .await;
    assert_eq!(theirs, 1);
    let other_id: String = {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT id::text FROM email_subscriptions WHERE analysis_id = '{b}'"
        ))
        .load(&mut app.db.conn().await)
        .await
        .unwrap();
        rows[0].id.clone()
    };
    for id in [
        json!(other_id),
        json!(uuid::Uuid::new_v4().to_string()),
        json!("nope"),
    ] {
        let r = post(&app, &owner, cancel(&id)).await;
        let e = &r["errors"][0];
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{r}");
        assert_eq!(e["message"], "no such report subscription", "{r}");
    }
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) FROM email_subscriptions WHERE analysis_id = '{b}' AND active"
            ))
            .await,
        1,
        "untouched"
    );
}

/// Weekly reports go out on Monday at 09:00 in each analysis' zone: Paris (UTC+1 in winter)
/// first, Toronto (UTC-5) six hours later.
#[tokio::test]
async fn weekly_reports_go_out_at_nine_local_in_each_zone() {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let app = TestApp::spawn_with(crate::reports::smtp(&sink)).await;
    app.clock.set(utc("2026-11-20T12:00:00Z"));
    let toronto = app.record("https://toronto.example.com", EXAMPLE).await;
    let mut input = analysis_input("https://paris.example.com", EXAMPLE);
    input["identity"]["timeZone"] = json!("Europe/Paris");
    let paris = app.data(RECORD, json!({"input": input})).await["recordAnalysis"]["dashboard"]
        ["analysisId"]
        .as_str()
        .unwrap()
        .to_owned();
    // made after the week's earlier slot: none is due until Monday
    insert_weekly_subscription(&app.db, &toronto, "to@example.com", "'2026-11-20'").await;
    insert_weekly_subscription(&app.db, &paris, "pa@example.com", "'2026-11-20'").await;
    let s = &app.app.services;
    let send = progress_dashboard::service::reports::send_due;
    let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap();
    for (now, sent) in [
        (at(7, 59), 0),  // 08:59 in Paris
        (at(8, 0), 1),   // 09:00 in Paris
        (at(13, 59), 0), // 08:59 in Toronto
        (at(14, 0), 1),  // 09:00 in Toronto
        (at(20, 0), 0),  // nothing twice
    ] {
        app.clock.set(now);
        assert_eq!(send(s, now, |_| {}).await.unwrap().sent, sent, "{now}");
    }
    let to: Vec<String> = sink
        .mails
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.to.join(","))
        .collect();
    assert_eq!(to.len(), 2);
    assert!(
        to[0].contains("pa@example.com") && to[1].contains("to@example.com"),
        "{to:?}"
    );
}

/// The platform's history over a range nobody listened to: computed from the log for the
/// range, each period ending on the hour, what happened in (end - 1 h, end].
#[tokio::test]
async fn platform_history_over_a_range_with_no_listener() {
    let app = TestApp::spawn().await;
    // recorded at 10:00 (t0), a move at 10:05 (two badges), another at 11:05
    let id = app.record_example().await;
    app.clock.set(t0() + Duration::minutes(5));
    app.advance(&id, "digital_presence", "IMPLEMENTED").await;
    app.clock.set(t0() + Duration::minutes(65));
    app.advance(&id, "value_creation", "IN_PROGRESS").await;
    app.clock.set(t0() + Duration::hours(5));
    let listeners = app.app.services.platform.subscribers();
    assert!(listeners.iter().all(|(_, n)| *n == 0), "no listener");
    assert_eq!(
        app.app.services.platform.computations(),
        0,
        "nothing computed live"
    );
    let q = "query($p: KpiPeriod!, $from: DateTime!, $to: DateTime!) {
      platformKpiHistory(period: $p, from: $from, to: $to) {
        period at activeDashboards implementationRate hoursSavedWeekly badgesAwarded } }";
    let h = app
        .data(
            q,
            json!({"p": "HOUR", "from": t0(), "to": t0() + Duration::minutes(190)}),
        )
        .await["platformKpiHistory"]
        .clone();
    let rows: Vec<(String, i64, f64, f64, i64)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["at"].as_str().unwrap().to_owned(),
                p["activeDashboards"].as_i64().unwrap(),
                p["implementationRate"].as_f64().unwrap(),
                p["hoursSavedWeekly"].as_f64().unwrap(),
                p["badgesAwarded"].as_i64().unwrap(),
            )
        })
        .collect();
    let at = |h: &str| format!("2026-03-16T{h}:00:00+00:00");
    assert_eq!(
        rows,
        [
            (at("10"), 0, 0.0, 0.0, 0),
            (at("11"), 1, 33.3, 5.0, 2),
            (at("12"), 1, 33.3, 5.0, 0),
            (at("13"), 0, 33.3, 5.0, 0),
        ]
    );
    assert_eq!(h[0]["period"], "HOUR");
    for (vars, says) in [
        (
            json!({"p": "MINUTE", "from": t0(), "to": t0() + Duration::days(1)}),
            "at most 1000 points",
        ),
        (
            json!({"p": "HOUR", "from": t0(), "to": t0() - Duration::hours(1)}),
            "from must not be after to",
        ),
    ] {
        let e = app.error(q, vars).await;
        assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
    }
    // a range holding no period end: no point
    let none = app
        .data(
            q,
            json!({"p": "DAY", "from": t0(), "to": t0() + Duration::hours(2)}),
        )
        .await;
    assert_eq!(none["platformKpiHistory"], json!([]));
}
