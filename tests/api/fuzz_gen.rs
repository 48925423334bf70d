//! Generated GraphQL requests for fuzzing the real request path: documents built from the
//! grammar with the schema's own names (so many get past parsing and validation into execution),
//! known-good documents with bytes cut, repeated and swapped, and variables of every JSON shape,
//! some nested past the limits. Deterministic for a seed; no dependency. Shared by the tests
//! (a small fixed-seed run) and `bench/fuzz.sh` (100,000 cases and more).

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

/// One request: how it travels, and its parts.
#[derive(Debug, Clone)]
pub struct Case {
    /// Sent as GET with the query in the URL (queries only make sense there).
    pub get: bool,
    pub query: String,
    pub variables: Value,
    pub operation_name: Option<String>,
}

impl Case {
    /// The request to `url` (the server's `/graphql`).
    pub fn request(&self, client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        if !self.get {
            return client.post(url).json(&self.body());
        }
        let mut params = vec![
            ("query", self.query.clone()),
            ("variables", self.variables.to_string()),
        ];
        if let Some(name) = &self.operation_name {
            params.push(("operationName", name.clone()));
        }
        client.get(url).query(&params)
    }

    /// The POST body.
    pub fn body(&self) -> Value {
        let mut body = json!({ "query": self.query, "variables": self.variables });
        if let Some(name) = &self.operation_name {
            body["operationName"] = json!(name);
        }
        body
    }
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
        let query = match self.rng.below(10) {
            0..=4 => self.document(),
            5..=8 => self.mutated(),
            _ => self.nested_brackets(),
        };
        let variables = if self.rng.chance(3) {
            self.good_variables()
        } else {
            let max = 1 + self.rng.below(20);
            self.value(0, max)
        };
        let operation_name = match self.rng.below(6) {
            0 => Some("Q".into()),
            1 => Some(self.name()),
            _ => None,
        };
        // A URL holds at most 64 KiB (http::Uri): longer documents go by POST.
        Case {
            get: query.len() < 8 * 1024 && self.rng.chance(4),
            query,
            variables,
            operation_name,
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
            5 => "\"\\u00e9\\n\\\"\\u0000é😀\"".into(),
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
                "opportunityId": self.rng.pick(&["digital_presence", "value_creation", "", "x"]),
                "status": status,
                "hourlyRate": self.rng.pick(&[json!(50.0), json!(-1), json!(1e308), json!("x"), Value::Null]),
                "url": self.rng.pick(&["https://fuzz.example.com", "javascript:alert(1)", ""]),
                "identity": {},
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
            5 => json!("é\u{0}\"\\😀".repeat(self.rng.below(4))),
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
    format!(
        "{}\n  for {} {} variables {} operation {:?}",
        short(failure),
        if case.get { "GET" } else { "POST" },
        short(&case.query),
        short(&case.variables.to_string()),
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

#[test]
fn generated_cases_stay_small() {
    let mut g = Generator::new(1);
    for _ in 0..20_000 {
        let c = g.case();
        assert!(c.query.len() < 512 * 1024, "{}", c.query.len());
        assert!(c.variables.to_string().len() < 64 * 1024);
    }
}
