//! `progress-dashboard [serve|migrate|export-schema [PATH]|export-operations [PATH]|seed-demo …]`

use std::process::ExitCode;
use std::sync::Arc;

use progress_dashboard::clock::{Clock, SystemClock};
use progress_dashboard::config::Config;
use progress_dashboard::domain::access::{Claims, Role};
use progress_dashboard::service::{auth, seed};
use progress_dashboard::{db, graphql, startup, telemetry};
use secrecy::ExposeSecret;

const USAGE: &str = "\
progress-dashboard: the progress dashboard GraphQL API

USAGE:
    progress-dashboard [COMMAND]

COMMANDS:
    serve                 migrate, then serve GraphQL on HOST:PORT (the default)
    migrate               apply pending migrations and sync the badge catalog
    export-schema [PATH]  write the GraphQL SDL (default: schema.graphql; - for stdout)
    export-operations [PATH]
                          write the playground's examples as an Apollo persisted-query
                          manifest, for TRUSTED_DOCUMENTS (default: stdout)
    seed-demo [--count N] add the example analysis and N other demo analyses (default 200)
    send-reports --due    send every email report due now, once (what the scheduler does)
    mint-token --role viewer|owner|admin [--analysis ID]... [--ttl 1h] [--sub NAME]
                          print a token signed with AUTH_JWT_SECRET (development, tests)
    help                  show this

Configuration comes from environment variables; see README.md.";

// glibc's malloc spent a fifth of a cached request's CPU (bench/profile.sh): mimalloc's
// thread-local free lists cost less for the many short-lived allocations of a GraphQL response.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stack of each runtime thread. Nothing should recurse deeply (documents are measured before
/// they are parsed, `graphql::limits`); this is the backstop should something still do so.
const THREAD_STACK: usize = 8 << 20;

fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let command = args.first().map(String::as_str);
    let logs_and_traces = matches!(
        command,
        None | Some("serve" | "migrate" | "seed-demo" | "send-reports")
    );
    let telemetry = logs_and_traces.then(|| telemetry::init(&config));
    let result = match command {
        None | Some("serve") => serve(config).await,
        Some("migrate") => migrate(config).await,
        Some("export-schema") => export_schema(args.get(1).map(String::as_str)),
        Some("export-operations") => export_operations(args.get(1).map(String::as_str)),
        Some("seed-demo") => seed_demo(config, &args[1..]).await,
        Some("send-reports") => send_reports(config, &args[1..]).await,
        Some("mint-token") => mint_token(&config, &args[1..]),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    };
    if let Some(t) = telemetry {
        t.shutdown().await;
    }
    code
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn serve(config: Config) -> Result<()> {
    tracing::info!(config = ?config, "starting");
    let app = startup::build(config, Arc::new(SystemClock)).await?;
    let listener = startup::bind(&app.config).await?;
    let addr = listener.local_addr()?;
    let shown = if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    tracing::info!(%addr, "listening");
    println!("Playground: http://{shown}/   GraphQL: http://{shown}/graphql");
    startup::serve(app, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM (drain first: an orchestrator is moving traffic away) or Ctrl-C (a person
/// at a terminal: stop now).
async fn shutdown_signal() -> startup::Stop {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => startup::Stop::Now,
        () = term => startup::Stop::Drain,
    }
}

async fn migrate(config: Config) -> Result<()> {
    let report = db::migrate::run(config.database_url.expose_secret()).await?;
    println!(
        "migrations applied: {}; badges inserted {:?}, updated {:?}, deactivated {:?}, unchanged {}",
        if report.applied.is_empty() { "none".to_owned() } else { report.applied.join(", ") },
        report.catalog.inserted,
        report.catalog.updated,
        report.catalog.deactivated,
        report.catalog.unchanged
    );
    Ok(())
}

fn export_schema(path: Option<&str>) -> Result<()> {
    let sdl = graphql::sdl();
    match path.unwrap_or("schema.graphql") {
        "-" => print!("{sdl}"),
        p => {
            std::fs::write(p, sdl)?;
            println!("wrote {p}");
        }
    }
    Ok(())
}

fn export_operations(path: Option<&str>) -> Result<()> {
    let manifest = graphql::operations::examples_manifest()?;
    let json = serde_json::to_string_pretty(&manifest)? + "\n";
    match path.unwrap_or("-") {
        "-" => print!("{json}"),
        p => {
            std::fs::write(p, json)?;
            println!("wrote {p}");
        }
    }
    Ok(())
}

async fn seed_demo(config: Config, args: &[String]) -> Result<()> {
    let count = match args {
        [] => 200,
        [flag, n] if flag == "--count" => n
            .parse()
            .map_err(|_| format!("--count takes a number, got {n:?}"))?,
        _ => return Err(format!("usage: seed-demo [--count N], got {args:?}").into()),
    };
    db::migrate::run(config.database_url.expose_secret()).await?;
    let mut conn = db::pool::establish(config.database_url.expose_secret(), 0).await?;
    let report = seed::seed_demo(&mut conn, count, SystemClock.now()).await?;
    println!(
        "demo data: {} analyses created, {} already there; example analysis {}",
        report.created,
        report.existing,
        seed::EXAMPLE_ANALYSIS_ID
    );
    Ok(())
}

async fn send_reports(mut config: Config, args: &[String]) -> Result<()> {
    if args != ["--due"] {
        return Err("usage: send-reports --due".into());
    }
    // One pass, here and now: no background tasks of the server's.
    config.reports_scheduler = false;
    config.cache_warm_count = 0;
    // It serves nothing: no token will ever reach it.
    config.auth_mode = progress_dashboard::config::AuthMode::Open;
    let app = startup::build(config, Arc::new(SystemClock)).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("static template"),
    );
    let now = SystemClock.now();
    let summary = progress_dashboard::service::reports::send_due(&app.services, now, |s| {
        bar.set_message(format!(
            "{} sent, {} failed of {} claimed",
            s.sent, s.failed, s.claimed
        ));
        bar.tick();
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "reports: {} due, {} sent, {} failed ({})",
        summary.claimed,
        summary.sent,
        summary.failed,
        app.services.state.reports.mailer.describe()
    );
    Ok(())
}

/// `mint-token`: claims from the flags, signed with `AUTH_JWT_SECRET`, printed alone on stdout.
fn mint_token(config: &Config, args: &[String]) -> Result<()> {
    let secret = config
        .auth_jwt_secret
        .as_ref()
        .ok_or("mint-token signs with AUTH_JWT_SECRET: set it")?;
    let mut role = None;
    let mut analyses = Vec::new();
    let mut ttl = 3600;
    let mut sub = "dev".to_owned();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]).into());
        };
        match flag.as_str() {
            "--role" => {
                role = Some(Role::parse(value).ok_or("--role takes viewer, owner or admin")?)
            }
            "--analysis" => analyses.push(
                uuid::Uuid::parse_str(value)
                    .map_err(|_| format!("--analysis {value:?} is not a UUID"))?
                    .into(),
            ),
            "--ttl" => {
                ttl = seconds(value).ok_or("--ttl takes a duration such as 90s, 30m, 1h or 7d")?
            }
            "--sub" => sub = value.clone(),
            other => return Err(format!("unknown flag {other:?}").into()),
        }
    }
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub,
        exp: now + ttl,
        iat: Some(now),
        role: role.ok_or("--role is required")?,
        analyses,
    };
    println!("{}", auth::mint(secret.expose_secret(), &claims)?);
    Ok(())
}

/// `90s`, `30m`, `1h`, `7d` or plain seconds.
fn seconds(value: &str) -> Option<i64> {
    let (number, unit) = match value.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&value[..i], c),
        _ => (value, 's'),
    };
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}
