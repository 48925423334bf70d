//! The toast page (`/toasts`) in headless Chromium: click, see the toast.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toast_page_in_a_real_browser() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/frontend");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/playwright-core")
            .exists(),
        "run `npm ci --prefix tests/frontend` first (scripts/test.sh does)"
    );
    let screenshot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/toasts.png");
    let out = tokio::process::Command::new("node")
        .arg("toasts.mjs")
        .current_dir(dir)
        .env("API_URL", &app.base)
        .env("ANALYSIS_ID", &id)
        .env("SCREENSHOT", screenshot)
        .output()
        .await
        .expect("node must be installed (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "toast page failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("toast page ok"), "{stdout}");
}
