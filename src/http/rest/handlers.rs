//! The five endpoints of the specification, each a thin adapter: the caller and the rate limit
//! (`rate::limited_as`), the access rule, one service call, the shape. The `#[utoipa::path]`
//! attributes are their part of the OpenAPI document.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::refusals::{ReadRefusals, WriteRefusals};
use super::shapes::*;
use super::{error_body, error_response, json};
use crate::domain::access::Caller;
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;
use crate::domain::reports::{DocumentFormat, Lang, Section};
use crate::error::AppError;
use crate::http::body::{read_json, BodyError};
use crate::http::{rate, request_id, App};
use crate::reports::DocumentRoute;
use crate::service::reports::{self, SubscribeSpec};
use crate::service::update_progress;

/// Why a request was refused: an application error, or a body that could not be read.
enum Failure {
    App(AppError),
    Body(BodyError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl Failure {
    fn respond(self, request_id: &str) -> Response {
        match self {
            Self::App(e) => error_response(e, request_id),
            Self::Body(b) => error_body(b.status(), "INVALID_INPUT", b.message(), request_id),
        }
    }
}

/// Runs `answer` with the caller, under the rate limit; its failure in the error body.
async fn handle<F, Fut>(app: &App, peer: SocketAddr, headers: &HeaderMap, answer: F) -> Response
where
    F: FnOnce(Result<Caller, AppError>) -> Fut,
    Fut: std::future::Future<Output = Result<Response, Failure>>,
{
    rate::limited_as(
        app,
        peer.ip(),
        headers,
        error_response,
        |caller| async move {
            answer(caller)
                .await
                .unwrap_or_else(|f| f.respond(&request_id(headers)))
        },
    )
    .await
}

/// The analysis id of a path segment, or INVALID_INPUT showing (the start of) what came.
pub(crate) fn analysis_id(raw: &str) -> Result<AnalysisId, AppError> {
    uuid::Uuid::parse_str(raw)
        .map(AnalysisId::from)
        .map_err(|_| {
            AppError::invalid_input(format!("analysisId must be a UUID, got {:?}", short(raw)))
        })
}

fn short(s: &str) -> &str {
    s.char_indices().nth(40).map_or(s, |(i, _)| &s[..i])
}

/// The dashboard, for a caller who may read it (a hidden one is not found, as an unknown one).
async fn readable(
    app: &App,
    caller: Result<Caller, AppError>,
    raw: &str,
) -> Result<Arc<DashboardData>, AppError> {
    let caller = caller?;
    let id = analysis_id(raw)?;
    caller.read(id).map_err(|d| AppError::denied(d, Some(id)))?;
    app.services
        .dashboards
        .load(&[id])
        .await?
        .remove(&id)
        .ok_or(AppError::AnalysisNotFound(id))
}

/// A GET: one view of the dashboard, with its ETag.
async fn view<T: Serialize>(
    app: App,
    peer: SocketAddr,
    raw: String,
    headers: HeaderMap,
    shape: fn(&DashboardData, Lang) -> T,
) -> Response {
    handle(&app, peer, &headers, |caller| async {
        let data = readable(&app, caller, &raw).await?;
        let lang = crate::http::negotiate::reader(&headers).unwrap_or(data.analysis.language);
        Ok(json(StatusCode::OK, &shape(&data, lang), Some(&headers)))
    })
    .await
}

/// For a caller who may change the analysis: its id and the request's JSON body.
async fn writable<T: DeserializeOwned>(
    app: &App,
    caller: Result<Caller, AppError>,
    raw: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Caller, AnalysisId, T), Failure> {
    let caller = caller?;
    let id = analysis_id(raw)?;
    caller
        .write(id)
        .map_err(|d| AppError::denied(d, Some(id)))?;
    let bytes = read_json(headers, body, app.config.limits.max_body_bytes)
        .await
        .map_err(Failure::Body)?;
    let request = serde_json::from_slice(&bytes).map_err(|e| {
        let detail = e.to_string();
        let detail = crate::graphql::limits::shorten(&detail).unwrap_or(detail);
        AppError::invalid_input(format!("invalid body: {detail}"))
    })?;
    Ok((caller, id, request))
}

/// Get dashboard data: the analysis' identity, opportunities with their progress, badges and
/// time and money saved.
#[utoipa::path(
    get,
    path = "/dashboard/{analysisId}",
    operation_id = "getDashboard",
    tag = "Dashboard",
    params(("analysisId" = uuid::Uuid, Path, description = "Analysis UUID")),
    responses(
        (status = 200, description = "Dashboard data retrieved", body = DashboardResponse,
            headers(
                ("ETag" = String, description = "Send it back in If-None-Match"),
                ("Link" = String, description = "<signed report URL>; rel=\"alternate\"; type=\"application/pdf\": the dashboard's report, opened with no token until the link expires"),
            )),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        ReadRefusals,
    )
)]
pub async fn get_dashboard(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    handle(&app, peer, &headers, |caller| async {
        let data = readable(&app, caller, &raw).await?;
        let lang = crate::http::negotiate::reader(&headers).unwrap_or(data.analysis.language);
        let mut response = json(
            StatusCode::OK,
            &DashboardResponse::new(&data, lang),
            Some(&headers),
        );
        // the report of this dashboard, signed so that a plain link opens it (no body change:
        // the body is the specification's shape)
        let link = app.services.state.reports.document_link(
            DocumentRoute::Api,
            data.analysis.id,
            DocumentFormat::Pdf,
            &Section::ALL,
            app.services.state.clock.now(),
        );
        let value = format!(
            "<{}>; rel=\"alternate\"; type=\"application/pdf\"",
            link.url
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::LINK, value);
        }
        Ok(response)
    })
    .await
}

