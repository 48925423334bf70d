//! The command line: `serve` (the default), `migrate`, `export-schema`, `export-operations`,
//! `seed-demo`, `send-reports`, `mint-token`. Arguments are read (and `--help` answered) before
//! the configuration or the database is touched.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use progress_dashboard::clock::{Clock, SystemClock};
use progress_dashboard::config::Config;
use progress_dashboard::domain::access::{Claims, Role};
use progress_dashboard::domain::values::Subject;
use progress_dashboard::service::{auth, seed};
use progress_dashboard::{db, graphql, startup, telemetry};
use secrecy::ExposeSecret;

/// The progress dashboard API: a GraphQL server (and the specification's REST endpoints) for
/// following automation opportunities, progress, badges and savings.
#[derive(Parser)]
#[command(
    name = "progress-dashboard",
    version = progress_dashboard::release::VERSION_LINE,
    after_help = "Configuration comes from environment variables: see docs/configuration.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then serve GraphQL, REST and the playground on HOST:PORT (the default)
    Serve,
    /// Apply pending migrations and sync the badge catalog (badges.toml), then exit; with --to,
    /// go back to an earlier migration version instead
    Migrate {
        /// Run the down migrations newer than this version (as `migrate` prints it, e.g.
        /// 20261207000002), newest first
        #[arg(long, value_name = "VERSION", value_parser = parse_version)]
        to: Option<String>,
        /// Allow steps that drop a table or column holding data (refused otherwise, naming each)
        #[arg(long, requires = "to")]
        allow_data_loss: bool,
    },
    /// Ask this instance's /health (on PORT, or --url) and exit 0 when it answers ok: the
    /// image's HEALTHCHECK, with no shell or curl in the image
    Healthcheck {
        /// The health URL [default: http://127.0.0.1:$PORT/health]
        #[arg(long)]
        url: Option<String>,
    },
    /// Write the GraphQL schema (SDL) generated from the code
    ExportSchema {
        /// Where to write it; - for standard output
        #[arg(default_value = "schema.graphql")]
        path: String,
    },
    /// Write the playground's examples as an Apollo persisted-query manifest, for TRUSTED_DOCUMENTS
    ExportOperations {
        /// Where to write it; - for standard output
        #[arg(default_value = "-")]
        path: String,
    },
    /// Add the specification's example analysis and COUNT other demo analyses at various stages
    SeedDemo {
        /// Demo analyses besides the example (0 to 100000)
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        count: u32,
    },
    /// Send every email report due now, once (what the scheduler does), then exit
    SendReports {
        /// Send what is due now (required: it says what the command does)
        #[arg(long, required = true)]
        due: bool,
    },
    /// Print a token signed with AUTH_JWT_SECRET (development and tests)
    MintToken {
        /// viewer, owner or admin
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// An analysis the token may touch (repeat for several)
        #[arg(long = "analysis", value_name = "UUID")]
        analyses: Vec<uuid::Uuid>,
        /// How long the token holds: 90s, 30m, 1h, 7d or plain seconds
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: i64,
        /// The token's subject (who it stands for)
        #[arg(long, default_value = "dev", value_parser = parse_sub)]
        sub: String,
    },
}

/// `20261207000002`, or a migration's folder name (`2026-12-07-000002_language`) for it.
fn parse_version(value: &str) -> std::result::Result<String, String> {
    let version = db::rollback::version_of(value);
    match version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()) {
        true => Ok(version),
        false => Err("use a migration version of 14 digits, such as 20261207000002".into()),
    }
}

fn parse_role(value: &str) -> std::result::Result<Role, String> {
    Role::parse(value).ok_or_else(|| "use viewer, owner or admin".into())
}

fn parse_ttl(value: &str) -> std::result::Result<i64, String> {
    seconds(value).ok_or_else(|| "use a duration such as 90s, 30m, 1h or 7d".into())
}

