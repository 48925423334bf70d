//! The downloadable report from a browser: signed links (`reportUrl`, the REST dashboard's
//! `Link` header) open it with no Authorization header, only the document they name, on every
//! instance and through a secret rotation, until they expire; and the specification's
//! `GET /api/v1/dashboard/{analysis_id}/report/generate`.

use progress_dashboard::config::Config;
use progress_dashboard::domain::access::Role;
use serde_json::{json, Value};

use crate::access::{jwt_mode, token, two_analyses};
use crate::helpers::*;

const REPORT_URL: &str = "query($id: UUID!) { dashboard(analysisId: $id) { reportUrl(format: HTML, sections: [BADGES, SUMMARY]) } }";

/// The link's path and query (the links name `PUBLIC_URL`, not the test server's port).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

async fn report_url(app: &TestApp, token: &str, id: &str) -> String {
    let r = app
        .client
        .post(app.graphql_url())
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({"query": REPORT_URL, "variables": {"id": id}}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    path_of(
        body["data"]["dashboard"]["reportUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}")),
    )
}

/// GET `path` on `app`, as a program would: no header.
async fn fetch(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

/// GET `path` as a browser would open a link: no Authorization header, asking for HTML.
async fn open(app: &TestApp, path: &str) -> (u16, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn link_secrets(current: &'static str, previous: Option<&'static str>) -> impl Fn(&mut Config) {
    move |c: &mut Config| {
        jwt_mode(c);
        c.reports.token_secret = Some(current.into());
        c.reports.token_secret_previous = previous.map(Into::into);
        c.limits.reports_per_client_per_minute = 3;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_links_open_their_document_alone_without_a_token_until_they_expire() {
    let app = TestApp::spawn_with(link_secrets("links secret", None)).await;
    let (a, b) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&a]);
    let link = report_url(&app, &owner, &a).await;
    assert!(
        link.starts_with(&format!(
            "/reports/{a}?format=html&sections=summary,badges&expires="
        )),
        "{link}"
    );
    assert!(link.contains("&signature="), "{link}");

    // a plain link: no header, the document
    let (status, html) = open(&app, &link).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"summary\"") && html.contains("id=\"badges\""));
    assert!(!html.contains("id=\"metrics\""));

    // only the document it was made for
    let expires: i64 = link
        .split("expires=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for altered in [
        link.replace(&a, &b),
        link.replace("sections=summary,badges", "sections=summary"),
        link.replace("sections=summary,badges", "sections=all"),
        link.replace("format=html", "format=pdf"),
        link.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 3600),
        ),
        link.split("&signature=").next().unwrap().to_owned(),
        // the signature's last digit changed
        format!(
            "{}{}",
            &link[..link.len() - 1],
            if link.ends_with('0') { '1' } else { '0' }
        ),
    ] {
        let (status, page) = open(&app, &altered).await;
        assert_eq!(status, 403, "{altered}");
        // French by default, not English
        assert!(
            page.contains("Lien invalide") && !page.contains("Invalid link"),
            "{page}"
        );
    }
    // the same sections in another order are the same document
    let reordered = link.replace("sections=summary,badges", "sections=badges,summary");
    assert_eq!(open(&app, &reordered).await.0, 200);

    // the header path is as it was: a token, or nothing
    let plain = format!("/reports/{a}?format=html");
    assert_eq!(open(&app, &plain).await.0, 401);
    let with_token = app
        .client
        .get(format!("{}{plain}", app.base))
        .header("authorization", format!("Bearer {owner}"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    assert_eq!(
        with_token.headers()["cache-control"],
        "private, max-age=3600"
    );

    // every instance with the deployment's secret opens it; a rotation keeps it open with the
    // previous secret, and ends it without
    let sibling = app.spawn_sibling(link_secrets("links secret", None)).await;
    assert_eq!(open(&sibling, &link).await.0, 200);
    let rotated = app
        .spawn_sibling(link_secrets("new secret", Some("links secret")))
        .await;
    assert_eq!(open(&rotated, &link).await.0, 200);
    let forgotten = app.spawn_sibling(link_secrets("new secret", None)).await;
    assert_eq!(open(&forgotten, &link).await.0, 403);

    // expired: a clear page for a browser, the error body for a program
    app.clock.advance(chrono::Duration::minutes(21));
    let (status, page) = open(&app, &link).await;
    assert_eq!(status, 403);
    assert!(page.contains("Lien expiré"), "{page}");
    // in English for a reader who asks for it
    let english = app
        .client
        .get(format!("{}{link}", app.base))
        .header("accept", "text/html")
        .header("accept-language", "en-CA,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(english.status(), 403);
    let page = english.text().await.unwrap();
    assert!(
        page.contains("Link expired") && page.contains("lang=\"en\"") && !page.contains("Lien"),
        "{page}"
    );
    let r = fetch(&app, &link).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    // and a fresh one is handed out, not the stored answer's old link
    let fresh = report_url(&app, &owner, &a).await;
    assert_ne!(fresh, link);
    assert_eq!(open(&app, &fresh).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_render_limit_applies_to_signed_links() {
    let app = TestApp::spawn_with(link_secrets("links secret", None)).await;
    let (a, _) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&a]);
    let mut statuses = Vec::new();
    for sections in ["summary", "badges", "metrics", "opportunities"] {
        let r = app
            .client
            .post(app.graphql_url())
            .header("authorization", format!("Bearer {owner}"))
            .json(&json!({
                "query": format!("query($id: UUID!) {{ dashboard(analysisId: $id) {{ reportUrl(format: HTML, sections: [{}]) }} }}", sections.to_uppercase()),
                "variables": {"id": a},
            }))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        let path = path_of(body["data"]["dashboard"]["reportUrl"].as_str().unwrap());
        let r = fetch(&app, &path).await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_specification_report_endpoint() {
    let app = TestApp::spawn_with(|c| c.limits.reports_per_client_per_minute = 4).await;
    let id = app.record_example().await;
    let path = format!("/api/v1/dashboard/{id}/report/generate");
    let r = fetch(&app, &path).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"dashboard-{id}.pdf\"").as_str()
    );
    assert_eq!(h["cache-control"], "public, max-age=3600");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(h["content-length"], pdf.len().to_string().as_str());
    // the same document again: the cached copy
    let again = fetch(&app, &format!("{path}?sections=all&format=pdf")).await;
    assert_eq!(again.headers()["x-report-cache"], "hit");

    let html = fetch(
        &app,
        &format!("{path}?format=html&sections=summary,metrics"),
    )
    .await;
    assert_eq!(html.status(), 200);
    assert_eq!(
        html.headers()["content-disposition"],
        format!("attachment; filename=\"dashboard-{id}.html\"").as_str()
    );
    let text = html.text().await.unwrap();
    assert!(text.contains("id=\"summary\"") && !text.contains("id=\"badges\""));
    // `all` on the server's own route too
    let own = fetch(&app, &format!("/reports/{id}?format=html&sections=all")).await;
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("id=\"opportunities\""));

    // refusals in the REST error body
    for (query, status, code) in [
        ("?format=docx", 400, "INVALID_INPUT"),
        ("?sections=everything", 400, "INVALID_INPUT"),
    ] {
        let r = fetch(&app, &format!("{path}{query}")).await;
        assert_eq!(r.status(), status, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], code, "{body}");
        assert!(body["request_id"].is_string());
    }
    let unknown = uuid::Uuid::new_v4();
    let r = fetch(
        &app,
        &format!("/api/v1/dashboard/{unknown}/report/generate"),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "NOT_FOUND");

    // over the render limit (4 a minute here: pdf all, html summary+metrics, html all = 3)
    let fourth = fetch(&app, &format!("{path}?format=html&sections=badges")).await;
    assert_eq!(fourth.status(), 200);
    let limited = fetch(&app, &format!("{path}?format=html&sections=metrics")).await;
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 60
    );
    assert_eq!(
        limited.json::<Value>().await.unwrap()["error"],
        "RATE_LIMITED"
    );

    // in the OpenAPI document
    let doc: Value = fetch(&app, "/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/dashboard/{analysisId}/report/generate"]["get"];
    assert_eq!(op["operationId"], "generateReport", "{doc:#}");
    assert!(op["responses"]["429"].is_object() && op["responses"]["403"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_dashboard_links_its_report_and_the_endpoint_keeps_the_access_rules() {
    let app = TestApp::spawn_with(link_secrets("links secret", None)).await;
    let (a, b) = two_analyses(&app).await;
    let get = |path: String, token: Option<String>| {
        let mut r = app.client.get(format!("{}{path}", app.base));
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.send()
    };
    let generate = format!("/api/v1/dashboard/{a}/report/generate?format=html");
    let want = [
        (None, 401),
        (Some(token(Role::Viewer, &[&a])), 200),
        (Some(token(Role::Owner, &[&b])), 404),
    ];
    for (who, status) in want {
        assert_eq!(get(generate.clone(), who).await.unwrap().status(), status);
    }
    let r = get(
        format!("/api/v1/dashboard/{a}"),
        Some(token(Role::Viewer, &[&a])),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.ends_with(">; rel=\"alternate\"; type=\"application/pdf\""),
        "{link}"
    );
    let url = link.trim_start_matches('<').split('>').next().unwrap();
    let path = path_of(url);
    assert!(
        path.starts_with(&format!(
            "/api/v1/dashboard/{a}/report/generate?format=pdf&expires="
        )),
        "{path}"
    );
    let pdf = get(path, None).await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["cache-control"], "private, max-age=3600");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
}
