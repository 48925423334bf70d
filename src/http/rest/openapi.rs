//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers and shapes, and its
//! docs page (Swagger UI, vendored and served from this origin like the playground).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::handlers;
use super::shapes::*;
use crate::http::assets;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Progress dashboard REST API",
        version = "1.0.0",
        description = "The original specification's REST contract, served beside the GraphQL API \
            (`/graphql`) over the same services, access rules, rate limit and cache. Every call \
            carries a bearer token (`Authorization: Bearer <jwt>`) unless the server runs with \
            `AUTH_MODE=open`. Errors: `{error, detail, timestamp, request_id}`."
    ),
    servers((url = "/api/v1")),
    paths(
        handlers::get_dashboard,
        handlers::update_progress,
        handlers::get_recommendations,
        handlers::get_badges,
        handlers::subscribe_reports,
        super::report::generate_report,
    ),
    components(schemas(
        DashboardResponse, Identity, OpportunityWithProgress, ProgressSummary, Badge, Metrics,
        TimeSavedMetrics, MoneySavedMetrics, ProgressUpdateRequest, ProgressUpdateResponse,
        RecommendationsResponse, Recommendation, BadgesResponse, EmailSubscriptionRequest,
        EmailSubscriptionResponse, ErrorResponse, Category, Status, Frequency,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "Dashboard", description = "Progress, badges, savings and report emails of one analysis")),
)]
pub struct ApiDoc;

/// The bearer token scheme the document's `security` names.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document as JSON, built once.
pub static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the document serializes")
});

/// `GET /api/v1/openapi.json`.
pub async fn document() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        DOCUMENT.as_str(),
    )
}

/// The docs page, pointing at the vendored Swagger UI under the current asset path.
static DOCS_PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../../../playground/docs.html").replace("VERSION", &assets::VERSION)
});

/// `GET /api/v1/docs`.
pub async fn docs_page() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, assets::CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(DOCS_PAGE.as_str()),
    )
}
