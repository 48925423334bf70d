//! Access through the real server in `AUTH_MODE=jwt`: every operation × role over HTTP, the
//! subscriptions over both WebSocket subprotocols, report downloads, and tokens that must not hold.

use std::time::Duration;

use progress_dashboard::config::{AuthMode, Config};
use progress_dashboard::domain::access::{Claims, Role};
use progress_dashboard::service::auth::mint;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ws_client::*;

pub const SECRET: &str = "access tests secret";

/// `AUTH_MODE=jwt` with the tests' secret.
pub fn jwt_mode(c: &mut Config) {
    c.auth.mode = AuthMode::Jwt;
    c.auth.jwt_secret = Some(SECRET.into());
}

pub async fn jwt_app() -> TestApp {
    TestApp::spawn_with(jwt_mode).await
}

fn claims(role: Role, analyses: &[&str], ttl: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: format!("{}-caller", role.as_str()),
        exp: now + ttl,
        iat: Some(now),
        role,
        analyses: analyses
            .iter()
            .map(|a| uuid::Uuid::parse_str(a).unwrap().into())
            .collect(),
    }
}

pub fn token(role: Role, analyses: &[&str]) -> String {
    mint(SECRET, &claims(role, analyses, 3600)).unwrap()
}

/// POSTs an operation with an optional bearer token; status and JSON body.
async fn call(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    call_at(&app.base, token, query, variables).await
}

/// [`call`] on any server's base URL (the shipped binary's, say).
async fn call_at(base: &str, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// "ok", or the error code of the operation's only error.
fn outcome(body: &Value) -> String {
    match body["errors"].as_array() {
        None => "ok".into(),
        Some(e) => e[0]["extensions"]["code"].as_str().unwrap_or("?").into(),
    }
}

/// Two analyses recorded by an admin: A (the one the tokens name) and B.
pub async fn two_analyses(app: &TestApp) -> (String, String) {
    let admin = token(Role::Admin, &[]);
    let mut ids = Vec::new();
    for url in ["https://a.example.com", "https://b.example.com"] {
        let (_, r) = call(
            app,
            Some(&admin),
            RECORD,
            json!({"input": analysis_input(url, EXAMPLE)}),
        )
        .await;
        ids.push(
            r["data"]["recordAnalysis"]["dashboard"]["analysisId"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_owned(),
        );
    }
    (ids[0].clone(), ids[1].clone())
}

/// The callers of the matrix: none, viewer and owner of A, admin, and an owner of B only.
fn callers(a: &str, b: &str) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("none", None),
        ("viewer", Some(token(Role::Viewer, &[a]))),
        ("owner", Some(token(Role::Owner, &[a]))),
        ("admin", Some(token(Role::Admin, &[]))),
        ("other", Some(token(Role::Owner, &[b]))),
    ]
}

