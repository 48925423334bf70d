//! The test harness: a per-test database cloned from one migrated template, and the real server on
//! port 0 spoken to over HTTP.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use progress_dashboard::clock::ManualClock;
use progress_dashboard::config::Config;
use progress_dashboard::db::migrate;
use progress_dashboard::http::App;
use progress_dashboard::startup;
use serde_json::{json, Value};

/// Where tests create their databases; `TEST_DATABASE_URL` overrides (any database on the server).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn url_for(db: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{db}")
}

async fn admin() -> AsyncPgConnection {
    AsyncPgConnection::establish(&admin_url())
        .await
        .expect("PostgreSQL must be reachable for the tests (see README)")
}

/// Changes whenever a migration or the catalog changes, so a stale template is never used.
fn template_name() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = walk(&root.join("migrations"));
    files.push(root.join("badges.toml"));
    files.sort();
    let mut h = DefaultHasher::new();
    for f in files {
        f.strip_prefix(root).unwrap().hash(&mut h);
        std::fs::read(&f).unwrap().hash(&mut h);
    }
    format!("pd_tpl_{:016x}", h.finish())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) {
    conn.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Names of databases matching a LIKE pattern.
async fn databases(conn: &mut AsyncPgConnection, like: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind::<diesel::sql_types::Text, _>(like)
        .load::<Row>(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.datname)
        .collect()
}

/// Builds the template once per test process (and once per migration set across processes).
async fn build_template() -> String {
    let name = template_name();
    let mut conn = admin().await;
    exec(&mut conn, "SELECT pg_advisory_lock(7240011)").await;
    // Databases of test processes that are gone, and templates of other migration sets.
    for db in databases(&mut conn, "pd\\_test\\_%").await {
        let pid: Option<u32> = db.split('_').nth(2).and_then(|p| p.parse().ok());
        if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
            exec(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            )
            .await;
        }
    }
    for db in databases(&mut conn, "pd\\_tpl\\_%").await {
        if db != name {
            exec(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            )
            .await;
        }
    }
    if databases(&mut conn, &name).await.is_empty() {
        let building = format!("{name}_building");
        exec(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        )
        .await;
        exec(&mut conn, &format!("CREATE DATABASE {building}")).await;
        migrate::run(&url_for(&building))
            .await
            .expect("migrations apply");
        // Renamed only once complete, so a crash never leaves a half-built template behind.
        exec(
            &mut conn,
            &format!("ALTER DATABASE {building} RENAME TO {name}"),
        )
        .await;
    }
    exec(&mut conn, "SELECT pg_advisory_unlock(7240011)").await;
    name
}

fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        // Its own runtime: the migration harness needs a multi-threaded one, and the tests'
        // runtimes come and go.
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap()
                .block_on(build_template())
        })
        .join()
        .expect("template database")
    })
}

