//! The REST adapter (`/api/v1`) against the original specification: its JSON examples
//! (`tests/rest/specification-examples.json`) and its OpenAPI schemas
//! (`tests/rest/specification-openapi.json`), both converted once from
//! `shared/reference/001_f74684d684017b53.txt`; its refusals, ETags, docs page and a
//! schemathesis run against the live server.

use progress_dashboard::domain::access::Role;
use progress_dashboard::service::seed::{seed_demo, EXAMPLE_ANALYSIS_ID};
use serde_json::{json, Map, Value};

use crate::access::{jwt_app, jwt_mode, token, two_analyses};
use crate::helpers::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/rest/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn example(operation: &str, part: &str) -> Value {
    fixture("specification-examples.json")[operation][part].clone()
}

/// A REST call: status, headers and JSON body (`Null` when there is none).
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut r = app
        .client
        .request(method, format!("{}/api/v1{path}", app.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let bytes = r.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let (status, _, body) = call(app, reqwest::Method::GET, path, Some(token), None).await;
    (status, body)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = call(app, reqwest::Method::POST, path, Some(token), Some(&body)).await;
    (status, body)
}

/// The same value with what differs from run to run masked: instants (checked to be RFC 3339
/// in UTC), ids of things this run created, and request ids.
fn masked(value: &Value, ids: &[&str]) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        (k, Value::String(s)) if k.ends_with("_at") || k == "timestamp" => {
                            assert!(
                                chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'),
                                "{k}: {s}"
                            );
                            json!("<instant>")
                        }
                        (_, v) if ids.contains(&k.as_str()) => {
                            assert!(v.is_string(), "{k}: {v}");
                            json!("<id>")
                        }
                        _ => masked(v, ids),
                    };
                    (k.clone(), v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| masked(v, ids)).collect()),
        other => other.clone(),
    }
}

/// The example state of the specification: the seeded example analysis (Example Inc.) and an
/// owner's token for it.
async fn example_app() -> (TestApp, String, String) {
    let app = jwt_app().await;
    let mut conn = app.db.conn().await;
    seed_demo(&mut conn, 0, t0()).await.unwrap();
    let id = EXAMPLE_ANALYSIS_ID.to_string();
    let owner = token(Role::Owner, &[&id]);
    (app, id, owner)
}

#[tokio::test]
async fn the_gets_answer_the_specification_examples() {
    let (app, id, owner) = example_app().await;

    let (status, dashboard) = get(&app, &format!("/dashboard/{id}"), &owner).await;
    assert_eq!(status, 200, "{dashboard}");
    assert_eq!(
        masked(&dashboard, &[]),
        masked(&example("getDashboard", "response"), &[])
    );

    let (status, badges) = get(&app, &format!("/dashboard/{id}/badges"), &owner).await;
    assert_eq!(status, 200, "{badges}");
    assert_eq!(
        masked(&badges, &[]),
        masked(&example("getBadges", "response"), &[])
    );

    // The specification's example lists an opportunity that its own dashboard example shows
    // IN_PROGRESS; the brief's rule (NOT_STARTED only, best score first) holds here.
    let (status, recommended) =
        get(&app, &format!("/dashboard/{id}/recommendations"), &owner).await;
    assert_eq!(status, 200, "{recommended}");
    let expected = example("getRecommendations", "response");
    let spec_bm = &expected["recommendations"][0];
    let ours = recommended["recommendations"].as_array().unwrap();
    assert_eq!(ours.len(), 1, "{recommended}");
    let mut bm = ours[0].clone();
    assert!(bm["reason"].as_str().is_some_and(|r| !r.is_empty()));
    bm["reason"] = spec_bm["reason"].clone();
    assert_eq!(&bm, spec_bm);
    assert_eq!(recommended["analysis_id"], expected["analysis_id"]);
}

