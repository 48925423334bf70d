//! An Apollo Client front end (Node, `tests/frontend/journey.mjs`) against the real server, in
//! `AUTH_MODE=jwt` with an admin's token on every request.

use progress_dashboard::domain::access::Role;

use crate::access::{jwt_app, jwt_mode, token};
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

/// Automatic persisted queries through Apollo Client's `PersistedQueryLink`: one miss and one
/// registration, then the hash alone, by GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_persisted_query_link() {
    let app = jwt_app().await;
    let viewer = token(Role::Viewer, &[]);
    let env = [("API_TOKEN", viewer.as_str()), ("MODE", "apq")];
    let stdout = run_node(&app, "persisted.mjs", "@apollo/client", &env).await;
    assert!(stdout.contains("apq ok"), "{stdout}");
}

/// Trusted documents: the manifest holds the client's document as Apollo Client sends it; that
/// document runs by its hash alone, and any other is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_against_trusted_documents() {
    let app = jwt_app().await;
    let viewer = token(Role::Viewer, &[]);
    let env = [("API_TOKEN", viewer.as_str()), ("MODE", "manifest")];
    let manifest = run_node(&app, "persisted.mjs", "@apollo/client", &env).await;
    let path = std::env::temp_dir().join(format!("apollo-manifest-{}.json", std::process::id()));
    std::fs::write(&path, manifest).unwrap();
    let trusted = app
        .spawn_sibling(|c| {
            jwt_mode(c);
            c.server.trusted_documents = Some(path);
        })
        .await;
    let env = [("API_TOKEN", viewer.as_str()), ("MODE", "trusted")];
    let stdout = run_node(&trusted, "persisted.mjs", "@apollo/client", &env).await;
    assert!(stdout.contains("trusted ok"), "{stdout}");
}
