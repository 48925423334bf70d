//! Generated GraphQL requests for fuzzing the real request path: documents built from the
//! grammar with the schema's own names (so many get past parsing and validation into execution),
//! known-good documents with bytes cut, repeated and swapped, and variables of every JSON shape,
//! some nested past the limits, and operations of the contract with hostile text (the whole of
//! Unicode: controls, lone surrogate escapes, noncharacters, bidirectional overrides, combining
//! marks, 4-byte characters, lengths at and past every limit) in every string position; over
//! POST, GET, WebSocket and the REST endpoints. Deterministic for a seed. Shared by the tests (a
//! small fixed-seed run) and `bench/fuzz.sh` (100,000 cases and more).

#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// xorshift64*: small, fast, and the same sequence for the same seed everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How a case travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Post,
    /// The query in the URL (queries only make sense there).
    Get,
    /// A `subscribe` on a fresh graphql-transport-ws connection, after `connection_init`.
    Ws,
    /// A request to `/api/v1` (`rest` holds it; the GraphQL parts are unused).
    Rest,
}

/// A request to the REST adapter: method, path (already percent-encoded) and JSON body.
#[derive(Debug, Clone)]
pub struct RestCall {
    pub post: bool,
    pub path: String,
    pub body: Value,
}

/// One request: how it travels, and its parts.
#[derive(Debug, Clone)]
pub struct Case {
    pub transport: Transport,
    pub query: String,
    pub variables: Value,
    pub operation_name: Option<String>,
    /// The `connection_init` payload of a WebSocket case.
    pub init: Value,
    pub rest: Option<RestCall>,
    /// The `Accept-Language` bytes of an HTTP case (sent when they make a header value).
    pub language: Option<Vec<u8>>,
}

/// Stand-ins for the lone surrogates a Rust string cannot hold: written as the JSON or GraphQL
/// escapes `\ud800` and `\udfff` when the request is serialised.
const LONE_HIGH: char = '\u{10FFFC}';
const LONE_LOW: char = '\u{10FFFD}';

/// JSON text of `value`, with the stand-ins turned into lone surrogate escapes.
pub fn json_text(value: &Value) -> String {
    value
        .to_string()
        .replace(LONE_HIGH, "\\ud800")
        .replace(LONE_LOW, "\\udfff")
}

