//! An Apollo Client front end (Node, `tests/frontend/journey.mjs`) against the real server.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_client_journey() {
    let app = TestApp::spawn().await;
    let stdout = run_node(&app, "journey.mjs", "@apollo/client", &[]).await;
    assert!(stdout.contains("apollo journey ok"), "{stdout}");
}
