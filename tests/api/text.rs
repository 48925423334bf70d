//! Text the store cannot keep or our rules refuse, sent through the real server: every string
//! position of the contract, over GraphQL, REST and a token's `sub`, answers `INVALID_INPUT`
//! naming its field (never `INTERNAL`), and nothing is written.

use progress_dashboard::domain::access::{Claims, Role};
use progress_dashboard::service::auth::mint;
use serde_json::{json, Value};

use crate::access::{jwt_app, SECRET};
use crate::helpers::*;

/// The rows every refused write must leave as they were.
async fn rows(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "analyses",
        "opportunities",
        "user_progress",
        "progress_activity",
        "email_subscriptions",
        "revoked_sessions",
    ] {
        counts.push(app.db.count(&format!("SELECT count(*) FROM {table}")).await);
    }
    counts
}

/// The one error of `r`: INVALID_INPUT, its message naming `field`.
fn refused(r: &Value, field: &str) {
    let e = &r["errors"][0];
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT", "{field}: {r:#}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains(field), "{field} not named in {message:?}");
}

#[tokio::test]
async fn text_the_store_cannot_keep_is_invalid_input_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let before = rows(&app).await;

    let nul = "\u{0}";
    for (field, value) in [
        ("opportunityId", nul.to_owned()),
        ("opportunityId", "digital_presence\u{0}".to_owned()),
        ("opportunityId", "a\u{85}b".to_owned()),
        ("opportunityId", "x\u{202E}y".to_owned()),
        ("opportunityId", "\u{FFFF}".to_owned()),
        ("opportunityId", "é".repeat(101)),
    ] {
        let r = app.update(&id, &value, "IN_PROGRESS", None).await;
        refused(&r, field);
    }

    let mut identity_cases = Vec::new();
    for field in ["companyName", "sector", "estimatedSize", "tier"] {
        identity_cases.push((field, nul.to_owned()));
        identity_cases.push((field, "a\nb".to_owned()));
        identity_cases.push((field, "😀".repeat(201)));
    }
    for (field, value) in identity_cases {
        let mut input = analysis_input("https://text.example.com", EXAMPLE);
        input["identity"][field] = json!(value);
        let r = app.gql(RECORD, json!({ "input": input })).await;
        refused(&r, field);
    }
    for (field, path, value) in [
        ("problemTeaser", "problemTeaser", "ok\u{0}".to_owned()),
        ("problemTeaser", "problemTeaser", "\u{1b}[31m".to_owned()),
        ("toolsHint", "toolsHint", "\u{FFFE}".to_owned()),
        ("opportunityId", "opportunityId", "a\u{0}".to_owned()),
        ("url", "url", "https://example.com/\u{0}".to_owned()),
    ] {
        let mut input = analysis_input("https://text.example.com", EXAMPLE);
        if path == "url" {
            input["url"] = json!(value);
        } else {
            input["opportunities"][1][path] = json!(value);
        }
        let r = app.gql(RECORD, json!({ "input": input })).await;
        refused(&r, field);
    }

    let revoke = "mutation($sub: String!) { revokeSessions(sub: $sub) }";
    for value in [
        nul.to_owned(),
        "a\u{7f}".to_owned(),
        "x".repeat(256),
        String::new(),
    ] {
        refused(&app.gql(revoke, json!({ "sub": value })).await, "sub");
    }
    // the same text as a literal of the document
    refused(
        &app.gql("mutation { revokeSessions(sub: \"a\\u0000b\") }", json!({}))
            .await,
        "sub",
    );

    let subscribe =
        "mutation($input: SubscribeToReportsInput!) { subscribeToReports(input: $input) { id } }";
    for value in ["a\u{0}@example.com", "a@exa\u{202E}mple.com"] {
        let input = json!({"analysisId": id, "email": value, "frequency": "WEEKLY"});
        refused(
            &app.gql(subscribe, json!({ "input": input })).await,
            "email",
        );
    }
    let unsubscribe = "mutation($t: String!) { unsubscribeFromReports(token: $t) }";
    let r = app.gql(unsubscribe, json!({ "t": nul })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{r}");

    // the REST adapter: the same checks under its error body
    for (path, body) in [
        (
            format!("/api/v1/dashboard/{id}/progress"),
            json!({"opportunity_id": "\u{0}", "status": "IN_PROGRESS"}),
        ),
        (
            format!("/api/v1/dashboard/{id}/subscribe"),
            json!({"email": "a\u{0}@example.com", "frequency": "weekly"}),
        ),
    ] {
        let r = app
            .client
            .post(format!("{}{path}", app.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "INVALID_INPUT", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("U+0000"),
            "{body}"
        );
    }
    // a NUL in a path segment is no id
    let r = app
        .client
        .get(format!("{}/api/v1/dashboard/%00", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    assert_eq!(rows(&app).await, before, "a refused value wrote something");
    // and what is real text is kept as it was sent
    let mut input = analysis_input("https://texte.example.com", EXAMPLE);
    input["identity"]["companyName"] = json!("Café e\u{301} 😀 שלום");
    input["opportunities"][0]["problemTeaser"] = json!("Ligne 1\nLigne 2\tfin");
    let d = app.data(RECORD, json!({ "input": input })).await;
    let new_id = d["recordAnalysis"]["dashboard"]["analysisId"]
        .as_str()
        .unwrap();
    let dashboard = app.dashboard(new_id).await;
    assert_eq!(
        dashboard["identity"]["companyName"],
        "Café e\u{301} 😀 שלום"
    );
}

#[tokio::test]
async fn lone_surrogates_are_refused_as_bad_json_or_bad_text() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    // a lone surrogate escape in the JSON body: not JSON any reader keeps
    let body = format!(
        r#"{{"query":"mutation($i: UpdateProgressInput!) {{ updateProgress(input: $i) {{ opportunity {{ status }} }} }}","variables":{{"i":{{"analysisId":"{id}","opportunityId":"\ud800","status":"IN_PROGRESS"}}}}}}"#
    );
    let (status, r) = app
        .post_raw(Some("application/json"), body.into_bytes())
        .await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{r}");
    // in a literal of the document
    let r = app
        .gql(
            &format!("mutation {{ updateProgress(input: {{analysisId: \"{id}\", opportunityId: \"\\ud800\", status: IN_PROGRESS}}) {{ opportunity {{ status }} }} }}"),
            json!({}),
        )
        .await;
    let code = r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none");
    assert!(
        ["INVALID_INPUT", "OPPORTUNITY_NOT_FOUND"].contains(&code),
        "{r}"
    );
}

#[tokio::test]
async fn a_token_whose_sub_is_not_text_is_refused() {
    let app = jwt_app().await;
    let now = chrono::Utc::now().timestamp();
    for sub in ["a\u{0}b", "line\nbreak", &"x".repeat(256)] {
        let claims = Claims {
            sub: sub.to_owned(),
            exp: now + 600,
            iat: Some(now),
            role: Role::Admin,
            analyses: vec![],
        };
        let token = mint(SECRET, &claims).unwrap();
        let r = app
            .client
            .post(app.graphql_url())
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({"query": "{ badgeCatalog { slug } }"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{sub:?}");
        let body: Value = r.json().await.unwrap();
        let e = &body["errors"][0];
        assert_eq!(e["extensions"]["code"], "UNAUTHENTICATED", "{body}");
        assert!(e["message"].as_str().unwrap().contains("sub"), "{body}");
    }
}

/// Every address the API accepts is one the mailer can send to: the fuzzer found addresses
/// `Email::parse` took and lettre refused, which failed as INTERNAL when the confirmation went.
#[test]
fn every_accepted_email_is_one_the_mailer_takes() {
    use progress_dashboard::domain::reports::Email;
    let mut g = crate::fuzz_gen::Generator::new(11);
    let mut candidates: Vec<String> = (0..20_000)
        .map(|_| {
            let h = g.hostile();
            match h.find('@') {
                Some(_) => h,
                None => format!("na{h}me@example.com"),
            }
        })
        .collect();
    candidates.extend(
        [
            "a<b>@example.com",
            "a\"b@example.com",
            "a\\b@example.com",
            "a(b)@example.com",
            "a,b@example.com",
            "a;b@example.com",
            "a[b]@example.com",
            "a@b@example.com",
            "jo.doe+x@example.com",
            "名前@例え.jp",
            "a@bücher.de",
        ]
        .map(String::from),
    );
    let mut accepted = 0;
    for c in &candidates {
        if let Ok(email) = Email::parse(c) {
            accepted += 1;
            let parsed = email.as_str().parse::<lettre::Address>();
            assert!(parsed.is_ok(), "accepted {c:?}, which the mailer refuses");
        }
    }
    assert!(accepted > 100, "the check refuses everything ({accepted})");
}
