//! One language per reader, through the real server: the analysis' language by default, the
//! request's when it asks (Accept-Language over HTTP and REST, `connection_init` over WebSocket),
//! stored answers kept apart per language, and no English sentence for a French reader.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::ws_client::*;

const WORDS: &str = "query($id: UUID!) { dashboard(analysisId: $id) {
    language
    recommendations { reason }
    achievements { nextMilestone } } }";

/// Every sentence of a dashboard's answer a person reads.
fn sentences(d: &Value) -> Vec<String> {
    let d = &d["dashboard"];
    let mut out: Vec<String> = d["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_owned())
        .collect();
    out.extend(
        d["achievements"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["nextMilestone"].as_str().map(str::to_owned)),
    );
    out
}

/// The fixed words of the English messages (between their arguments), long enough to mean
/// something: none may reach a French reader.
pub fn english_fragments() -> Vec<String> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/messages/en.ftl")).unwrap();
    let mut out = Vec::new();
    for line in source.lines() {
        let text = match line.split_once(" = ") {
            Some((_, value)) => value,
            None if line.starts_with("    [") || line.starts_with("   *[") => {
                line.split_once(']').map_or("", |(_, v)| v)
            }
            None if line.starts_with('}') => &line[1..],
            None => continue,
        };
        for piece in text.split(['{', '}']).step_by(2) {
            let piece = piece
                .trim()
                .trim_matches(|c: char| c.is_ascii_punctuation())
                .trim();
            if piece.len() >= 5 {
                out.push(piece.to_owned());
            }
        }
    }
    assert!(out.len() > 15, "{out:?}");
    out
}

