//! An Apollo Client front end (Node, `tests/frontend/journey.mjs`) against the real server.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_client_journey() {
    let app = TestApp::spawn().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/frontend");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/@apollo/client")
            .exists(),
        "run `npm ci --prefix tests/frontend` first (scripts/test.sh does)"
    );
    let out = tokio::process::Command::new("node")
        .arg("journey.mjs")
        .current_dir(dir)
        .env("API_URL", &app.base)
        .output()
        .await
        .expect("node must be installed (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "journey failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("apollo journey ok"), "{stdout}");
}