/// A database of this test's own; dropped when the test process's next run cleans up.
pub struct TestDb {
    pub url: String,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn fresh_name() -> String {
    format!(
        "pd_test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A copy of the migrated template.
    pub async fn new() -> Self {
        let template = template();
        let name = fresh_name();
        let mut conn = admin().await;
        // Another test may be copying the template this instant; PostgreSQL then refuses briefly.
        let mut attempt = 0;
        loop {
            let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
            match conn.batch_execute(&sql).await {
                Ok(()) => break,
                Err(e) if attempt < 50 && e.to_string().contains("being accessed") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{sql}: {e}"),
            }
        }
        Self {
            url: url_for(&name),
        }
    }

    /// An empty database (no migrations).
    pub async fn empty() -> Self {
        let name = fresh_name();
        exec(&mut admin().await, &format!("CREATE DATABASE {name}")).await;
        Self {
            url: url_for(&name),
        }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.unwrap()
    }

    /// One number from SQL.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT ({sql})::bigint AS n"))
            .get_result::<Row>(&mut self.conn().await)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .n
    }
}

/// The shared Redis of the tests (`TEST_REDIS_URL`, default the local one).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key and channel prefix of this test's own.
pub fn redis_prefix() -> String {
    format!(
        "pdtest:{}:{}:",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Uses the shared Redis under a fresh prefix.
pub fn with_redis(prefix: &str) -> impl FnOnce(&mut Config) + '_ {
    move |c| {
        c.redis.url = Some(redis_url().into());
        c.redis.prefix = prefix.to_owned();
    }
}

/// Two instances on the shared Redis under a fresh prefix, the first one `quiet`.
pub async fn two_on_redis() -> (TestApp, TestApp) {
    let prefix = redis_prefix();
    let a = TestApp::spawn_with(|c| {
        with_redis(&prefix)(c);
        quiet(c);
    })
    .await;
    let b = a.spawn_sibling(with_redis(&prefix)).await;
    (a, b)
}

/// No outbox relay sweeping in the background: statement counts stay the requests' own.
pub fn quiet(c: &mut Config) {
    c.live.outbox_relay_interval = std::time::Duration::from_secs(3600);
}

/// `n` distinct free ports on loopback (all held open until each is chosen, so none comes twice).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// The JSON a GET of `url` answers, whatever its status.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// A private Redis server (for outages): stopped on drop.
pub struct RedisServer {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Self { port, child: None };
        s.restart();
        s
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test.sh installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("redis-server did not start on {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The moment tests start at unless they set the clock: a Monday, mid-month.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 16, 10, 0, 0).unwrap()
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub app: App,
    pub db: Arc<TestDb>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(
            Arc::new(TestDb::new().await),
            ManualClock::new(t0()),
            configure,
        )
        .await
    }

    /// Another instance on the same database (and, when configured so, the same Redis), with
    /// the same clock.
    pub async fn spawn_sibling(&self, configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(self.db.clone(), self.clock.clone(), configure).await
    }

    pub async fn spawn_on(
        db: Arc<TestDb>,
        clock: ManualClock,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::for_database(&db.url);
        configure(&mut config);
        let app = startup::build(config, Arc::new(clock.clone()))
            .await
            .expect("app builds");
        let listener = startup::bind(&app.config).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(startup::serve(
            app.clone(),
            listener,
            std::future::pending(),
        ));
        Self {
            base,
            client: reqwest::Client::new(),
            clock,
            app,
            db,
        }
    }

    /// The GraphQL endpoint's URL.
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// POSTs a raw body with a content type; status and JSON body.
    pub async fn post_raw(&self, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut r = self.client.post(self.graphql_url()).body(body);
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POSTs a JSON body as it is (no `query`/`variables` wrapping); status and JSON body.
    pub async fn post_json(&self, body: &Value) -> (u16, Value) {
        self.post_raw(Some("application/json"), body.to_string().into_bytes())
            .await
    }

    /// GET /graphql with the query (and variables) in the URL.
    pub async fn get_query(&self, query: &str, variables: Option<&Value>) -> (u16, Value) {
        let mut params = vec![("query", query.to_owned())];
        if let Some(v) = variables {
            params.push(("variables", v.to_string()));
        }
        let r = self
            .client
            .get(self.graphql_url())
            .query(&params)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POSTs one operation; the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        post(
            &self.client,
            &self.base,
            None,
            json!({"query": query, "variables": variables}),
        )
        .await
    }

    /// The `data` of an operation that must succeed.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let r = self.gql(query, variables).await;
        assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
        r["data"].clone()
    }

    /// The single error of an operation that must fail; checks the contract's extensions.
    pub async fn error(&self, query: &str, variables: Value) -> Value {
        let r = self.gql(query, variables).await;
        let errors = r["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected an error: {r:#}"));
        assert_eq!(errors.len(), 1, "{r:#}");
        let e = errors[0].clone();
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{e:#}"
        );
        assert!(
            e["extensions"]["requestId"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{e:#}"
        );
        e
    }

    /// Waits until the publications after earlier changes are done (they use the pool too): the
    /// outbox drained and no statement sent for two polls in a row, so that statement counts from
    /// here on are the request's own. Fails when that never happens.
    pub async fn quiesce(&self) {
        let unpublished = "SELECT count(*) FROM event_outbox WHERE published_at IS NULL";
        let mut last = None;
        for _ in 0..500 {
            let drained = self.db.count(unpublished).await == 0;
            // the count above is a statement of the test's own connection, not the server's
            let now = self.statements();
            if drained && last == Some(now) {
                return;
            }
            last = drained.then_some(now);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the outbox never drained, or the server never went quiet");
    }

    pub fn statements(&self) -> u64 {
        self.app.services.state.statements.get()
    }

    /// Records an analysis with opportunities `(id, hours/week, hours/year, complexity)`.
    pub async fn record(&self, url: &str, opps: &[(&str, f64, i32, i32)]) -> String {
        let d = self
            .data(RECORD, json!({"input": analysis_input(url, opps)}))
            .await;
        d["recordAnalysis"]["dashboard"]["analysisId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The brief's example: 5/8/2 h per week, 260/416/104 h per year, complexity 7/5/3.
    pub async fn record_example(&self) -> String {
        self.record("https://www.example.com/", EXAMPLE).await
    }

    /// Moves one opportunity; the whole response.
    pub async fn update(&self, id: &str, opp: &str, status: &str, rate: Option<f64>) -> Value {
        let mut input = json!({"analysisId": id, "opportunityId": opp, "status": status});
        if let Some(r) = rate {
            input["hourlyRate"] = json!(r);
        }
        self.gql(UPDATE, json!({"input": input})).await
    }

    /// Moves one opportunity, which must succeed; the slugs of the badges it earned.
    pub async fn advance(&self, id: &str, opp: &str, status: &str) -> Vec<String> {
        let r = self.update(id, opp, status, None).await;
        assert!(r.get("errors").is_none(), "{r:#}");
        slugs(&r["data"]["updateProgress"]["newBadges"])
    }

    pub async fn dashboard(&self, id: &str) -> Value {
        self.data(&DASHBOARD, json!({"id": id})).await["dashboard"].clone()
    }
}

pub fn slugs(badges: &Value) -> Vec<String> {
    badges
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["badgeType"].as_str().unwrap().to_owned())
        .collect()
}

pub const EXAMPLE: &[(&str, f64, i32, i32)] = &[
    ("digital_presence", 5.0, 260, 7),
    ("value_creation", 8.0, 416, 5),
    ("business_management", 2.0, 104, 3),
];

pub fn analysis_input(url: &str, opps: &[(&str, f64, i32, i32)]) -> Value {
    let categories = ["DIGITAL_PRESENCE", "VALUE_CREATION", "BUSINESS_MANAGEMENT"];
    json!({
        "url": url,
        "identity": {"companyName": "Example Inc.", "sector": "Services", "estimatedSize": "50-100", "tier": "Tier 2"},
        "opportunities": opps.iter().enumerate().map(|(i, (id, w, y, c))| json!({
            "opportunityId": id, "category": categories[i % 3], "hoursPerWeek": w,
            "hoursPerYear": y, "complexityLevel": c, "problemTeaser": "Slow work", "toolsHint": "A tool"
        })).collect::<Vec<_>>(),
    })
}

pub const DASHBOARD_FIELDS: &str = "
    id analysisId url createdAt completedAt
    identity { companyName sector estimatedSize tier }
    opportunities { id opportunityId category hoursPerWeek hoursPerYear problemTeaser complexityLevel toolsHint status implementedAt }
    progressSummary { totalOpportunities notStarted inProgress implemented completionPercentage }
    badges { id badgeType name description icon rarity points earnedAt versionEarned }
    achievements { badge { id slug name rarity points category unlockCriteria displayOrder version } unlocked progressPercentage nextMilestone }
    metrics { timeSaved { potentialWeekly implementedWeekly potentialAnnual implementedAnnual }
              moneySaved { hourlyRate potentialAnnual implementedAnnual currency } }
    recommendations { opportunity { opportunityId complexityLevel } priorityScore reason }";

pub static DASHBOARD: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("query($id: UUID!) {{ dashboard(analysisId: $id) {{ {DASHBOARD_FIELDS} }} }}")
});

pub const RECORD: &str = "mutation($input: RecordAnalysisInput!) {
  recordAnalysis(input: $input) { duplicate dashboard { analysisId url createdAt opportunities { opportunityId status } } } }";

pub const UPDATE: &str = "mutation($input: UpdateProgressInput!) {
  updateProgress(input: $input) {
    opportunity { id opportunityId status implementedAt }
    newBadges { id badgeType name rarity points earnedAt versionEarned }
    metrics { timeSaved { potentialWeekly implementedWeekly potentialAnnual implementedAnnual }
              moneySaved { hourlyRate potentialAnnual implementedAnnual currency } }
    progressSummary { totalOpportunities notStarted inProgress implemented completionPercentage }
    dashboard { id badges { badgeType } }
  } }";

/// Runs a future on a fresh multi-threaded runtime (for the migration harness) from any test.
pub fn run_multi<F: std::future::Future + Send + 'static>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap()
}