fn parse_sub(value: &str) -> std::result::Result<String, String> {
    Subject::parse("--sub", value)
        .map(|s| s.as_str().to_owned())
        .map_err(|e| e.to_string())
}

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
    // --help, --version and argument errors exit here, before anything else is read
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let logs_and_traces = matches!(
        command,
        Command::Serve
            | Command::Migrate { .. }
            | Command::SeedDemo { .. }
            | Command::SendReports { .. }
    );
    let telemetry = logs_and_traces.then(|| telemetry::init(&config));
    let result = match command {
        Command::Serve => serve(config).await,
        Command::Migrate { to: None, .. } => migrate(config).await,
        Command::Migrate {
            to: Some(to),
            allow_data_loss,
        } => migrate_to(config, &to, allow_data_loss).await,
        Command::Healthcheck { url } => healthcheck(&config, url).await,
        Command::ExportSchema { path } => export_schema(&path),
        Command::ExportOperations { path } => export_operations(&path),
        Command::SeedDemo { count } => seed_demo(config, count as usize).await,
        Command::SendReports { .. } => send_reports(config).await,
        Command::MintToken {
            role,
            analyses,
            ttl,
            sub,
        } => mint_token(&config, role, analyses, ttl, sub),
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
    let report = db::migrate::run(config.database.url.expose_secret()).await?;
    println!(
        "migrations applied: {}; badges inserted {:?}, updated {:?}, deactivated {:?}, restored {:?}, unchanged {}",
        if report.applied.is_empty() { "none".to_owned() } else { report.applied.join(", ") },
        report.catalog.inserted,
        report.catalog.updated,
        report.catalog.deactivated,
        report.catalog.restored,
        report.catalog.unchanged
    );
    for missing in &report.catalog.untranslated {
        eprintln!("warning: badge catalog: no {missing}; the French text is shown instead");
    }
    if let Some(version) = &report.schema_version {
        println!("schema version: {version}");
    }
    Ok(())
}

async fn migrate_to(config: Config, to: &str, allow_data_loss: bool) -> Result<()> {
    let url = config.database.url.expose_secret();
    let steps = db::rollback::revert_to(url, to, allow_data_loss).await?;
    if steps.is_empty() {
        println!("schema version: {to} already; nothing to revert");
    }
    for step in &steps {
        let dropped = match step.drops.is_empty() {
            true => String::new(),
            false => format!(" (dropped {})", step.drops.join(", ")),
        };
        println!("reverted {} {}{dropped}", step.version, step.name);
    }
    println!("schema version: {to}");
    Ok(())
}

async fn healthcheck(config: &Config, url: Option<String>) -> Result<()> {
    let url = url.unwrap_or_else(|| format!("http://127.0.0.1:{}/health", config.server.port));
    let (version, commit) = progress_dashboard::http::health::check(&url).await?;
    println!("{url}: ok, version {version} (commit {commit})");
    Ok(())
}

fn export_schema(path: &str) -> Result<()> {
    let sdl = graphql::sdl();
    match path {
        "-" => print!("{sdl}"),
        p => {
            std::fs::write(p, sdl)?;
            println!("wrote {p}");
        }
    }
    Ok(())
}

fn export_operations(path: &str) -> Result<()> {
    let manifest = graphql::operations::examples_manifest()?;
    let json = serde_json::to_string_pretty(&manifest)? + "\n";
    match path {
        "-" => print!("{json}"),
        p => {
            std::fs::write(p, json)?;
            println!("wrote {p}");
        }
    }
    Ok(())
}

async fn seed_demo(config: Config, count: usize) -> Result<()> {
    db::migrate::run(config.database.url.expose_secret()).await?;
    let url = config.database.url.expose_secret();
    let mut conn = db::pool::establish(url, 0)
        .await
        .map_err(|e| db::pool::unreachable(url, e))?;
    let report = seed::seed_demo(&mut conn, count, SystemClock.now()).await?;
    println!(
        "demo data: {} analyses created, {} already there; example analysis {}",
        report.created,
        report.existing,
        seed::EXAMPLE_ANALYSIS_ID
    );
    Ok(())
}

async fn send_reports(mut config: Config) -> Result<()> {
    // One pass, here and now: no background tasks of the server's.
    config.reports.scheduler = false;
    config.cache.warm_count = 0;
    // It serves nothing: no token will ever reach it.
    config.auth.mode = progress_dashboard::config::AuthMode::Open;
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
fn mint_token(
    config: &Config,
    role: Role,
    analyses: Vec<uuid::Uuid>,
    ttl: i64,
    sub: String,
) -> Result<()> {
    let secret = config
        .auth
        .jwt_secret
        .as_ref()
        .ok_or("mint-token signs with AUTH_JWT_SECRET: set it")?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub,
        exp: now + ttl,
        iat: Some(now),
        role,
        analyses: analyses.into_iter().map(Into::into).collect(),
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
    // at most ten years: more is a typo
    n.checked_mul(unit).filter(|s| *s <= 10 * 365 * 86_400)
}