#[tokio::test]
async fn progress_answers_the_specification_example() {
    let app = jwt_app().await;
    let (id, _) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&id]);
    let path = format!("/dashboard/{id}/progress");

    let (status, started) = post(
        &app,
        &path,
        &owner,
        json!({"opportunity_id": "digital_presence", "status": "IN_PROGRESS"}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["new_badges"][0]["badge_type"], "first_step");
    assert_eq!(started["implemented_at"], Value::Null);

    let (status, done) = post(&app, &path, &owner, example("updateProgress", "request")).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        masked(&done, &["analysis_id"]),
        masked(&example("updateProgress", "response"), &["analysis_id"])
    );
    assert_eq!(done["analysis_id"], id.as_str());

    // the specification's two errors, word for word (and a request id)
    let errors = example("updateProgress", "errors");
    for (body, expected) in [
        (
            json!({"opportunity_id": "digital_presence", "status": "IN_PROGRESS"}),
            (400, &errors[0]["body"]),
        ),
        (
            json!({"opportunity_id": "invalid_id", "status": "IMPLEMENTED"}),
            (404, &errors[1]["body"]),
        ),
    ] {
        let (status, refused) = post(&app, &path, &owner, body).await;
        assert_eq!(status, expected.0, "{refused}");
        assert!(refused["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty()));
        let mut refused = masked(&refused, &[]);
        refused.as_object_mut().unwrap().remove("request_id");
        assert_eq!(&refused, &masked(expected.1, &[]));
    }
}

#[tokio::test]
async fn subscribe_answers_the_specification_example() {
    let app = jwt_app().await;
    let (id, _) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&id]);
    let path = format!("/dashboard/{id}/subscribe");
    let (status, created) = post(&app, &path, &owner, example("subscribeReports", "request")).await;
    assert_eq!(status, 201, "{created}");
    let ids = ["subscription_id", "analysis_id"];
    assert_eq!(
        masked(&created, &ids),
        masked(&example("subscribeReports", "response"), &ids)
    );
    for (body, why) in [
        (
            json!({"email": "not-an-email", "frequency": "weekly"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "frequency": "daily"}),
            "frequency",
        ),
        (
            json!({"email": "a@example.com", "frequency": "weekly", "hourly_rate": 5}),
            "rate",
        ),
    ] {
        let (status, refused) = post(&app, &path, &owner, body).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (400, Some("INVALID_INPUT")),
            "{why}: {refused}"
        );
    }
}

#[tokio::test]
async fn gets_carry_an_etag_and_answer_304_until_a_change() {
    let (app, id, owner) = example_app().await;
    let path = format!("/dashboard/{id}");
    let (status, headers, _) = call(&app, reqwest::Method::GET, &path, Some(&owner), None).await;
    assert_eq!(status, 200);
    let tag = headers["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");

    let conditional = |tag: String| {
        let (app, owner, path) = (&app, &owner, &path);
        async move {
            let r = app
                .client
                .get(format!("{}/api/v1{path}", app.base))
                .bearer_auth(owner)
                .header("if-none-match", tag)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let etag = r
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, etag, r.bytes().await.unwrap().len())
        }
    };
    assert_eq!(conditional(tag.clone()).await, (304, Some(tag.clone()), 0));
    assert_eq!(conditional(format!("W/{tag}, \"other\"")).await.0, 304);
    assert_eq!(conditional("\"other\"".into()).await.0, 200);

    let moved = json!({"opportunity_id": "business_management", "status": "IN_PROGRESS"});
    let (status, _) = post(&app, &format!("{path}/progress"), &owner, moved).await;
    assert_eq!(status, 200);
    let (status, new_tag, length) = conditional(tag.clone()).await;
    assert_eq!(status, 200, "a change makes a new representation");
    assert!(length > 0 && new_tag.is_some_and(|t| t != tag));
}