/// Get actionable recommendations: the NOT_STARTED opportunities, best first
/// (hours_per_week / complexity_level; ties: lower complexity first).
#[utoipa::path(
    get,
    path = "/dashboard/{analysisId}/recommendations",
    operation_id = "getRecommendations",
    tag = "Dashboard",
    params(("analysisId" = uuid::Uuid, Path, description = "Analysis UUID")),
    responses(
        (status = 200, description = "Recommendations retrieved", body = RecommendationsResponse,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        ReadRefusals,
    )
)]
pub async fn get_recommendations(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    view(app, peer, raw, headers, RecommendationsResponse::new).await
}

/// Get the badges earned for this analysis, oldest first.
#[utoipa::path(
    get,
    path = "/dashboard/{analysisId}/badges",
    operation_id = "getBadges",
    tag = "Dashboard",
    params(("analysisId" = uuid::Uuid, Path, description = "Analysis UUID")),
    responses(
        (status = 200, description = "Badges retrieved", body = BadgesResponse,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        ReadRefusals,
    )
)]
pub async fn get_badges(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    view(app, peer, raw, headers, BadgesResponse::new).await
}

/// Update progress on an opportunity: moves its status (IMPLEMENTED back to IN_PROGRESS is
/// refused) and lists the badges the change earned (an owner's operation).
#[utoipa::path(
    post,
    path = "/dashboard/{analysisId}/progress",
    operation_id = "updateProgress",
    tag = "Dashboard",
    params(("analysisId" = uuid::Uuid, Path, description = "Analysis UUID")),
    request_body(content = ProgressUpdateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Progress updated", body = ProgressUpdateResponse),
        (status = 400, description = "Invalid request body, or a status change the rules error_response (INVALID_TRANSITION)", body = ErrorResponse),
        (status = 404, description = "Analysis or opportunity not found", body = ErrorResponse),
        WriteRefusals,
    )
)]
pub async fn update_progress(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&app, peer, &headers, |caller| async {
        let (caller, analysis_id, request) =
            writable::<ProgressUpdateRequest>(&app, caller, &raw, &headers, body).await?;
        let opportunity_id = request.opportunity_id.trim().to_owned();
        let change = update_progress::ProgressChange {
            analysis_id,
            opportunity_id: opportunity_id.clone(),
            status: request.status.into(),
            hourly_rate: request.hourly_rate,
            actor: caller.subject().map(str::to_owned),
        };
        let now = app.services.state.clock.now();
        let outcome = update_progress::apply(&app.services, change, now).await?;
        let shape = ProgressUpdateResponse::new(
            &outcome.dashboard,
            &opportunity_id,
            &outcome.new_badges,
            crate::http::negotiate::reader(&headers).unwrap_or(outcome.dashboard.analysis.language),
        )
        .ok_or_else(|| AppError::internal("updated opportunity missing"))?;
        Ok(json(StatusCode::OK, &shape, None))
    })
    .await
}

/// Subscribe an email to weekly or monthly reports (an owner's operation). The address gets a
/// confirmation link; reports start once it is followed. Subscribing again updates the
/// subscription.
#[utoipa::path(
    post,
    path = "/dashboard/{analysisId}/subscribe",
    operation_id = "subscribeReports",
    tag = "Dashboard",
    params(("analysisId" = uuid::Uuid, Path, description = "Analysis UUID")),
    request_body(content = EmailSubscriptionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Subscription created (or updated)", body = EmailSubscriptionResponse),
        (status = 400, description = "Invalid email, frequency or rate", body = ErrorResponse),
        (status = 404, description = "Analysis not found", body = ErrorResponse),
        WriteRefusals,
    )
)]
pub async fn subscribe_reports(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&app, peer, &headers, |caller| async {
        let (caller, analysis_id, request) =
            writable::<EmailSubscriptionRequest>(&app, caller, &raw, &headers, body).await?;
        let spec = SubscribeSpec {
            analysis_id,
            email: request.email,
            frequency: request.frequency.into(),
            hourly_rate: request.hourly_rate,
            // the REST shape names no language: the one asked for, else the analysis'
            lang: crate::http::negotiate::reader(&headers),
        };
        let now = app.services.state.clock.now();
        let sub = reports::subscribe(&app.services, spec, caller.subject(), now).await?;
        Ok(json(
            StatusCode::CREATED,
            &EmailSubscriptionResponse::from(&sub),
            None,
        ))
    })
    .await
}