/// The text of an HTML page a person sees: no tags, no style.
pub fn visible(html: &str) -> String {
    let html = match (html.find("<style"), html.find("</style>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b..]),
        _ => html.to_owned(),
    };
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

async fn post_as(app: &TestApp, language: Option<&str>, query: &str, variables: Value) -> Value {
    let mut r = app
        .client
        .post(app.graphql_url())
        .json(&json!({"query": query, "variables": variables}));
    if let Some(l) = language {
        r = r.header("accept-language", l);
    }
    let body: Value = r.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

#[tokio::test]
async fn the_reader_gets_its_language() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.advance(&id, "business_management", "IMPLEMENTED").await;
    let vars = json!({"id": id});

    // the analysis' language, French by default
    let fr = post_as(&app, None, WORDS, vars.clone()).await;
    assert_eq!(fr["dashboard"]["language"], "FR");
    assert!(sentences(&fr).contains(&"Implémentez encore 2 opportunités".to_owned()));
    // the request's, when it asks (a stored answer for the other language is not served)
    let en = post_as(&app, Some("en-CA,en;q=0.9,fr;q=0.5"), WORDS, vars.clone()).await;
    assert_eq!(
        en["dashboard"]["language"], "FR",
        "the analysis' own is unchanged"
    );
    assert!(sentences(&en).contains(&"Implement 2 more opportunities".to_owned()));
    assert_ne!(sentences(&fr), sentences(&en));
    let again = post_as(&app, None, WORDS, vars.clone()).await;
    assert_eq!(sentences(&again), sentences(&fr), "the French answer again");
    // one not ours is none: the analysis' language
    let de = post_as(&app, Some("de-DE"), WORDS, vars.clone()).await;
    assert_eq!(sentences(&de), sentences(&fr));
    // GET too
    let (status, got) = app.get_query(WORDS, Some(&vars)).await;
    assert_eq!(status, 200);
    assert_eq!(sentences(&got["data"]), sentences(&fr));

    // the owner makes the analysis English: English by default, French on request
    let set = "mutation($id: UUID!) { setLanguage(analysisId: $id, language: EN) { language recommendations { reason } } }";
    let d = app.data(set, vars.clone()).await;
    assert_eq!(d["setLanguage"]["language"], "EN");
    let en = post_as(&app, None, WORDS, vars.clone()).await;
    assert!(sentences(&en).contains(&"Implement 2 more opportunities".to_owned()));
    let fr = post_as(&app, Some("fr"), WORDS, vars.clone()).await;
    assert!(sentences(&fr).contains(&"Implémentez encore 2 opportunités".to_owned()));

    // recorded in English from the start
    let mut input = analysis_input("https://english.example.com", EXAMPLE);
    input["identity"]["language"] = json!("EN");
    let r = app.data(RECORD, json!({"input": input})).await;
    let english = r["recordAnalysis"]["dashboard"]["analysisId"].clone();
    let d = post_as(&app, None, WORDS, json!({"id": english})).await;
    assert_eq!(d["dashboard"]["language"], "EN");
    assert!(
        sentences(&d).iter().any(|s| s.starts_with("Quick win")),
        "{d}"
    );
}

#[tokio::test]
async fn websocket_and_rest_readers_get_theirs() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    // a query over WebSocket, in the language connection_init asked for
    let mut ws = WsClient::connect(&app.base, TRANSPORT_WS).await;
    ws.send(json!({"type": "connection_init", "payload": {"language": "en"}}))
        .await;
    let ack = ws.raw(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack");
    ws.subscribe("q", WORDS, json!({"id": id})).await;
    let d = ws.data("q").await;
    assert!(
        sentences(&d).iter().any(|s| s.starts_with("High impact")),
        "{d}"
    );
    let mut fr = WsClient::ready(&app.base, TRANSPORT_WS).await;
    fr.subscribe("q", WORDS, json!({"id": id})).await;
    let d = fr.data("q").await;
    assert!(
        sentences(&d).iter().any(|s| s.starts_with("Fort impact")),
        "{d}"
    );

    // REST: the same words, by Accept-Language
    let url = format!("{}/api/v1/dashboard/{id}/recommendations", app.base);
    let reason = |body: &Value| {
        body["recommendations"][0]["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let get = |language: &'static str| {
        let request = app.client.get(&url).header("accept-language", language);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let fr = get("fr").await;
    assert!(reason(&fr).starts_with("Fort impact"), "{fr}");
    let en = get("en").await;
    assert!(reason(&en).starts_with("High impact"), "{en}");
}

/// Analyses at several stages, read in French: no fixed English words of the messages in any
/// sentence of the dashboard, the report email or the document.
#[tokio::test]
async fn no_english_reaches_a_french_reader() {
    let app = TestApp::spawn().await;
    let english = english_fragments();
    let check = |what: &str, text: &str| {
        for fragment in &english {
            assert!(
                !text.contains(fragment.as_str()),
                "{what} holds {fragment:?}:\n{text}"
            );
        }
    };
    let stages: [&[(&str, &str)]; 4] = [
        &[],
        &[("value_creation", "IN_PROGRESS")],
        &[
            ("business_management", "IMPLEMENTED"),
            ("value_creation", "IN_PROGRESS"),
        ],
        &[
            ("business_management", "IMPLEMENTED"),
            ("value_creation", "IMPLEMENTED"),
            ("digital_presence", "IMPLEMENTED"),
        ],
    ];
    for (i, moves) in stages.iter().enumerate() {
        let id = app
            .record(&format!("https://stage{i}.example.com"), EXAMPLE)
            .await;
        for (opp, status) in moves.iter() {
            app.advance(&id, opp, status).await;
        }
        let d = post_as(&app, Some("fr-CA"), WORDS, json!({"id": id})).await;
        for s in sentences(&d) {
            check("the dashboard", &s);
        }
        let html = app
            .client
            .get(format!("{}/reports/{id}?format=html", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        check("the document", &visible(&html));
    }
}

/// Whatever a client sends as its language is read as one of ours or as none: the analysis'
/// language then, never an error, over HTTP and WebSocket.
#[tokio::test]
async fn any_language_a_client_sends_is_ours_or_none() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let vars = json!({"id": id});
    let french = sentences(&post_as(&app, None, WORDS, vars.clone()).await);
    let english = sentences(&post_as(&app, Some("en"), WORDS, vars.clone()).await);
    let long = "xx;q=0.5,".repeat(2_000) + "en";
    for (header, expected) in [
        ("\u{202e}en", &french),
        ("en;q=NaN", &french),
        ("en;q=1e400", &french),
        ("fr;q=-1, en", &english),
        ("*;q=1, en;q=0.1", &english),
        (long.as_str(), &french), // read up to its 16th entry only
        ("EN-gb", &english),
    ] {
        let r = app
            .client
            .post(app.graphql_url())
            .header("accept-language", header.as_bytes())
            .json(&json!({"query": WORDS, "variables": vars}))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert!(body.get("errors").is_none(), "{header:?}: {body}");
        assert_eq!(&sentences(&body["data"]), expected, "{header:?}");
    }
    // bytes that are not text: none
    let r = app
        .client
        .post(app.graphql_url())
        .header(
            "accept-language",
            reqwest::header::HeaderValue::from_bytes(b"en\xff").unwrap(),
        )
        .json(&json!({"query": WORDS, "variables": vars}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(sentences(&body["data"]), french);

    // over WebSocket, the payload's `language` of any JSON type and text
    for (i, language) in [
        json!("\u{0}"),
        json!("en\u{0}"),
        json!("\u{fffe}"),
        json!(5),
        json!(null),
        json!({"en": true}),
        json!(["en"]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut ws = WsClient::connect(&app.base, TRANSPORT_WS).await;
        ws.send(json!({"type": "connection_init", "payload": {"language": language}}))
            .await;
        let ack = ws.raw(Duration::from_secs(5)).await.unwrap();
        assert_eq!(ack["type"], "connection_ack", "{language}");
        let op = format!("q{i}");
        ws.subscribe(&op, WORDS, vars.clone()).await;
        let d = ws.data(&op).await;
        assert_eq!(sentences(&d), french, "{language}");
    }
    // a lone surrogate, written raw into the JSON text: the message is not text, refused as
    // any such message is (4400), not an error of the server
    let mut ws = WsClient::connect(&app.base, TRANSPORT_WS).await;
    ws.send_text(r#"{"type":"connection_init","payload":{"language":"\ud800en"}}"#)
        .await;
    let first = ws.raw(Duration::from_secs(5)).await.unwrap();
    assert!(
        first["type"] == "connection_ack" || first["code"] == 4400,
        "{first}"
    );
}
