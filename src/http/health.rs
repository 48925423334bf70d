//! `/health`, and the other side of it: the check an image's HEALTHCHECK runs (the
//! `healthcheck` command), with no shell or curl in the image.

use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::error::BoxError;
use crate::release::{COMMIT, VERSION};

/// GET /health: the process answers, and which release it is.
pub async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok", "version": VERSION, "commit": COMMIT}))
}

/// Asks `url` (an instance's `/health`) within 3 s: its version and commit when it answers ok.
pub async fn check(url: &str) -> Result<(String, String), BoxError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?;
    let response = client.get(url).send().await.map_err(|e| {
        // reqwest's own words are "error sending request"; the innermost cause is what helps
        let mut cause = String::new();
        let mut next = std::error::Error::source(&e);
        while let Some(c) = next {
            cause = format!(": {c}");
            next = c.source();
        }
        format!("{url} does not answer{cause}")
    })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() || body["status"] != "ok" {
        return Err(format!("{url} answered {status}: {body}").into());
    }
    let field = |name: &str| body[name].as_str().unwrap_or("unknown").to_owned();
    Ok((field("version"), field("commit")))
}