/// A GraphQL string literal of `s`: quotes, backslashes and controls escaped, the stand-ins as
/// lone surrogate escapes.
fn graphql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            LONE_HIGH => out.push_str("\\ud800"),
            LONE_LOW => out.push_str("\\udfff"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Case {
    /// The case's `Accept-Language` on `request`, when its bytes make a header value.
    fn with_language(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let value = self
            .language
            .as_deref()
            .and_then(|bytes| reqwest::header::HeaderValue::from_bytes(bytes).ok());
        match value {
            Some(value) => request.header("accept-language", value),
            None => request,
        }
    }

    /// The request to `url` (the server's `/graphql`) over HTTP.
    pub fn request(&self, client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        if self.transport != Transport::Get {
            let post = client
                .post(url)
                .header("content-type", "application/json")
                .body(json_text(&self.body()));
            return self.with_language(post);
        }
        let mut params = vec![
            ("query", self.query.clone()),
            ("variables", json_text(&self.variables)),
        ];
        if let Some(name) = &self.operation_name {
            params.push(("operationName", name.clone()));
        }
        self.with_language(client.get(url).query(&params))
    }

    /// The POST body (and the WebSocket subscribe payload).
    pub fn body(&self) -> Value {
        let mut body = json!({ "query": self.query, "variables": self.variables });
        if let Some(name) = &self.operation_name {
            body["operationName"] = json!(name);
        }
        body
    }

    /// Sends the case to the server at `base` (`http://host:port`) and judges the answer:
    /// `Err` with a description when it shows a crash or an internal error.
    pub async fn run(&self, client: &reqwest::Client, base: &str) -> Result<u16, String> {
        let outcome = match self.transport {
            Transport::Ws => self.run_ws(base).await,
            Transport::Rest => self.run_rest(client, base).await,
            Transport::Post | Transport::Get => {
                let response = self
                    .request(client, &format!("{base}/graphql"))
                    .send()
                    .await
                    .map_err(|e| format!("transport: {e}"))?;
                let status = response.status().as_u16();
                let body = response.text().await.map_err(|e| e.to_string())?;
                check(status, &body).map(|()| status)
            }
        };
        outcome.map_err(|e| describe(&e, self))
    }

    async fn run_rest(&self, client: &reqwest::Client, base: &str) -> Result<u16, String> {
        let call = self.rest.as_ref().expect("a REST case has its call");
        let url = format!("{base}/api/v1{}", call.path);
        let request = if call.post {
            client
                .post(&url)
                .header("content-type", "application/json")
                .body(json_text(&call.body))
        } else {
            client.get(&url)
        };
        let response = self
            .with_language(request)
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status().as_u16();
        let json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        let body = response.text().await.unwrap_or_default();
        if status >= 500 {
            return Err(format!("status {status}: {}", cut(&body)));
        }
        if json && body.contains("INTERNAL") {
            return Err(format!("INTERNAL: {}", cut(&body)));
        }
        Ok(status)
    }

    async fn run_ws(&self, base: &str) -> Result<u16, String> {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Message;
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("a header value"),
        );
        let (mut socket, _) = match tokio_tungstenite::connect_async(request).await {
            Ok(s) => s,
            // refused upgrades (a limit) are answers, not failures; a 5xx is one
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status().as_u16() < 500 => {
                return Ok(r.status().as_u16())
            }
            Err(e) => return Err(format!("transport: {e}")),
        };
        let init = format!(
            r#"{{"type":"connection_init","payload":{}}}"#,
            json_text(&self.init)
        );
        let subscribe = format!(
            r#"{{"type":"subscribe","id":"1","payload":{}}}"#,
            json_text(&self.body())
        );
        for text in [init, subscribe] {
            if socket.send(Message::text(text)).await.is_err() {
                return Ok(101); // closed by the server: its close frame was the answer
            }
        }
        let quiet = std::time::Duration::from_millis(300);
        loop {
            let message = match tokio::time::timeout(quiet, socket.next()).await {
                // a live subscription that has nothing to say yet
                Err(_) | Ok(None) => break,
                Ok(Some(Err(_))) => break,
                Ok(Some(Ok(m))) => m,
            };
            match message {
                Message::Text(text) => {
                    if text.contains("\"INTERNAL\"") {
                        return Err(format!("INTERNAL: {}", cut(&text)));
                    }
                    let value: Value = serde_json::from_str(&text)
                        .map_err(|e| format!("not JSON ({e}): {}", cut(&text)))?;
                    if let Some(errors) = value["payload"].as_array() {
                        for e in errors {
                            if e["extensions"]["code"].as_str().is_none() {
                                return Err(format!("an error without a code: {e}"));
                            }
                        }
                    }
                    if matches!(value["type"].as_str(), Some("complete" | "error")) {
                        break;
                    }
                }
                Message::Close(frame) => {
                    let code = frame.map(|f| u16::from(f.code)).unwrap_or(1005);
                    if code == 1011 {
                        return Err("closed with 1011 (internal error)".into());
                    }
                    return Ok(101);
                }
                _ => {}
            }
        }
        let _ = socket.close(None).await;
        Ok(101)
    }
}

fn cut(s: &str) -> String {
    s.chars().take(300).collect()
}

