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

/// The badge words of a dashboard: earned, and every one of the catalog with its next step.
const BADGE_WORDS: &str = "query($id: UUID!) { dashboard(analysisId: $id) {
    badges { name description }
    achievements { badge { name description } } }
    badgeCatalog { name description } }";

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

/// The fixed words of the English messages (between their arguments) and the English names and
/// descriptions of the badge catalog, long enough to mean something and not French as well
/// ("Badges"): none may reach a French reader.
pub fn english_fragments() -> Vec<String> {
    let french = fragments("fr");
    let mut out: Vec<String> = fragments("en")
        .into_iter()
        .filter(|f| !french.contains(f))
        .collect();
    let catalog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/badges.toml")).unwrap();
    for line in catalog.lines() {
        if let Some(text) = line
            .strip_prefix("name.en = ")
            .or_else(|| line.strip_prefix("description.en = "))
        {
            out.push(text.trim_matches('"').to_owned());
        }
    }
    assert!(out.iter().any(|f| f == "First Step"), "{out:?}");
    out
}

/// The fixed words of one language's messages.
fn fragments(lang: &str) -> Vec<String> {
    let source = std::fs::read_to_string(format!(
        "{}/messages/{lang}.ftl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut out = Vec::new();
    for line in source.lines().filter(|l| !l.starts_with('#')) {
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

/// A graphql-transport-ws connection whose `connection_init` names `language` (any JSON).
async fn ws_in(app: &TestApp, language: Value) -> WsClient {
    let mut ws = WsClient::connect(&app.base, TRANSPORT_WS).await;
    ws.send(json!({"type": "connection_init", "payload": {"language": language}}))
        .await;
    let ack = ws.raw(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{language}");
    ws
}

pub async fn post_as(
    app: &TestApp,
    language: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
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
    let mut ws = ws_in(&app, json!("en")).await;
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
    // a document in two formats for each of four analyses, and their weekly emails
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let mail = crate::reports::smtp(&sink);
    let app = TestApp::spawn_with(|c| {
        mail(c);
        c.limits.reports_per_client_per_minute = 20;
    })
    .await;
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
        let b = post_as(&app, Some("fr-CA"), BADGE_WORDS, json!({"id": id})).await;
        check("the badges", &b.to_string());
        let document = |format: &'static str| {
            let request = app
                .client
                .get(format!("{}/reports/{id}?format={format}", app.base));
            async move { request.send().await.unwrap().bytes().await.unwrap() }
        };
        let pdf = document("pdf").await;
        let name = format!("french-{i}");
        check("the PDF", &crate::reports::pdf_text(&pdf, &name));
        let html = document("html").await;
        check("the document", &visible(&String::from_utf8_lossy(&html)));
        let since = format!("'{}'", t0().to_rfc3339());
        insert_weekly_subscription(&app.db, &id, &format!("stage{i}@example.com"), &since).await;
    }
    // the weekly emails of the four, in French
    for (text, html) in weekly_mails(&app, &sink, 4).await {
        assert!(text.contains("Rapport hebdomadaire"), "{text}");
        check("an email", &text);
        check("an email", &visible(&html));
    }
}

/// The week's reports sent (`expected` of them) a week after t0: each email's text and HTML.
async fn weekly_mails(
    app: &TestApp,
    sink: &crate::smtp_sink::SmtpSink,
    expected: usize,
) -> Vec<(String, String)> {
    app.clock.set(t0() + chrono::Duration::days(7));
    let services = &app.app.services;
    let now = services.state.clock.now();
    let sent = progress_dashboard::service::reports::send_due(services, now, |_| {})
        .await
        .unwrap();
    assert_eq!(sent.sent, expected);
    let mails = sink.mails.lock().unwrap();
    mails
        .iter()
        .map(|mail| {
            let (_, text, html) = crate::reports::parse_mail(&mail.data);
            (text, html)
        })
        .collect()
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
        let mut ws = ws_in(&app, language.clone()).await;
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

/// The badge catalog in the reader's language: earned badges, achievements and the catalog over
/// HTTP, REST, and live toasts, where two readers of one analysis in two languages each get
/// theirs (a shared run per language).
#[tokio::test]
async fn badges_are_named_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let vars = json!({"id": id});
    const TOAST: &str =
        "subscription($id: UUID!) { badgeAwarded(analysisId: $id) { badge { name description } } }";
    let mut en = ws_in(&app, json!("en-CA")).await;
    en.subscribe("t", TOAST, vars.clone()).await;
    let mut fr = WsClient::ready(&app.base, TRANSPORT_WS).await;
    fr.subscribe("t", TOAST, vars.clone()).await;
    // two runs: one per language (one alone would serve both in one language)
    crate::live::badge_subscribers(&app, 2).await;
    app.advance(&id, "value_creation", "IN_PROGRESS").await;
    let toast = en.data("t").await;
    assert_eq!(
        toast["badgeAwarded"]["badge"]["name"], "First Step",
        "{toast}"
    );
    let toast = fr.data("t").await;
    assert_eq!(
        toast["badgeAwarded"]["badge"]["name"], "Premier Pas",
        "{toast}"
    );

    let fr = post_as(&app, None, BADGE_WORDS, vars.clone()).await;
    let en = post_as(&app, Some("en"), BADGE_WORDS, vars.clone()).await;
    assert_eq!(fr["dashboard"]["badges"][0]["name"], "Premier Pas");
    assert_eq!(en["dashboard"]["badges"][0]["name"], "First Step");
    assert_eq!(
        en["dashboard"]["badges"][0]["description"],
        "You started your first opportunity!"
    );
    let names = |d: &Value, at: &str| -> Vec<String> {
        d.pointer(at)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&en, "/badgeCatalog"),
        [
            "First Step",
            "Quick Win",
            "Time Saver",
            "Efficiency Expert",
            "Streak Master"
        ]
    );
    assert_eq!(names(&fr, "/badgeCatalog")[0], "Premier Pas");

    // GraphQL answers say that they vary with the reader's language (a GET may be cached)
    let get = app
        .client
        .get(app.graphql_url())
        .query(&[("query", "{ badgeCatalog { name } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(get.headers()["vary"], "accept-language");

    // REST, by Accept-Language
    let url = format!("{}/api/v1/dashboard/{id}/badges", app.base);
    let rest = |language: &'static str| {
        let request = app.client.get(&url).header("accept-language", language);
        async move { request.send().await.unwrap() }
    };
    let r = rest("en").await;
    assert_eq!(r.headers()["vary"], "accept-language");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["badges"][0]["badge_name"], "First Step", "{body}");
    let body: Value = rest("fr-CA").await.json().await.unwrap();
    assert_eq!(body["badges"][0]["badge_name"], "Premier Pas", "{body}");
}

/// Error messages and the email links' pages in the reader's language: a French reader gets a
/// French sentence (the code unchanged, the server's own words in extensions.detail), over HTTP
/// and WebSocket; a reader who asks for none gets the server's words as before.
#[tokio::test]
async fn errors_and_pages_speak_the_readers_language() {
    let app = TestApp::spawn().await;
    let unknown = json!({"id": uuid::Uuid::new_v4()});
    let query = "query($id: UUID!) { dashboard(analysisId: $id) { analysisId } }";
    let send = |language: Option<&'static str>| {
        let mut r = app
            .client
            .post(app.graphql_url())
            .json(&json!({"query": query, "variables": unknown}));
        if let Some(l) = language {
            r = r.header("accept-language", l);
        }
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let fr = send(Some("fr-CA,fr;q=0.9")).await;
    let e = &fr["errors"][0];
    assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND");
    assert_eq!(e["message"], "Cette analyse est introuvable.", "{fr}");
    assert!(
        e["extensions"]["detail"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{fr}"
    );
    for language in [None, Some("en")] {
        let r = send(language).await;
        let e = &r["errors"][0];
        assert_eq!(e["extensions"]["code"], "ANALYSIS_NOT_FOUND");
        assert!(e["message"].as_str().unwrap().contains("not found"), "{r}");
        assert!(e["extensions"].get("detail").is_none(), "{r}");
    }
    // a refusal before execution too, and Apollo's own words are left alone
    let in_french = |body: Value| {
        let request = app
            .client
            .post(app.graphql_url())
            .header("accept-language", "fr")
            .json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let bad = in_french(json!({"query": "{ nope }"})).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("La requête est invalide"),
        "{bad}"
    );
    let apq =
        json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0".repeat(64)}}});
    let miss = in_french(apq).await;
    assert_eq!(
        miss["errors"][0]["message"], "PersistedQueryNotFound",
        "{miss}"
    );

    // WebSocket: the language connection_init named
    let mut ws = ws_in(&app, json!("fr")).await;
    ws.subscribe("q", query, unknown.clone()).await;
    match ws.next("q", Duration::from_secs(5)).await {
        Some(Received::Error(e)) => {
            assert_eq!(e["message"], "Cette analyse est introuvable.", "{e}")
        }
        other => panic!("expected an error, got {other:?}"),
    }

    // REST: the specification's body, its detail for the reader
    let url = format!(
        "{}/api/v1/dashboard/{}",
        app.base,
        unknown["id"].as_str().unwrap()
    );
    let rest = |language: &'static str| {
        let request = app.client.get(&url).header("accept-language", language);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let fr = rest("fr-CA").await;
    assert_eq!(fr["error"], "NOT_FOUND");
    assert_eq!(fr["detail"], "Cette analyse est introuvable.", "{fr}");
    assert!(
        fr["technical_detail"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{fr}"
    );
    let en = rest("en").await;
    assert!(
        en["detail"]
            .as_str()
            .unwrap()
            .starts_with("Analysis with ID"),
        "{en}"
    );
    assert!(en.get("technical_detail").is_none(), "{en}");

    // the pages of the email links: French by default, English when asked, never both
    let page = |language: Option<&'static str>| {
        let mut r = app
            .client
            .get(format!("{}/unsubscribe/not-a-token", app.base));
        if let Some(l) = language {
            r = r.header("accept-language", l);
        }
        async move {
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 400);
            visible(&r.text().await.unwrap())
        }
    };
    let fr = page(None).await;
    assert!(
        fr.contains("Lien invalide") && fr.contains("désabonnement"),
        "{fr}"
    );
    let english = english_fragments();
    assert!(!english.iter().any(|f| fr.contains(f.as_str())), "{fr}");
    let en = page(Some("en-GB")).await;
    assert!(en.contains("Invalid link") && !en.contains("Lien"), "{en}");
}

/// A subscription that names no language gets the one the request asks for, else the
/// analysis': the confirmation email and the stored choice say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_follow_the_analysis_language_unless_chosen() {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let app = TestApp::spawn_with(crate::reports::smtp(&sink)).await;
    let mut input = analysis_input("https://english.example.com", EXAMPLE);
    input["identity"]["language"] = json!("EN");
    let english = app.data(RECORD, json!({"input": input})).await["recordAnalysis"]["dashboard"]
        ["analysisId"]
        .clone();
    let french = json!(app.record_example().await);
    let q =
        "mutation($input: SubscribeToReportsInput!) { subscribeToReports(input: $input) { id } }";
    for (analysis, email, asked, expected, subject) in [
        (
            &english,
            "a@example.com",
            None,
            "en",
            "Confirm your progress reports",
        ),
        (
            &french,
            "b@example.com",
            None,
            "fr",
            "Confirmez vos rapports",
        ),
        (
            &french,
            "c@example.com",
            Some("en-US"),
            "en",
            "Confirm your progress reports",
        ),
    ] {
        let vars =
            json!({"input": {"analysisId": analysis, "email": email, "frequency": "WEEKLY"}});
        post_as(&app, asked, q, vars).await;
        let stored = format!(
            "SELECT count(*) FROM email_subscriptions WHERE email = '{email}' AND language = '{expected}'"
        );
        assert_eq!(app.db.count(&stored).await, 1, "{email}");
        let mail = sink.mails.lock().unwrap().last().unwrap().data.clone();
        assert!(
            mail.contains(&format!("To: {email}")) && mail.contains(subject),
            "{email}: {mail}"
        );
    }
}

/// What a sentence of `lang` must not hold: French spacing in English ("Total potential : ",
/// "33 %"), none before a French colon, or a unit with nothing in it ("(/year)").
fn typography_slips(lang: &str, text: &str) -> Vec<String> {
    let mut slips = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, w) in chars.windows(2).enumerate() {
        let (before, c) = (w[0], w[1]);
        let spaced = matches!(before, ' ' | '\u{a0}' | '\u{202f}');
        // a colon that ends a label (a space after it), not one in "https://" or "12:30"
        let label_colon = c == ':' && chars.get(i + 2).is_none_or(|n| n.is_whitespace());
        let slip = match lang {
            "en" => (spaced && (label_colon || c == '%' || c == ';')).then_some("a space before"),
            _ => (label_colon && !spaced && before.is_alphabetic()).then_some("no space before"),
        };
        if let Some(why) = slip {
            let from = i.saturating_sub(30);
            let around: String = chars[from..(i + 10).min(chars.len())].iter().collect();
            slips.push(format!("{why} {c:?}: …{around}…"));
        }
    }
    for empty in ["(/", "()", "( )"] {
        if text.contains(empty) {
            slips.push(format!("an empty unit {empty:?}"));
        }
    }
    slips
}

/// The report (PDF and HTML) and the weekly email, in English and in French, written as each
/// language writes: labels, colons, percentages and units, the money's unit with its currency;
/// the example's PDF on one page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_language_is_written_as_its_readers_write_it() {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let app = TestApp::spawn_with(|c| {
        crate::reports::smtp(&sink)(c);
        c.limits.reports_per_client_per_minute = 20;
    })
    .await;
    // the example a new user meets (`seed-demo`): its words, its moves, its two badges
    let mut conn = app.db.conn().await;
    use progress_dashboard::service::seed::{seed_demo, EXAMPLE_ANALYSIS_ID};
    seed_demo(&mut conn, 0, t0()).await.unwrap();
    let id = EXAMPLE_ANALYSIS_ID.to_string();
    let since = format!("'{}'", t0().to_rfc3339());
    for (lang, email) in [("en", "en@example.com"), ("fr", "fr@example.com")] {
        insert_weekly_subscription(&app.db, &id, email, &since).await;
        sql(
            &app.db,
            &format!("UPDATE email_subscriptions SET language = '{lang}' WHERE email = '{email}'"),
        )
        .await;
    }
    let check = |lang: &str, what: &str, text: &str| {
        let slips = typography_slips(lang, text);
        assert!(slips.is_empty(), "{what} ({lang}): {slips:#?}\n{text}");
    };
    for (lang, potential, money_row) in [
        ("en", "Total potential: ", "Money saved (CAD/year)"),
        (
            "fr",
            "Potentiel total\u{a0}: ",
            "Économies réalisées (CAD/an)",
        ),
    ] {
        let document = |format: &str| {
            let url = format!("{}/reports/{id}?format={format}&lang={lang}", app.base);
            let request = app.client.get(url);
            async move { request.send().await.unwrap().bytes().await.unwrap() }
        };
        let pdf = document("pdf").await;
        let name = format!("typography-{lang}");
        let text = crate::reports::pdf_text(&pdf, &name);
        check(lang, "the PDF", &text);
        // pdftotext reads a no-break space as a space
        let flat = text.replace(['\n', '\u{a0}'], " ");
        let plain = potential.replace('\u{a0}', " ");
        assert!(flat.contains(&plain), "{potential:?} in\n{text}");
        assert!(flat.contains(money_row), "{money_row:?} in\n{text}");
        // the whole example fits on one page: no chart left alone on a second one
        assert_eq!(text.matches('\u{c}').count(), 1, "one page:\n{text}");
        let html = String::from_utf8_lossy(&document("html").await).into_owned();
        // minijinja writes "/" as an entity in HTML
        let html = visible(&html).replace("&#x2f;", "/");
        check(lang, "the document", &html);
        assert!(
            html.contains(potential) && html.contains(money_row),
            "{html}"
        );
    }
    for (text, html) in weekly_mails(&app, &sink, 2).await {
        let lang = if text.contains("Weekly report") {
            "en"
        } else {
            "fr"
        };
        check(lang, "the text email", &text);
        check(lang, "the HTML email", &visible(&html));
    }
}