#[tokio::test]
async fn every_operation_by_every_role_over_http() {
    let app = jwt_app().await;
    let (a, b) = two_analyses(&app).await;
    let unauth = "UNAUTHENTICATED";
    let ops: Vec<(&str, String, Value, [&str; 5])> = vec![
        ("dashboard", "query($id: UUID!) { dashboard(analysisId: $id) { analysisId } }".into(), json!({"id": a}),
            [unauth, "ok", "ok", "ok", "ANALYSIS_NOT_FOUND"]),
        ("recordAnalysis", RECORD.into(), json!({"input": analysis_input("https://c.example.com", EXAMPLE)}),
            [unauth, "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN"]),
        ("updateProgress", UPDATE.into(), json!({"input": {"analysisId": a, "opportunityId": "value_creation", "status": "IN_PROGRESS"}}),
            [unauth, "FORBIDDEN", "ok", "ok", "ANALYSIS_NOT_FOUND"]),
        ("subscribeToReports", "mutation($input: SubscribeToReportsInput!) { subscribeToReports(input: $input) { id } }".into(),
            json!({"input": {"analysisId": a, "email": "x@example.com", "frequency": "WEEKLY"}}),
            [unauth, "FORBIDDEN", "ok", "ok", "ANALYSIS_NOT_FOUND"]),
        ("serviceStats", "{ serviceStats { cache { backend } } }".into(), json!({}),
            [unauth, "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN"]),
        ("badgeCatalog", "{ badgeCatalog { slug } }".into(), json!({}),
            [unauth, "ok", "ok", "ok", "ok"]),
    ];
    let callers = callers(&a, &b);
    let mut wrong = Vec::new();
    for (name, query, variables, expected) in &ops {
        for ((who, token), want) in callers.iter().zip(expected) {
            let (_, body) = call(&app, token.as_deref(), query, variables.clone()).await;
            let got = outcome(&body);
            if got != *want {
                wrong.push(format!("{name} as {who}: {got}, want {want}: {body}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // `dashboards` skips what the caller may not see, exactly as unknown ids
    let q = "query($ids: [UUID!]!) { dashboards(analysisIds: $ids) { analysisId } }";
    let want: [&[&str]; 4] = [&[&a], &[&a], &[&a, &b], &[&b]];
    for ((who, token), want) in callers[1..].iter().zip(want) {
        let (_, body) = call(&app, token.as_deref(), q, json!({"ids": [a, b]})).await;
        let got: Vec<&str> = body["data"]["dashboards"]
            .as_array()
            .unwrap_or_else(|| panic!("{who}: {body}"))
            .iter()
            .map(|d| d["analysisId"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{who}");
    }
    let (_, body) = call(&app, None, q, json!({"ids": [a]})).await;
    assert_eq!(outcome(&body), unauth);
}

/// GET /reports/{id} as HTML with an optional bearer token; status and JSON body (if any).
async fn download(app: &TestApp, id: &str, token: Option<&str>) -> (u16, Value) {
    let mut r = app
        .client
        .get(format!("{}/reports/{id}?format=html", app.base));
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Moves A's `value_creation` as `token`; the operation must succeed.
async fn move_to(app: &TestApp, token: &str, a: &str, status: &str) {
    let input = json!({"analysisId": a, "opportunityId": "value_creation", "status": status});
    let (_, r) = call(app, Some(token), UPDATE, json!({ "input": input })).await;
    assert_eq!(outcome(&r), "ok", "{r}");
}

#[tokio::test]
async fn report_downloads_need_a_token_and_hide_other_analyses() {
    let app = jwt_app().await;
    let (a, b) = two_analyses(&app).await;
    let want = [401, 200, 200, 200, 404];
    for ((who, token), want) in callers(&a, &b).into_iter().zip(want) {
        assert_eq!(download(&app, &a, token.as_deref()).await.0, want, "{who}");
    }
    // the hidden analysis answers exactly as one that does not exist
    let (_, hidden) = download(&app, &a, Some(&token(Role::Owner, &[&b]))).await;
    let unknown_id = uuid::Uuid::new_v4();
    let admin = token(Role::Admin, &[]);
    let (_, unknown) = download(&app, &unknown_id.to_string(), Some(&admin)).await;
    assert_eq!(
        hidden["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(&a, "ID"),
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(&unknown_id.to_string(), "ID")
    );
}

#[tokio::test]
async fn tokens_that_do_not_hold_are_refused_with_401() {
    let app = TestApp::spawn_with(|c| {
        jwt_mode(c);
        c.auth.jwt_audience = Some("dashboard-api".into());
    })
    .await;
    let q = "{ badgeCatalog { slug } }";
    let with_aud = |c: Claims, aud: &str| {
        let mut v = serde_json::to_value(&c).unwrap();
        v["aud"] = json!(aud);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &v,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let good = with_aud(claims(Role::Viewer, &[], 3600), "dashboard-api");
    let (status, body) = call(&app, Some(&good), q, json!({})).await;
    assert_eq!((status, outcome(&body).as_str()), (200, "ok"), "{body}");

    let expired = with_aud(claims(Role::Viewer, &[], -120), "dashboard-api");
    let wrong_audience = with_aud(claims(Role::Viewer, &[], 3600), "another-api");
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    // alg none: a header and claims with no signature at all
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let mut unsigned_claims = serde_json::to_value(claims(Role::Admin, &[], 3600)).unwrap();
    unsigned_claims["aud"] = json!("dashboard-api");
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&unsigned_claims)
    );
    let other_secret = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(Role::Admin, &[], 3600),
        &jsonwebtoken::EncodingKey::from_secret(b"not the secret"),
    )
    .unwrap();
    // larger than any token of ours: refused before anything decodes or hashes it
    let oversized = format!("{good}{}", "A".repeat(8 * 1024));
    for (what, token) in [
        ("expired", expired.as_str()),
        ("wrong audience", wrong_audience.as_str()),
        ("tampered signature", tampered.as_str()),
        ("alg none", alg_none.as_str()),
        ("another secret", other_secret.as_str()),
        ("not a JWT", "hello"),
        ("oversized", oversized.as_str()),
    ] {
        let (status, body) = call(&app, Some(token), q, json!({})).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(outcome(&body), "UNAUTHENTICATED", "{what}: {body}");
    }
    let r = app
        .client
        .post(app.graphql_url())
        .header("authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({"query": q}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn websocket_callers_are_known_at_connection_init() {
    let app = jwt_app().await;
    let (a, b) = two_analyses(&app).await;
    let kpi = "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { analysisId } }";
    let platform = "subscription { platformKpis(period: MINUTE) { period } }";
    for protocol in [TRANSPORT_WS, LEGACY_WS] {
        let payloads = [
            json!({}),
            json!({"authorization": "Bearer nope"}),
            json!({"authorization": 42}),
            json!({"authorization": format!("Bearer {}", "A".repeat(3000))}),
        ];
        for payload in payloads {
            let mut ws = WsClient::connect(&app.base, protocol).await;
            ws.send(json!({"type": "connection_init", "payload": payload}))
                .await;
            assert_eq!(
                ws.closed_with(Duration::from_secs(5)).await,
                Some(4403),
                "{protocol} {payload}"
            );
        }
        let viewer = format!("Bearer {}", token(Role::Viewer, &[&a]));
        let mut ws = WsClient::connect(&app.base, protocol).await;
        ws.send(json!({"type": "connection_init", "payload": {"authorization": viewer}}))
            .await;
        assert_eq!(
            ws.raw(Duration::from_secs(5)).await.unwrap()["type"],
            "connection_ack"
        );
        ws.subscribe("mine", kpi, json!({"id": a})).await;
        ws.subscribe("theirs", kpi, json!({"id": b})).await;
        ws.subscribe("platform", platform, json!({})).await;
        let mut codes = std::collections::BTreeMap::new();
        for _ in 0..10 {
            if codes.len() == 2 {
                break;
            }
            let m = ws.raw(Duration::from_secs(5)).await.unwrap();
            let error = match m["type"].as_str() {
                Some("error") if m["payload"].is_array() => &m["payload"][0],
                Some("error") => &m["payload"],
                Some("data" | "next") => &m["payload"]["errors"][0],
                Some("complete") => continue,
                _ => panic!("{protocol}: {m}"),
            };
            codes.insert(
                m["id"].as_str().unwrap().to_owned(),
                error["extensions"]["code"].clone(),
            );
        }
        assert_eq!(codes["theirs"], "ANALYSIS_NOT_FOUND", "{protocol}");
        assert_eq!(codes["platform"], "FORBIDDEN", "{protocol}");
        // the viewer's own analysis speaks after a change by its owner
        let owner = token(Role::Owner, &[&a]);
        move_to(&app, &owner, &a, "IN_PROGRESS").await;
        assert_eq!(
            ws.data("mine").await["kpiUpdated"]["analysisId"],
            a.as_str()
        );
        move_to(&app, &owner, &a, "NOT_STARTED").await;
        ws.data("mine").await;
    }
}

#[tokio::test]
async fn mint_token_signs_what_the_server_accepts_and_jwt_mode_needs_a_key() {
    let app = jwt_app().await;
    let (a, _) = two_analyses(&app).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .args([
            "mint-token",
            "--role",
            "viewer",
            "--analysis",
            &a,
            "--ttl",
            "10m",
            "--sub",
            "jane",
        ])
        .env("AUTH_JWT_SECRET", SECRET)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let minted = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (_, r) = call(
        &app,
        Some(&minted),
        "query($id: UUID!) { dashboard(analysisId: $id) { analysisId } }",
        json!({"id": a}),
    )
    .await;
    assert_eq!(outcome(&r), "ok", "{r}");

    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .arg("serve")
        .env("DATABASE_URL", &app.db.url)
        .env("PORT", "0")
        .env("AUTH_MODE", "jwt")
        .env_remove("AUTH_JWT_SECRET")
        .env_remove("AUTH_JWT_PUBLIC_KEY")
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("AUTH_JWT_SECRET") && stderr.contains("AUTH_JWT_PUBLIC_KEY"),
        "{stderr}"
    );
}

/// Opens a graphql-transport-ws connection as `token`; it must be acknowledged.
async fn connect_as(app: &TestApp, token: &str) -> WsClient {
    connect_on(app, TRANSPORT_WS, token).await
}

fn minted(role: Role, analyses: &[&str], ttl: i64) -> String {
    mint(SECRET, &claims(role, analyses, ttl)).unwrap()
}

/// A token expiring closes the socket with 4403; a fresh one sent in a ping keeps it open, and
/// live subscriptions are rechecked against the new claims.
#[tokio::test]
async fn websocket_tokens_expire_and_are_renewed_by_ping() {
    let app = jwt_app().await;
    let (a, b) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&a]);
    let kpi = "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { analysisId } }";

    let mut expiring = connect_as(&app, &minted(Role::Viewer, &[&a], 2)).await;
    let mut renewed = connect_as(&app, &minted(Role::Viewer, &[&a], 2)).await;
    renewed.subscribe("mine", kpi, json!({"id": a})).await;
    let fresh = format!("Bearer {}", minted(Role::Viewer, &[&a], 3600));
    renewed
        .send(json!({"type": "ping", "payload": {"authorization": fresh}}))
        .await;
    assert_eq!(
        expiring.closed_with(Duration::from_secs(10)).await,
        Some(4403)
    );
    // past the first token's expiry, the renewed connection still delivers
    move_to(&app, &owner, &a, "IN_PROGRESS").await;
    assert_eq!(
        renewed.data("mine").await["kpiUpdated"]["analysisId"],
        a.as_str()
    );

    // new claims without A: its live subscription ends with the error an unknown analysis gets
    let elsewhere = format!("Bearer {}", minted(Role::Viewer, &[&b], 3600));
    renewed
        .send(json!({"type": "ping", "payload": {"authorization": elsewhere}}))
        .await;
    move_to(&app, &owner, &a, "NOT_STARTED").await;
    match renewed.next("mine", Duration::from_secs(5)).await {
        Some(Received::Error(e)) => assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND"),
        other => panic!("expected the subscription to end with an error, got {other:?}"),
    }
    // and a ping with a bad token closes the connection
    renewed
        .send(json!({"type": "ping", "payload": {"authorization": "Bearer nope"}}))
        .await;
    assert_eq!(
        renewed.closed_with(Duration::from_secs(5)).await,
        Some(4403)
    );
}

/// GRAPHQL_INTROSPECTION=false: no introspection, and errors suggest no field names.
#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let introspect = "{ __schema { queryType { name } } }";
    let typo = "{ badgeCatalg { slug } }";
    let on = TestApp::spawn().await;
    assert!(on.gql(introspect, json!({})).await.get("errors").is_none());
    let r = on.gql(typo, json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{r}"
    );

    let off = TestApp::spawn_with(|c| c.server.introspection = false).await;
    let r = off.gql(introspect, json!({})).await;
    assert!(r["data"]["__schema"].is_null(), "{r}");
    let r = off.gql(typo, json!({})).await;
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("Did you mean") && !message.contains("badgeCatalog"),
        "{r}"
    );
}

/// Without CORS_ALLOWED_ORIGINS, browsers of other origins are refused in jwt mode and allowed in
/// open mode (the shipped binary, configured from its environment).
#[tokio::test]
async fn cross_origin_defaults_follow_the_auth_mode() {
    let db = TestDb::new().await;
    let cross_origin = |base: String| async move {
        reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("origin", "https://elsewhere.example")
            .json(&json!({"query": "{ __typename }"}))
            .send()
            .await
            .unwrap()
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (_open, base) = spawn_binary(&db, &[]).await;
    assert_eq!(cross_origin(base).await.as_deref(), Some("*"));
    let (_jwt, base) =
        spawn_binary(&db, &[("AUTH_MODE", "jwt"), ("AUTH_JWT_SECRET", SECRET)]).await;
    assert_eq!(cross_origin(base).await, None);
}

pub fn limited(per_minute: u32) -> impl FnOnce(&mut Config) {
    move |c| {
        jwt_mode(c);
        c.limits.rate_limit_per_minute = per_minute;
    }
}

/// POSTs `{ badgeCatalog }` from `client` with optional token and headers; status, the
/// `RateLimit-Remaining` header and the JSON body.
async fn hit(
    app: &TestApp,
    client: &reqwest::Client,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, Option<u64>, Value) {
    let mut r = client
        .post(app.graphql_url())
        .json(&json!({"query": "{ badgeCatalog { slug } }"}));
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    let r = r.send().await.unwrap();
    let remaining = r
        .headers()
        .get("ratelimit-remaining")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let status = r.status().as_u16();
    if status == 429 {
        assert!(r.headers().get("retry-after").is_some());
    }
    (status, remaining, r.json().await.unwrap())
}

/// Five requests of one subject on `a` (at a limit of five), then the sixth on `b` is refused;
/// its body.
pub async fn five_then_refused(a: &TestApp, b: &TestApp) -> Value {
    let viewer = token(Role::Viewer, &[]);
    for n in 0..5 {
        let (status, remaining, body) = hit(a, &a.client, Some(&viewer), &[]).await;
        assert_eq!((status, remaining), (200, Some(4 - n)), "{body}");
    }
    let (status, remaining, body) = hit(b, &b.client, Some(&viewer), &[]).await;
    assert_eq!((status, remaining), (429, Some(0)), "{body}");
    body
}

/// The limit is counted in Redis: the sixth request of the minute, on another instance, is refused.
#[tokio::test]
async fn the_rate_limit_holds_across_instances() {
    let prefix = format!("pd-test-rl-{}:", uuid::Uuid::new_v4().simple());
    let configure = |c: &mut Config| {
        with_redis(&prefix)(c);
        limited(5)(c);
    };
    let a = TestApp::spawn_with(configure).await;
    let b = a.spawn_sibling(configure).await;
    let body = five_then_refused(&a, &b).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

/// A token's subject has one budget whatever address it calls from; without Redis the count is
/// the instance's own.
#[tokio::test]
async fn the_rate_limit_follows_the_subject_across_addresses() {
    let app = TestApp::spawn_with(limited(3)).await;
    let elsewhere = from_address("127.0.0.2");
    let viewer = token(Role::Viewer, &[]);
    assert_eq!(hit(&app, &app.client, Some(&viewer), &[]).await.0, 200);
    assert_eq!(hit(&app, &app.client, Some(&viewer), &[]).await.0, 200);
    assert_eq!(hit(&app, &elsewhere, Some(&viewer), &[]).await.0, 200);
    assert_eq!(hit(&app, &elsewhere, Some(&viewer), &[]).await.0, 429);
    // without the token the address has its own budget (3, of which the two above, the refused
    // one included, are spent)
    let (status, remaining, _) = hit(&app, &elsewhere, None, &[]).await;
    assert_eq!((status, remaining), (200, Some(0)));
}

/// `X-Forwarded-For` names the client only when the peer is a trusted proxy.
#[tokio::test]
async fn forwarded_addresses_count_behind_trusted_proxies_only() {
    let trusting = TestApp::spawn_with(|c| {
        limited(2)(c);
        c.server.trusted_proxies =
            vec![progress_dashboard::config::Cidr::parse("127.0.0.1").unwrap()];
    })
    .await;
    let from = |ip| [("x-forwarded-for", ip)];
    let c = &trusting.client;
    for _ in 0..2 {
        assert_eq!(hit(&trusting, c, None, &from("203.0.113.1")).await.0, 200);
    }
    assert_eq!(hit(&trusting, c, None, &from("203.0.113.1")).await.0, 429);
    assert_eq!(hit(&trusting, c, None, &from("203.0.113.2")).await.0, 200);

    let wary = TestApp::spawn_with(limited(2)).await;
    let c = &wary.client;
    assert_eq!(hit(&wary, c, None, &from("203.0.113.1")).await.0, 200);
    assert_eq!(hit(&wary, c, None, &from("203.0.113.2")).await.0, 200);
    assert_eq!(hit(&wary, c, None, &from("203.0.113.3")).await.0, 429);
}

/// Every per-client bound counts the client a trusted proxy forwards, not the proxy: renders of
/// documents (both routes) and WebSocket connections; a peer that is not trusted is itself.
#[tokio::test]
async fn per_client_bounds_count_the_forwarded_client() {
    let app = TestApp::spawn_with(|c| {
        c.server.trusted_proxies =
            vec![progress_dashboard::config::Cidr::parse("127.0.0.1").unwrap()];
        c.limits.ws_max_connections_per_client = 1;
    })
    .await;
    let id = app.record_example().await;
    // thirty different documents (sections × language): each one a render, none a cached copy
    let all = ["summary", "badges", "metrics", "opportunities"];
    let mut documents = (1..16u32).flat_map(|mask| {
        let sections: Vec<_> = (0..4)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| all[i])
            .collect();
        ["fr", "en"].map(|lang| format!("{}&lang={lang}", sections.join(",")))
    });
    let render = |from: &'static str, forwarded: String, route: &'static str, sections: String| {
        let url = match route {
            "api" => format!("{}/api/v1/dashboard/{id}/report/generate", app.base),
            _ => format!("{}/reports/{id}", app.base),
        };
        let url = format!("{url}?sections={sections}");
        let client = from_address(from);
        async move {
            let r = client
                .get(url)
                .query(&[("format", "html")])
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    // two clients behind one trusted proxy: five renders each (the default), on either route
    for client in ["203.0.113.1", "203.0.113.2"] {
        for n in 0..5 {
            let route = if n % 2 == 0 { "api" } else { "reports" };
            let status = render("127.0.0.1", client.into(), route, documents.next().unwrap()).await;
            assert_eq!(status, 200, "render {n} of {client}");
        }
    }
    let sixth = documents.next().unwrap();
    assert_eq!(
        render("127.0.0.1", "203.0.113.1".into(), "api", sixth.clone()).await,
        429
    );
    // a peer that is not trusted names whatever it likes, and is counted as itself
    for n in 0..4 {
        let claimed = format!("198.51.100.{n}");
        let status = render("127.0.0.2", claimed, "reports", documents.next().unwrap()).await;
        assert_eq!(status, 200, "render {n} of the untrusted peer");
    }
    // its fifth: the one the first client was refused (so not a cached copy), still a render
    assert_eq!(
        render("127.0.0.2", "198.51.100.9".into(), "api", sixth.clone()).await,
        200
    );
    let seventh = documents.next().unwrap();
    assert_eq!(
        render("127.0.0.2", "198.51.100.10".into(), "api", seventh).await,
        429
    );

    // one WebSocket each (WS_MAX_CONNECTIONS_PER_CLIENT=1), though all come through one proxy
    let dial = |client: &'static str| {
        let base = app.base.clone();
        async move {
            let headers = [("x-forwarded-for", client)];
            let dial = Dial {
                from: Some("127.0.0.1"),
                headers: &headers,
            };
            WsClient::dial(&base, TRANSPORT_WS, dial).await
        }
    };
    let _held = dial("203.0.113.1").await.unwrap();
    assert_eq!(dial("203.0.113.1").await.err(), Some(429));
    let _other = dial("203.0.113.2").await.unwrap();
}

/// An `X-Forwarded-For` that names no address (bytes that are not text, Unicode controls, a
/// list that ends in garbage, 8 KiB of it) from a trusted proxy counts as the proxy itself: no
/// new bucket per value, no error, over HTTP and WebSocket.
#[tokio::test]
async fn hostile_forwarded_for_is_the_proxy_itself() {
    let app = TestApp::spawn_with(|c| {
        c.server.trusted_proxies =
            vec![progress_dashboard::config::Cidr::parse("127.0.0.1").unwrap()];
        c.limits.reports_per_client_per_minute = 2;
    })
    .await;
    let id = app.record_example().await;
    let long = "9".repeat(8000);
    let hostile: [&[u8]; 5] = [
        b"\xff\xfe\x80",
        "203.0.113.1\u{202e}".as_bytes(),
        b"unknown, 999.1.1.1",
        long.as_bytes(),
        "\u{feff}203.0.113.2".as_bytes(),
    ];
    let sections = [
        "summary",
        "badges",
        "metrics",
        "opportunities",
        "summary,badges",
    ];
    let mut statuses = Vec::new();
    for (value, sections) in hostile.iter().zip(sections) {
        let r = app
            .client
            .get(format!(
                "{}/reports/{id}?format=html&sections={sections}",
                app.base
            ))
            .header(
                "x-forwarded-for",
                reqwest::header::HeaderValue::from_bytes(value).unwrap(),
            )
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429], "one client: the proxy");
    let headers = [("x-forwarded-for", "unknown, 999.1.1.1")];
    let dial = Dial {
        from: Some("127.0.0.1"),
        headers: &headers,
    };
    assert!(WsClient::dial(&app.base, TRANSPORT_WS, dial).await.is_ok());
}

/// The shipped binary at `LOG_LEVEL=debug` in jwt mode: after requests with a token over HTTP and
/// WebSocket and a report subscription, neither the token nor the address is in its output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_email_address_in_the_logs() {
    let db = TestDb::new().await;
    let log = std::env::temp_dir().join(format!("pd-log-{}.txt", uuid::Uuid::new_v4().simple()));
    let file = std::fs::File::create(&log).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("MIGRATE_ON_START", "true")
        .env("LOG_LEVEL", "debug")
        .env("AUTH_MODE", "jwt")
        .env("AUTH_JWT_SECRET", SECRET)
        .env(
            "REPORTS_OUTBOX_DIR",
            std::env::temp_dir().join("pd-log-outbox"),
        )
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut base = None;
    for _ in 0..500 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with("Playground: ")) {
            base = line
                .split_whitespace()
                .nth(1)
                .map(|b| b.trim_end_matches('/').to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let base = base.expect("the server starts");
    let admin = token(Role::Admin, &[]);
    let input = json!({"input": analysis_input("https://logs.example.com", EXAMPLE)});
    let (_, r) = call_at(&base, Some(&admin), RECORD, input).await;
    let id = r["data"]["recordAnalysis"]["dashboard"]["analysisId"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let owner = token(Role::Owner, &[&id]);
    let address = "very.private.subscriber@example.org";
    let (_, r) = call_at(
        &base,
        Some(&owner),
        "mutation($input: SubscribeToReportsInput!) { subscribeToReports(input: $input) { id } }",
        json!({"input": {"analysisId": id, "email": address, "frequency": "WEEKLY"}}),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let mut ws = WsClient::connect(&base, TRANSPORT_WS).await;
    ws.send(
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {owner}")}}),
    )
    .await;
    assert_eq!(
        ws.raw(Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    let (_, bad) = call_at(
        &base,
        Some("not-a-token"),
        "{ badgeCatalog { slug } }",
        json!({}),
    )
    .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    drop(ws);
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).ok();
    assert!(
        text.lines().count() > 10,
        "the server logged at debug: {text}"
    );
    for secret in [admin.as_str(), owner.as_str(), address, "not-a-token"] {
        assert!(!text.contains(secret), "{secret:?} is in the logs:\n{text}");
    }
    // the signature part alone is not there either
    assert!(!text.contains(owner.rsplit('.').next().unwrap()));
}

/// `revokeSessions` on one instance: the subject's older tokens stop holding on the other one
/// too, and its socket held there closes; a token issued afterwards holds.
#[tokio::test]
async fn revoked_sessions_end_on_every_instance() {
    let prefix = format!("pd-test-revoke-{}:", uuid::Uuid::new_v4().simple());
    let configure = |c: &mut Config| {
        with_redis(&prefix)(c);
        jwt_mode(c);
    };
    let a = TestApp::spawn_with(configure).await;
    let b = a.spawn_sibling(configure).await;
    eventually("the event bus", || b.app.services.state.bus.connected()).await;
    let (id, _) = two_analyses(&a).await;
    let mut old = claims(Role::Owner, &[&id], 3600);
    old.sub = "jane".into();
    old.iat = Some(old.iat.unwrap() - 10);
    let old = mint(SECRET, &old).unwrap();
    let q = "query($id: UUID!) { dashboard(analysisId: $id) { analysisId } }";
    assert_eq!(
        outcome(&call(&b, Some(&old), q, json!({"id": id})).await.1),
        "ok"
    );
    let mut socket = connect_as(&b, &old).await;

    let admin = token(Role::Admin, &[]);
    let (_, r) = call(
        &a,
        Some(&admin),
        "mutation { revokeSessions(sub: \"jane\") }",
        json!({}),
    )
    .await;
    assert_eq!(r["data"]["revokeSessions"], true, "{r}");
    assert_eq!(socket.closed_with(Duration::from_secs(5)).await, Some(4403));
    let (status, body) = call(&b, Some(&old), q, json!({"id": id})).await;
    assert_eq!(
        (status, outcome(&body).as_str()),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );
    let (status, _) = call(&a, Some(&old), q, json!({"id": id})).await;
    assert_eq!(status, 401);

    // issued after the revocation: holds
    let mut fresh = claims(Role::Owner, &[&id], 3600);
    fresh.sub = "jane".into();
    fresh.iat = Some(fresh.iat.unwrap() + 1);
    let fresh = mint(SECRET, &fresh).unwrap();
    assert_eq!(
        outcome(&call(&b, Some(&fresh), q, json!({"id": id})).await.1),
        "ok"
    );
    // and only an admin may revoke
    let (_, r) = call(
        &a,
        Some(&fresh),
        "mutation { revokeSessions(sub: \"x\") }",
        json!({}),
    )
    .await;
    assert_eq!(outcome(&r), "FORBIDDEN");
}

/// An instance reads the stored revocations when it starts (and again every 30 s), so it refuses
/// a revoked session that it never heard of on the bus.
#[tokio::test]
async fn stored_revocations_hold_on_an_instance_that_starts_later() {
    let a = jwt_app().await;
    let mut old = claims(Role::Admin, &[], 3600);
    old.sub = "gone".into();
    old.iat = Some(old.iat.unwrap() - 10);
    let old = mint(SECRET, &old).unwrap();
    let q = "{ badgeCatalog { slug } }";
    assert_eq!(call(&a, Some(&old), q, json!({})).await.0, 200);
    sql(
        &a.db,
        "INSERT INTO revoked_sessions (sub, before) VALUES ('gone', now())",
    )
    .await;
    let b = a.spawn_sibling(jwt_mode).await;
    let mut refused = false;
    for _ in 0..250 {
        if call(&b, Some(&old), q, json!({})).await.0 == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the stored revocation was not loaded");
}

/// Opens a connection on `protocol` as `token`; it must be acknowledged.
async fn connect_on(app: &TestApp, protocol: &'static str, token: &str) -> WsClient {
    let mut ws = WsClient::connect(&app.base, protocol).await;
    ws.send(
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(
        ws.raw(Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    ws
}

/// Subscribers who send the same request share one run; each is still checked on its own: when
/// it joins (a caller who may not read the analysis gets the unshared answer) and on every event
/// (a member whose new token drops the analysis ends alone). The run stops with its last member.
#[tokio::test]
async fn shared_subscriptions_check_every_member() {
    let app = jwt_app().await;
    let (a, b) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&a]);
    let kpi = "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { analysisId } }";
    let shared = &app.app.shared;
    let live = || {
        app.app
            .services
            .state
            .counts
            .kpi_updated
            .load(std::sync::atomic::Ordering::Relaxed)
    };

    let mut members = Vec::new();
    for protocol in [TRANSPORT_WS, LEGACY_WS, TRANSPORT_WS] {
        let mut ws = connect_on(&app, protocol, &token(Role::Viewer, &[&a])).await;
        ws.subscribe("k", kpi, json!({"id": a})).await;
        members.push(ws);
    }
    // the same bytes from a caller who may not read A: refused as ever, and no member
    let mut outsider = connect_on(&app, TRANSPORT_WS, &token(Role::Viewer, &[&b])).await;
    outsider.subscribe("k", kpi, json!({"id": a})).await;
    match outsider.next("k", Duration::from_secs(5)).await {
        Some(Received::Error(e)) => assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND"),
        other => panic!("expected ANALYSIS_NOT_FOUND, got {other:?}"),
    }
    eventually("three members, listening", || live() == 3).await;
    assert_eq!(shared.runs(), 1, "one run for the three");

    move_to(&app, &owner, &a, "IN_PROGRESS").await;
    for ws in &mut members {
        assert_eq!(ws.data("k").await["kpiUpdated"]["analysisId"], a.as_str());
    }

    // the first member's token no longer names A: it alone ends, with the hidden answer
    let elsewhere = format!("Bearer {}", token(Role::Viewer, &[&b]));
    members[0]
        .send(json!({"type": "ping", "payload": {"authorization": elsewhere}}))
        .await;
    assert_eq!(
        members[0].raw(Duration::from_secs(5)).await.unwrap()["type"],
        "pong"
    );
    move_to(&app, &owner, &a, "NOT_STARTED").await;
    match members[0].next("k", Duration::from_secs(5)).await {
        Some(Received::Error(e)) => {
            assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND");
            assert_eq!(e["path"], json!(["kpiUpdated"]));
            assert!(e["extensions"]["requestId"].is_string(), "{e}");
        }
        other => panic!("expected the member to end with an error, got {other:?}"),
    }
    assert!(matches!(
        members[0].next("k", Duration::from_secs(5)).await,
        Some(Received::Complete)
    ));
    for ws in &mut members[1..] {
        assert_eq!(ws.data("k").await["kpiUpdated"]["analysisId"], a.as_str());
    }
    eventually("two members left", || live() == 2).await;

    // the run goes on while anyone is left, and stops with the last
    members[1].unsubscribe("k").await;
    eventually("one member left", || live() == 1).await;
    assert_eq!(shared.runs(), 1);
    move_to(&app, &owner, &a, "IN_PROGRESS").await;
    assert_eq!(
        members[2].data("k").await["kpiUpdated"]["analysisId"],
        a.as_str()
    );
    drop(members);
    eventually("no run left", || shared.runs() == 0 && live() == 0).await;
}
