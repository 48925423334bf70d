//! The specification's report endpoint: the document routes' behaviour (`http::documents`) under
//! `/api/v1`, described for the OpenAPI document.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::refusals::ReadRefusals;
use super::shapes::ErrorResponse;
use crate::http::documents::{self, Route};
use crate::http::App;

/// Generate on-demand a report of the dashboard (the specification's "PDF Report Generation"):
/// PDF or HTML, the sections asked for (`all` by default). A rendered document is kept an hour;
/// renders are limited per client and per analysis. Opens with the bearer token, or with the
/// `expires` and `signature` of a signed link (GraphQL's `reportUrl`, this API's dashboard
/// `Link` header) and no token.
#[utoipa::path(
    get,
    path = "/dashboard/{analysisId}/report/generate",
    operation_id = "generateReport",
    tag = "Dashboard",
    params(
        ("analysisId" = uuid::Uuid, Path, description = "Analysis UUID"),
        ("format" = Option<String>, Query, description = "pdf (default) or html", pattern = "^(pdf|html)?$"),
        ("sections" = Option<String>, Query, pattern = "^((all|summary|badges|metrics|opportunities)(,(all|summary|badges|metrics|opportunities))*)?$",
            description = "all (default), or a comma-separated list of summary, badges, metrics, opportunities"),
        ("lang" = Option<String>, Query, description = "fr (default) or en", pattern = "^(fr|en)?$"),
        ("expires" = Option<i64>, Query, description = "A signed link's expiry (seconds since the epoch)"),
        ("signature" = Option<String>, Query, description = "A signed link's signature"),
    ),
    responses(
        (status = 200, description = "The document",
            content((Vec<u8> = "application/pdf"), (String = "text/html")),
            headers(
                ("Content-Disposition" = String, description = "attachment; filename=\"dashboard-{analysis_id}.pdf\""),
                ("Cache-Control" = String, description = "max-age=3600 (public in open mode, private under tokens)"),
            )),
        (status = 403, description = "A signed link that was altered, is for another document, or expired", body = ErrorResponse),
        ReadRefusals,
    ),
    security((), ("bearer" = [])),
)]
pub async fn generate_report(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    documents::serve(Route::Api, app, peer, raw, params, headers).await
}
