//! An Apollo Client front end (Node, `tests/frontend/journey.mjs`) against the real server, in
//! `AUTH_MODE=jwt` with an admin's token on every request.

use progress_dashboard::domain::access::Role;

use crate::access::{jwt_app, token};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_client_journey() {
    let app = jwt_app().await;
    let admin = token(Role::Admin, &[]);
    let stdout = run_node(
        &app,
        "journey.mjs",
        "@apollo/client",
        &[("API_TOKEN", &admin)],
    )
    .await;
    assert!(stdout.contains("apollo journey ok"), "{stdout}");
}
