//! The toast page (`/toasts`) in headless Chromium: click, see the toast.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toast_page_in_a_real_browser() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/toasts.png");
    let env = [("ANALYSIS_ID", id.as_str()), ("SCREENSHOT", screenshot)];
    let stdout = run_node(&app, "toasts.mjs", "playwright-core", &env).await;
    assert!(stdout.contains("toast page ok"), "{stdout}");
}