#[tokio::test]
async fn refusals_have_the_specification_body() {
    let (app, id, owner) = example_app().await;
    let other = token(Role::Owner, &["00000000-0000-4000-8000-000000000001"]);
    let viewer = token(Role::Viewer, &[&id]);
    let error_of = |body: &Value| body["error"].as_str().unwrap_or("?").to_owned();

    // unknown and hidden analyses look the same, as the specification words it
    let unknown = "00000000-0000-4000-8000-000000000000";
    let (status, missing) = get(&app, &format!("/dashboard/{unknown}"), &owner).await;
    assert_eq!((status, error_of(&missing)), (404, "NOT_FOUND".into()));
    assert_eq!(
        missing["detail"],
        format!("Analysis with ID {unknown} not found")
    );
    let spec = &example("getDashboard", "errors")[0]["body"];
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<String>>()
    };
    let mut expected = keys(spec);
    expected.insert("request_id".into());
    assert_eq!(
        keys(&missing),
        expected,
        "the specification's body, and a request id"
    );
    let (status, hidden) = get(&app, &format!("/dashboard/{id}"), &other).await;
    assert_eq!((status, error_of(&hidden)), (404, "NOT_FOUND".into()));
    assert_eq!(hidden["detail"], format!("Analysis with ID {id} not found"));

    let (status, headers, body) = call(
        &app,
        reqwest::Method::GET,
        &format!("/dashboard/{id}/badges"),
        None,
        None,
    )
    .await;
    assert_eq!((status, error_of(&body)), (401, "UNAUTHENTICATED".into()));
    assert_eq!(headers["www-authenticate"], "Bearer");

    let moved = json!({"opportunity_id": "business_management", "status": "IN_PROGRESS"});
    let (status, body) = post(
        &app,
        &format!("/dashboard/{id}/progress"),
        &viewer,
        moved.clone(),
    )
    .await;
    assert_eq!((status, error_of(&body)), (403, "FORBIDDEN".into()));

    let (status, body) = get(&app, "/dashboard/not-a-uuid", &owner).await;
    assert_eq!((status, error_of(&body)), (400, "INVALID_INPUT".into()));

    let progress = format!("{}/api/v1/dashboard/{id}/progress", app.base);
    let raw = |content_type: &'static str, body: Vec<u8>| {
        app.client
            .post(&progress)
            .bearer_auth(&owner)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (content_type, body, expected) in [
        ("application/json", b"{".to_vec(), 400),
        (
            "application/json",
            br#"{"opportunity_id":"x","status":"DONE"}"#.to_vec(),
            400,
        ),
        (
            "application/json",
            br#"{"opportunity_id":"x","status":"IMPLEMENTED","extra":1}"#.to_vec(),
            400,
        ),
        ("text/plain", moved.to_string().into_bytes(), 415),
        ("application/json", vec![b' '; 300_000], 413),
    ] {
        let r = raw(content_type, body).await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (status, error_of(&body)),
            (expected, "INVALID_INPUT".into()),
            "{body}"
        );
    }

    let (status, body) = get(&app, "/nothing/here", &owner).await;
    assert_eq!((status, error_of(&body)), (404, "NOT_FOUND".into()));
}

#[tokio::test]
async fn the_rest_calls_count_against_the_rate_limit() {
    let app = TestApp::spawn_with(|c| {
        jwt_mode(c);
        c.limits.rate_limit_per_minute = 3;
    })
    .await;
    let admin = token(Role::Admin, &[]);
    let path = "/dashboard/00000000-0000-4000-8000-000000000000";
    for _ in 0..3 {
        assert_eq!(get(&app, path, &admin).await.0, 404);
    }
    let (status, headers, body) = call(&app, reqwest::Method::GET, path, Some(&admin), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
}

/// The generated document against the specification's: the same paths and operations, every
/// status the specification lists, and schemas with the same properties, types and enums. Two
/// differences are meant: `badge_type` is a string, the catalog being data (new badges need no
/// new API), and the error body has a `request_id`.
#[tokio::test]
async fn the_openapi_document_matches_the_specification() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ours: Value = r.json().await.unwrap();
    let spec = fixture("specification-openapi.json");
    assert_eq!(ours["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    every_ref_resolves(&ours, &ours);

    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let mine = &ours["paths"][path][method];
            assert_eq!(
                mine["operationId"], operation["operationId"],
                "{method} {path}"
            );
            for (status, response) in operation["responses"].as_object().unwrap() {
                let answered = &mine["responses"][status];
                assert!(answered.is_object(), "{method} {path}: no {status}");
                let schema = &response["content"]["application/json"]["schema"];
                if schema.is_object() {
                    let at = format!("{method} {path} {status}");
                    let our_schema = &answered["content"]["application/json"]["schema"];
                    same_schema(&spec, schema, &ours, our_schema, &at);
                }
            }
            if let Some(body) = operation.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                let our_schema = &mine["requestBody"]["content"]["application/json"]["schema"];
                same_schema(
                    &spec,
                    schema,
                    &ours,
                    our_schema,
                    &format!("{method} {path} body"),
                );
            }
        }
    }
}

