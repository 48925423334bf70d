//! The toast page (`/toasts`) in headless Chromium: click, see the toast; in `AUTH_MODE=jwt`, with
//! the owner's token in the page's URL (`?token=`).

use progress_dashboard::domain::access::Role;
use progress_dashboard::service::seed::{seed_demo, EXAMPLE_ANALYSIS_ID};

use crate::access::{jwt_app, token, two_analyses};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toast_page_in_a_real_browser() {
    let app = jwt_app().await;
    let (id, _) = two_analyses(&app).await;
    let owner = token(Role::Owner, &[&id]);
    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/toasts.png");
    let env = [
        ("ANALYSIS_ID", id.as_str()),
        ("SCREENSHOT", screenshot),
        ("API_TOKEN", owner.as_str()),
    ];
    let stdout = run_node(&app, "toasts.mjs", "playwright-core", &env).await;
    assert!(stdout.contains("toast page ok"), "{stdout}");
}

/// The playground with every other host unreachable: it loads, the Dashboard example runs, and a
/// BadgeToasts subscription started in the page shows the award a mutation earns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playground_in_a_real_browser_offline() {
    let app = jwt_app().await;
    let mut conn = app.db.conn().await;
    seed_demo(&mut conn, 0, t0()).await.unwrap();
    let id = EXAMPLE_ANALYSIS_ID.to_string();
    let owner = token(Role::Owner, &[&id]);
    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/playground.png");
    let env = [
        ("ANALYSIS_ID", id.as_str()),
        ("SCREENSHOT", screenshot),
        ("API_TOKEN", owner.as_str()),
    ];
    let stdout = run_node(&app, "playground.mjs", "playwright-core", &env).await;
    assert!(stdout.contains("playground ok"), "{stdout}");
}

/// Every tab of the playground runs as it opens, the first one with no click at all, in a fresh
/// browser profile and again after a reload; each answer has data and no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_playground_tab_runs_as_it_opens() {
    let app = TestApp::spawn_with(|c| {
        crate::access::jwt_mode(c);
        c.live.platform_kpi_tick = Some(std::time::Duration::from_millis(500));
    })
    .await;
    let mut conn = app.db.conn().await;
    seed_demo(&mut conn, 0, t0()).await.unwrap();
    let admin = token(Role::Admin, &[]);
    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/playground-tabs.png");
    let env = [
        ("ANALYSIS_ID", EXAMPLE_ANALYSIS_ID.to_string()),
        ("SCREENSHOT", screenshot.to_owned()),
        ("API_TOKEN", admin),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stdout = run_node(&app, "playground_tabs.mjs", "playwright-core", &env).await;
    assert!(stdout.contains("playground tabs ok"), "{stdout}");
}