const FIELDS: &[&str] = &[
    "dashboard",
    "dashboards",
    "badgeCatalog",
    "serviceStats",
    "id",
    "analysisId",
    "url",
    "createdAt",
    "completedAt",
    "identity",
    "companyName",
    "sector",
    "opportunities",
    "opportunityId",
    "category",
    "hoursPerWeek",
    "hoursPerYear",
    "problemTeaser",
    "complexityLevel",
    "toolsHint",
    "status",
    "implementedAt",
    "progressSummary",
    "totalOpportunities",
    "completionPercentage",
    "badges",
    "badgeType",
    "name",
    "rarity",
    "points",
    "earnedAt",
    "achievements",
    "badge",
    "slug",
    "unlocked",
    "progressPercentage",
    "nextMilestone",
    "metrics",
    "timeSaved",
    "potentialWeekly",
    "moneySaved",
    "hourlyRate",
    "currency",
    "recommendations",
    "priorityScore",
    "reason",
    "reportUrl",
    "__typename",
    "__schema",
    "types",
    "fields",
    "__type",
    "updateProgress",
    "recordAnalysis",
    "timeZone",
    "history",
    "progressSince",
    "activity",
    "streak",
    "recentAnalysis",
    "platformKpiHistory",
    "setTimeZone",
    "subscribeToReports",
    "badgeAwarded",
    "kpiUpdated",
    "platformKpis",
    "newBadges",
    "nope",
];
const ARGS: &[&str] = &[
    "analysisId",
    "analysisIds",
    "input",
    "format",
    "sections",
    "period",
    "since",
    "name",
    "if",
    "x",
];
const ENUMS: &[&str] = &[
    "PDF",
    "HTML",
    "SUMMARY",
    "BADGES",
    "MINUTE",
    "DAY",
    "IMPLEMENTED",
    "IN_PROGRESS",
    "NOPE",
    "true",
    "false",
    "null",
];
/// Bytes of document the grammar grows to, at most (about; nesting closes past it).
const MAX_GENERATED: usize = 48 * 1024;
const IDS: &[&str] = &[
    "550e8400-e29b-41d4-a716-446655440000",
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "",
];

/// Known-good documents, the seeds of the byte-level mutations.
pub const SEEDS: &[&str] = &[
    "query($id: UUID!) { dashboard(analysisId: $id) { id url opportunities { opportunityId status } badges { badgeType } metrics { timeSaved { potentialWeekly } } } }",
    "query($ids: [UUID!]!) { dashboards(analysisIds: $ids) { id progressSummary { completionPercentage } } }",
    "{ badgeCatalog { slug name rarity points unlockCriteria } }",
    "mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { status } newBadges { badgeType } } }",
    "mutation($input: RecordAnalysisInput!) { recordAnalysis(input: $input) { duplicate dashboard { id } } }",
    "query Q { a: dashboard(analysisId: \"550e8400-e29b-41d4-a716-446655440000\") { ...F } } fragment F on Dashboard { id reportUrl(format: PDF, sections: [SUMMARY]) }",
    "{ __schema { types { name fields { name } } } }",
];

