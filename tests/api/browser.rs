//! The toast page (`/toasts`) in headless Chromium: click, see the toast; in `AUTH_MODE=jwt`, with
//! the owner's token in the page's URL (`?token=`).

use progress_dashboard::domain::access::Role;

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