/// A schema with its `$ref` followed, and its type without `null` (an optional value is
/// `nullable: true` in the specification and a `null` type or `oneOf` in ours).
fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return resolved(doc, &doc["components"]["schemas"][name]);
    }
    for combined in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[combined].as_array() {
            let real: Vec<&Value> = options.iter().filter(|o| o["type"] != "null").collect();
            if real.len() == 1 {
                return resolved(doc, real[0]);
            }
        }
    }
    schema
}

fn type_of(schema: &Value) -> Option<String> {
    match &schema["type"] {
        Value::String(t) => Some(t.clone()),
        Value::Array(ts) => ts
            .iter()
            .filter(|t| *t != "null")
            .map(|t| t.as_str().unwrap().to_owned())
            .next(),
        _ => None,
    }
}

fn same_schema(spec_doc: &Value, spec: &Value, our_doc: &Value, ours: &Value, at: &str) {
    let (spec, ours) = (resolved(spec_doc, spec), resolved(our_doc, ours));
    assert!(ours.is_object(), "{at}: no schema");
    let (st, ot) = (type_of(spec), type_of(ours));
    assert_eq!(
        st.as_deref().unwrap_or("object"),
        ot.as_deref().unwrap_or("object"),
        "{at}: type"
    );
    if let Some(values) = spec.get("enum") {
        if !at.ends_with(".badge_type") {
            assert_eq!(Some(values), ours.get("enum"), "{at}: enum");
        }
    }
    if let Some(items) = spec.get("items") {
        same_schema(spec_doc, items, our_doc, &ours["items"], &format!("{at}[]"));
    }
    if let Some(properties) = spec["properties"].as_object() {
        let names: std::collections::BTreeSet<_> = properties.keys().collect();
        let our_names: std::collections::BTreeSet<_> = ours["properties"]
            .as_object()
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        // two additions to the error body: the request id, which finds a failure in the logs,
        // and (optional) the server's own words when the detail is in the reader's language
        let added: Vec<_> = our_names.difference(&names).collect();
        assert!(
            added
                .iter()
                .all(|n| ["request_id", "technical_detail"].contains(&n.as_str())),
            "{at}: added {added:?}"
        );
        assert!(
            names.is_subset(&our_names),
            "{at}: properties {names:?} {our_names:?}"
        );
        for (name, property) in properties {
            let at = format!("{at}.{name}");
            same_schema(spec_doc, property, our_doc, &ours["properties"][name], &at);
        }
        for required in spec["required"].as_array().into_iter().flatten() {
            assert!(
                ours["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(required)),
                "{at}: {required} is required in the specification"
            );
        }
    }
}

fn every_ref_resolves(doc: &Value, at: &Value) {
    match at {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                let name = r.strip_prefix("#/components/schemas/").expect(r);
                assert!(
                    doc["components"]["schemas"][name].is_object(),
                    "dangling {r}"
                );
            }
            o.values().for_each(|v| every_ref_resolves(doc, v));
        }
        Value::Array(a) => a.iter().for_each(|v| every_ref_resolves(doc, v)),
        _ => {}
    }
}

/// The docs page in headless Chromium with every other host unreachable: Swagger UI renders
/// the five operations and its Authorize button, from this server alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_in_a_real_browser_offline() {
    let app = TestApp::spawn().await;
    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/api-docs.png");
    let stdout = run_node(
        &app,
        "docs.mjs",
        "playwright-core",
        &[("SCREENSHOT", screenshot)],
    )
    .await;
    assert!(stdout.contains("docs page ok"), "{stdout}");
}

/// schemathesis (scripts/schemathesis.sh) against the live server with the demo data and an
/// owner's token, every check on: no 5xx, every answer valid against the document, a missing
/// token refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing() {
    let app = TestApp::spawn_with(|c| {
        jwt_mode(c);
        c.limits.rate_limit_per_minute = 0;
    })
    .await;
    let mut conn = app.db.conn().await;
    seed_demo(&mut conn, 0, t0()).await.unwrap();
    let owner = token(Role::Owner, &[&EXAMPLE_ANALYSIS_ID.to_string()]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/schemathesis.sh");
    let out = tokio::process::Command::new("bash")
        .args([script, &app.base, "50"])
        .env("TOKEN", owner)
        .output()
        .await
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{stderr}"
    );
    // its figures, for `cargo test -- --nocapture`
    println!("{stdout}");
}