pub struct Generator {
    rng: Rng,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
        }
    }

    pub fn case(&mut self) -> Case {
        if self.rng.chance(8) {
            return self.rest_case();
        }
        let (query, variables) = match self.rng.below(12) {
            0..=4 => (self.document(), self.any_variables()),
            5..=7 => (self.mutated(), self.any_variables()),
            8 => (self.nested_brackets(), self.any_variables()),
            _ => self.typed(),
        };
        let operation_name = match self.rng.below(6) {
            0 => Some("Q".into()),
            1 => Some(self.name()),
            _ => None,
        };
        // A URL holds at most 64 KiB (http::Uri): longer documents go by POST.
        let transport = match self.rng.below(8) {
            // the whole URL, variables included, escaped (up to 3 bytes for 1)
            0 | 1 if 3 * (query.len() + json_text(&variables).len()) < 16 * 1024 => Transport::Get,
            2 => Transport::Ws,
            _ => Transport::Post,
        };
        let init = match self.rng.below(4) {
            0 => json!({ "authorization": self.hostile() }),
            1 => json!({ "language": self.hostile(), "x": self.hostile() }),
            _ => json!({}),
        };
        Case {
            transport,
            query,
            variables,
            operation_name,
            init,
            rest: None,
            language: self.language(),
        }
    }

    /// An `Accept-Language`: none, an ordinary or odd one, or hostile text (sent when it makes
    /// a header value).
    fn language(&mut self) -> Option<Vec<u8>> {
        const ODD: &[&str] = &[
            "fr",
            "en-CA,en;q=0.9",
            "fr-CA,fr;q=0.9,en;q=0.8",
            "en;q=NaN",
            "fr;q=-1, en",
            "*",
            "de, en;q=1e400",
            "\u{80}\u{ff}",
        ];
        match self.rng.below(4) {
            0 => Some(self.rng.pick(ODD).as_bytes().to_vec()),
            1 => Some(self.hostile().into_bytes()),
            _ => None,
        }
    }

    fn any_variables(&mut self) -> Value {
        if self.rng.chance(3) {
            self.good_variables()
        } else {
            let max = 1 + self.rng.below(20);
            self.value(0, max)
        }
    }

    /// Text from the whole of Unicode, aimed at the checks: controls, lone surrogates,
    /// noncharacters, bidirectional overrides, combining marks, 4-byte characters, and lengths at
    /// and just past each limit of the contract, alone or around ordinary text.
    pub fn hostile(&mut self) -> String {
        const PIECES: &[&str] = &[
            "\u{0}",
            "\u{1}",
            "\u{8}",
            "\t",
            "\n",
            "\r",
            "\u{1b}",
            "\u{1f}",
            "\u{7f}",
            "\u{80}",
            "\u{85}",
            "\u{9f}",
            "\u{FFFE}",
            "\u{FFFF}",
            "\u{FDD0}",
            "\u{1FFFE}",
            "\u{202A}",
            "\u{202E}",
            "\u{2066}",
            "\u{2069}",
            "\u{200F}",
            "\u{FEFF}",
            "e\u{301}\u{302}\u{303}",
            "\u{300}",
            "😀",
            "𝔘",
            "\u{10FFFF}",
            "🇨🇦",
            "中文",
            "'; DROP TABLE analyses; --",
            "<script>alert(1)</script>",
            "\\",
            "\"",
            "%00",
            " ",
        ];
        const LIMITS: &[usize] = &[100, 101, 200, 201, 254, 255, 256, 2000, 2001, 2048, 2049];
        let piece = |g: &mut Self| -> String {
            match g.rng.below(10) {
                0 => LONE_HIGH.to_string(),
                1 => LONE_LOW.to_string(),
                _ => (*g.rng.pick(PIECES)).to_owned(),
            }
        };
        match self.rng.below(6) {
            // at and past a limit, in 1-byte or 4-byte characters
            0 => {
                let n = *self.rng.pick(LIMITS);
                let unit = *self.rng.pick(&["a", "é", "😀", "e\u{301}"]);
                unit.repeat(n)
            }
            // one hostile piece inside a plausible value
            1 | 2 => {
                let base = *self.rng.pick(&[
                    "digital_presence",
                    "https://fuzz.example.com/a",
                    "name@example.com",
                    "Acme Inc.",
                    "user-1",
                ]);
                let at = self.rng.below(base.len() + 1);
                let p = piece(self);
                format!("{}{p}{}", &base[..at], &base[at..])
            }
            // several pieces
            _ => (0..1 + self.rng.below(4)).map(|_| piece(self)).collect(),
        }
    }

    /// A string for a string position: hostile most of the time, sometimes ordinary.
    fn text(&mut self, ordinary: &str) -> Value {
        if self.rng.chance(3) {
            json!(ordinary)
        } else {
            json!(self.hostile())
        }
    }

    /// An operation of the contract that reaches its resolver (the analysis exists, the
    /// variables have the input's shape), with hostile text in its string positions.
    fn typed(&mut self) -> (String, Value) {
        let analysis = IDS[0];
        match self.rng.below(12) {
            7 => (
                "mutation($id: UUID!, $tz: String!) { setTimeZone(analysisId: $id, timeZone: $tz) { timeZone streak { current } } }".into(),
                json!({ "id": analysis, "tz": self.text("America/Toronto") }),
            ),
            8 => (
                "query($id: UUID!, $after: String, $first: Int!) { dashboard(analysisId: $id) { activity(first: $first, after: $after) { totalCount edges { cursor } } } }".into(),
                json!({ "id": analysis, "after": self.text("activity:1"), "first": self.rng.pick(&[-1, 0, 1, 100, 101, i32::MAX]) }),
            ),
            9 => (
                "query($url: String!) { recentAnalysis(url: $url) { analysisId } }".into(),
                json!({ "url": self.text("https://www.example.com/") }),
            ),
            10 => (
                "mutation($id: ID!) { cancelReportSubscription(id: $id) }".into(),
                json!({ "id": self.text("00000000-0000-4000-8000-000000000000") }),
            ),
            11 => {
                let instants = [
                    "2026-03-16T10:00:00Z",
                    "+262142-12-31T23:59:59Z",
                    "-262143-01-01T00:00:00Z",
                    "1970-01-01T00:00:00Z",
                    "2026-03-08T07:00:00Z",
                ];
                let (from, to) = (self.rng.pick(&instants), self.rng.pick(&instants));
                let g = self.rng.pick(&["DAY", "WEEK", "MONTH"]);
                (
                    "query($id: UUID!, $g: HistoryGranularity!, $from: DateTime, $to: DateTime, $p: KpiPeriod!) { dashboard(analysisId: $id) { history(granularity: $g, from: $from, to: $to) { at changes } progressSince(since: $from) { badgesEarned { badgeType } } } platformKpiHistory(period: $p, from: $from, to: $to) { at } }".into(),
                    json!({ "id": analysis, "g": g, "from": from, "to": to, "p": self.rng.pick(&["MINUTE", "HOUR", "DAY"]) }),
                )
            }
            0 => (
                "mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { opportunityId status } newBadges { badgeType } } }".into(),
                json!({ "input": {
                    "analysisId": analysis,
                    "opportunityId": self.text("digital_presence"),
                    "status": self.rng.pick(&["IN_PROGRESS", "IMPLEMENTED", "NOT_STARTED"]),
                }}),
            ),
            1 => {
                let opportunities: Vec<Value> = (0..1 + self.rng.below(3))
                    .map(|i| json!({
                        "opportunityId": self.text(&format!("o{i}")),
                        "category": "VALUE_CREATION",
                        "hoursPerWeek": 2.0,
                        "hoursPerYear": 104,
                        "complexityLevel": 3,
                        "problemTeaser": self.text("A sentence.\nAnother."),
                        "toolsHint": self.text("Zapier"),
                    }))
                    .collect();
                let site = format!("https://fuzz{}.example.com", self.rng.below(1000));
                (
                    "mutation($input: RecordAnalysisInput!) { recordAnalysis(input: $input) { duplicate dashboard { id identity { companyName } } } }".into(),
                    json!({ "input": {
                        "url": self.text(&site),
                        "identity": {
                            "companyName": self.text("Acme"),
                            "sector": self.text("Construction"),
                            "estimatedSize": self.text("10-49"),
                            "tier": self.text("Tier 1"),
                        },
                        "opportunities": opportunities,
                    }}),
                )
            }
            2 => (
                "mutation($sub: String!) { revokeSessions(sub: $sub) }".into(),
                json!({ "sub": self.text("user-1") }),
            ),
            3 => (
                "mutation($token: String!) { unsubscribeFromReports(token: $token) }".into(),
                json!({ "token": self.text("0.0") }),
            ),
            4 => (
                "mutation($input: SubscribeToReportsInput!) { subscribeToReports(input: $input) { id } }".into(),
                json!({ "input": {
                    "analysisId": analysis,
                    "email": self.text("name@example.com"),
                    "frequency": "WEEKLY",
                }}),
            ),
            // the same positions as literals in the document
            5 => (
                format!(
                    "mutation {{ updateProgress(input: {{analysisId: \"{analysis}\", opportunityId: {}, status: IN_PROGRESS}}) {{ opportunity {{ status }} }} }}",
                    graphql_string(&self.hostile())
                ),
                json!({}),
            ),
            _ => (
                format!(
                    "mutation {{ revokeSessions(sub: {}) }}",
                    graphql_string(&self.hostile())
                ),
                json!({}),
            ),
        }
    }

    /// A call to one of the REST endpoints with hostile text in its path, query or body.
    fn rest_case(&mut self) -> Case {
        let id = if self.rng.chance(4) {
            encode(&self.hostile())
        } else {
            IDS[0].to_owned()
        };
        let rest = match self.rng.below(6) {
            0 => RestCall {
                post: true,
                path: format!("/dashboard/{id}/progress"),
                body: json!({
                    "opportunity_id": self.text("digital_presence"),
                    "status": self.rng.pick(&["IN_PROGRESS", "IMPLEMENTED", "NOT_STARTED", "done"]),
                }),
            },
            1 => RestCall {
                post: true,
                path: format!("/dashboard/{id}/subscribe"),
                body: json!({ "email": self.text("name@example.com"), "frequency": self.text("weekly") }),
            },
            2 => {
                let mut query = Vec::new();
                for name in ["format", "sections", "lang", "expires", "signature"] {
                    if self.rng.chance(2) {
                        let ordinary = match name {
                            "format" => "html",
                            "sections" => "all",
                            "lang" => "en",
                            _ => "1",
                        };
                        let v = self.text(ordinary);
                        query.push(format!("{name}={}", encode(v.as_str().unwrap_or(""))));
                    }
                }
                RestCall {
                    post: false,
                    path: format!("/dashboard/{id}/report/generate?{}", query.join("&")),
                    body: Value::Null,
                }
            }
            n => RestCall {
                post: false,
                path: format!(
                    "/dashboard/{id}{}",
                    ["", "/recommendations", "/badges"][n - 3]
                ),
                body: Value::Null,
            },
        };
        Case {
            transport: Transport::Rest,
            query: String::new(),
            variables: Value::Null,
            operation_name: None,
            init: Value::Null,
            rest: Some(rest),
            language: self.language(),
        }
    }

    fn name(&mut self) -> String {
        if self.rng.chance(3) {
            let len = 1 + self.rng.below(8);
            (0..len)
                .map(|i| {
                    let c = b"abcxyzQ_019"[self.rng.below(11)] as char;
                    if i == 0 && c.is_ascii_digit() {
                        '_'
                    } else {
                        c
                    }
                })
                .collect()
        } else {
            (*self.rng.pick(FIELDS)).to_owned()
        }
    }

    /// A document from the grammar, sometimes a little off it.
    fn document(&mut self) -> String {
        let mut out = String::new();
        let op = *self.rng.pick(&[
            "",
            "query",
            "query Q",
            "mutation",
            "subscription",
            "query Q($id: UUID!, $ids: [UUID!])",
        ]);
        out.push_str(op);
        let deep = self.rng.chance(10);
        let depth = 1 + self.rng.below(if deep { 30 } else { 5 });
        self.selection_set(&mut out, depth);
        if self.rng.chance(4) {
            out.push_str(" fragment F on Dashboard ");
            self.selection_set(&mut out, 2);
        }
        out
    }

    fn selection_set(&mut self, out: &mut String, depth: usize) {
        out.push_str(" {");
        // Nested sets multiply: past this size the document only closes what it opened.
        if out.len() > MAX_GENERATED {
            out.push_str(" id }");
            return;
        }
        let wide = self.rng.chance(20);
        let n = 1 + self.rng.below(if wide { 80 } else { 5 });
        for _ in 0..n {
            out.push(' ');
            match self.rng.below(12) {
                0 => out.push_str("...F"),
                1 if depth > 1 => {
                    out.push_str("... on Dashboard");
                    self.selection_set(out, depth - 1);
                    continue;
                }
                _ => {}
            }
            if self.rng.chance(5) {
                let alias = self.name();
                out.push_str(&alias);
                out.push_str(": ");
            }
            let field = self.name();
            out.push_str(&field);
            if self.rng.chance(3) {
                out.push('(');
                for _ in 0..1 + self.rng.below(3) {
                    let arg = *self.rng.pick(ARGS);
                    out.push_str(arg);
                    out.push_str(": ");
                    let max = 1 + self.rng.below(6);
                    let v = self.literal(0, max);
                    out.push_str(&v);
                    out.push(' ');
                }
                out.push(')');
            }
            for _ in 0..self.rng.below(3).saturating_sub(1) {
                let directive = *self.rng.pick(&[
                    " @include(if: true)",
                    " @skip(if: $x)",
                    " @deprecated",
                    " @include",
                ]);
                out.push_str(directive);
            }
            if depth > 1 && self.rng.chance(3) {
                self.selection_set(out, depth - 1);
            }
        }
        out.push_str(" }");
    }

    /// A GraphQL value literal.
    fn literal(&mut self, depth: usize, max: usize) -> String {
        match self.rng.below(if depth < max { 11 } else { 8 }) {
            0 => format!("\"{}\"", self.rng.pick(IDS)),
            1 => (*self.rng.pick(ENUMS)).to_owned(),
            2 => format!("{}", self.rng.next() as i64),
            3 => format!(
                "{}e{}",
                self.rng.below(1000),
                self.rng.below(400) as i64 - 200
            ),
            4 => "$id".into(),
            5 => graphql_string(&self.hostile()),
            6 => format!("\"\"\"{}\"\"\"", "x\"".repeat(self.rng.below(5))),
            7 => "-0.0".into(),
            8 | 9 => {
                let items: Vec<String> = (0..self.rng.below(4))
                    .map(|_| self.literal(depth + 1, max))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            _ => {
                let fields: Vec<String> = (0..self.rng.below(4))
                    .map(|_| {
                        let k = self
                            .rng
                            .pick(&[
                                "url",
                                "analysisId",
                                "opportunityId",
                                "status",
                                "hoursPerWeek",
                                "k",
                            ])
                            .to_string();
                        format!("{k}: {}", self.literal(depth + 1, max))
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        }
    }

    /// A known-good document with a few byte-level changes.
    fn mutated(&mut self) -> String {
        let mut bytes = self.rng.pick(SEEDS).as_bytes().to_vec();
        for _ in 0..1 + self.rng.below(4) {
            if bytes.is_empty() {
                break;
            }
            let at = self.rng.below(bytes.len());
            let len = 1 + self.rng.below(16).min(bytes.len() - at);
            match self.rng.below(6) {
                0 => {
                    bytes.drain(at..at + len.min(bytes.len() - at));
                }
                1 => {
                    let piece = bytes[at..(at + len).min(bytes.len())].to_vec();
                    let many = self.rng.chance(10);
                    let times = 1 + self.rng.below(if many { 500 } else { 3 });
                    for _ in 0..times {
                        bytes.splice(at..at, piece.iter().copied());
                    }
                }
                2 => {
                    let token = self.rng.pick(&[
                        "{", "}", "[", "]", "(", ")", "\"", "\"\"\"", "$", "@", "...", "#", ":",
                        "!", "\\", "\u{0}", "é",
                    ]);
                    bytes.splice(at..at, token.bytes());
                }
                3 => bytes.truncate(at),
                4 => {
                    let b = self.rng.below(256) as u8;
                    bytes[at] = b;
                }
                _ => {
                    let other = self.rng.below(bytes.len());
                    bytes.swap(at, other);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Brackets or braces nested around the limits and far past them.
    fn nested_brackets(&mut self) -> String {
        let depth = *self
            .rng
            .pick(&[10, 30, 38, 39, 40, 41, 64, 200, 1550, 20_000]);
        let (open, close) = *self.rng.pick(&[("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")]);
        let inner = format!(
            "{}\"550e8400-e29b-41d4-a716-446655440000\"{}",
            open.repeat(depth),
            close.repeat(depth)
        );
        let field = self.rng.pick(&[
            "dashboards(analysisIds: ",
            "dashboard(analysisId: ",
            "nope(x: ",
        ]);
        format!("{{ {field}{inner}) {{ id }} }}")
    }

    /// Variables of the right names, with values right or wrong.
    fn good_variables(&mut self) -> Value {
        let id = json!(self.rng.pick(IDS));
        let status = json!(self
            .rng
            .pick(&["NOT_STARTED", "IN_PROGRESS", "IMPLEMENTED", "DONE"]));
        json!({
            "id": id,
            "ids": (0..self.rng.below(5)).map(|_| json!(self.rng.pick(IDS))).collect::<Vec<_>>(),
            "input": {
                "analysisId": self.rng.pick(IDS),
                "opportunityId": self.text("digital_presence"),
                "status": status,
                "hourlyRate": self.rng.pick(&[json!(50.0), json!(-1), json!(1e308), json!("x"), Value::Null]),
                "url": self.text("https://fuzz.example.com"),
                "identity": { "companyName": self.text("Acme") },
                "opportunities": [],
            },
            "x": self.rng.chance(2),
        })
    }

    /// Any JSON value, nested up to `max`.
    fn value(&mut self, depth: usize, max: usize) -> Value {
        match self.rng.below(if depth < max { 9 } else { 6 }) {
            0 => Value::Null,
            1 => json!(self.rng.chance(2)),
            2 => json!(self.rng.next() as i64),
            3 => json!((self.rng.next() as f64) / 7.0),
            4 => json!(self.rng.pick(IDS)),
            5 => json!(self.hostile()),
            6 | 7 => Value::Array(
                (0..self.rng.below(4))
                    .map(|_| self.value(depth + 1, max))
                    .collect(),
            ),
            _ => {
                let mut map = Map::new();
                for _ in 0..self.rng.below(4) {
                    let k = self.name();
                    let v = self.value(depth + 1, max);
                    map.insert(k, v);
                }
                Value::Object(map)
            }
        }
    }
}

/// A failure report of a bounded size.
pub fn describe(failure: &str, case: &Case) -> String {
    let short = |s: &str| s.chars().take(400).collect::<String>();
    if let Some(rest) = &case.rest {
        return format!(
            "{}\n  for REST {} {} body {}",
            short(failure),
            if rest.post { "POST" } else { "GET" },
            short(&rest.path),
            short(&json_text(&rest.body))
        );
    }
    format!(
        "{}\n  for {:?} {} variables {} init {} operation {:?}",
        short(failure),
        case.transport,
        short(&case.query),
        short(&json_text(&case.variables)),
        short(&json_text(&case.init)),
        case.operation_name
    )
}

/// What one answer says about the server: `Err` when it shows a crash or an internal error.
pub fn check(status: u16, body: &str) -> Result<(), String> {
    if status >= 500 {
        return Err(format!("status {status}: {}", &body[..body.len().min(300)]));
    }
    // hyper's own refusals (a URL over its buffer, a malformed request line) have no body.
    if status >= 400 && body.is_empty() {
        return Ok(());
    }
    let value: Value = serde_json::from_str(body).map_err(|e| {
        format!(
            "status {status}, not JSON ({e}): {}",
            &body[..body.len().min(300)]
        )
    })?;
    if let Some(errors) = value.get("errors").and_then(Value::as_array) {
        for e in errors {
            match e["extensions"]["code"].as_str() {
                Some("INTERNAL") => return Err(format!("INTERNAL: {e}")),
                Some(_) => {}
                None => return Err(format!("an error without a code: {e}")),
            }
        }
    }
    Ok(())
}

/// Percent-encodes every byte but unreserved ASCII, for a path segment or a query value.
fn encode(s: &str) -> String {
    let text = s.replace([LONE_HIGH, LONE_LOW], "\u{FFFD}");
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn hostile_text_reaches_every_class() {
    let mut g = Generator::new(7);
    let all: String = (0..5_000).map(|_| g.hostile()).collect();
    for c in [
        '\u{0}', '\u{85}', '\u{FFFE}', '\u{FFFF}', '\u{202E}', '\u{301}', '😀', LONE_HIGH, LONE_LOW,
    ] {
        assert!(all.contains(c), "{c:?} never generated");
    }
    let escaped = json_text(&json!([LONE_HIGH.to_string()]));
    assert_eq!(escaped, r#"["\ud800"]"#);
    assert!(
        serde_json::from_str::<Value>(&escaped).is_err(),
        "a lone surrogate is not JSON serde reads"
    );
    assert_eq!(graphql_string("a\u{0}\"\u{10FFFC}"), r#""a\u0000\"\ud800""#);
}

#[test]
fn generated_cases_stay_small() {
    let mut g = Generator::new(1);
    for _ in 0..20_000 {
        let c = g.case();
        assert!(c.query.len() < 512 * 1024, "{}", c.query.len());
        assert!(c.variables.to_string().len() < 64 * 1024);
    }
}