pub async fn sql(db: &TestDb, statement: &str) {
    exec(&mut db.conn().await, statement).await;
}

pub async fn exec_on(conn: &mut AsyncPgConnection, statement: &str) {
    exec(conn, statement).await;
}

#[allow(dead_code)]
pub async fn row_count(conn: &mut AsyncPgConnection, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Row>(conn)
        .await
        .unwrap()
        .n
}

/// POSTs a query with a chosen request id; the JSON response.
pub async fn post_with_id(
    client: &reqwest::Client,
    base: &str,
    request_id: &str,
    query: &str,
) -> Value {
    post(client, base, Some(request_id), json!({"query": query})).await
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    request_id: Option<&str>,
    body: Value,
) -> Value {
    let mut request = client.post(format!("{base}/graphql")).json(&body);
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// The shipped binary serving on a free port with `env` on top of a test configuration; the
/// child (killed on drop, stderr piped for its logs) and its base URL.
pub async fn spawn_binary(db: &TestDb, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .env("AUTH_MODE", "open")
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), stdout.next_line())
        .await
        .expect("the server starts")
        .unwrap()
        .unwrap();
    let base = line
        .strip_prefix("Playground: ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (child, base)
}

/// All a finished (or killed) child wrote on its standard error: the server's log lines.
pub async fn stderr_of(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncReadExt;
    let mut logs = String::new();
    let mut stderr = child.stderr.take().expect("stderr piped");
    stderr.read_to_string(&mut logs).await.unwrap();
    logs
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// A client of its own source address (anything in 127.0.0.0/8 reaches the server).
pub fn from_address(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// Runs `script` (in tests/frontend) with Node against the test server, with `env`; its
/// standard output, once it has succeeded.
pub async fn run_node(app: &TestApp, script: &str, package: &str, env: &[(&str, &str)]) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/frontend");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules")
            .join(package)
            .exists(),
        "run `npm ci --prefix tests/frontend` first (scripts/test.sh does)"
    );
    let out = tokio::process::Command::new("node")
        .arg(script)
        .current_dir(dir)
        .env("API_URL", &app.base)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("node must be installed (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Polls `condition` for up to ten seconds.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// [`eventually`] for a condition that has to wait on something (a request, say).
pub async fn eventually_async<F: std::future::Future<Output = bool>>(
    what: &str,
    condition: impl Fn() -> F,
) {
    for _ in 0..500 {
        if condition().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Inserts a confirmed weekly subscription straight into the database, past the API's checks
/// and the double opt-in, with any creation date (`created_at` is an SQL expression).
pub async fn insert_weekly_subscription(
    db: &TestDb,
    analysis_id: &str,
    email: &str,
    created_at: &str,
) {
    sql(
        db,
        &format!(
            "INSERT INTO email_subscriptions (id, analysis_id, email, frequency, created_at, confirmed_at)
             VALUES (gen_random_uuid(), '{analysis_id}', '{email}', 'weekly', {created_at}, {created_at})"
        ),
    )
    .await;
}
