//! The downloadable report over HTTP, on two routes with one behaviour: the server's own
//! `/reports/{analysisId}` (shown inline) and the specification's
//! `/api/v1/dashboard/{analysis_id}/report/generate` (an attachment named
//! `dashboard-{analysis_id}.pdf`, its error body). A signed link (`expires` and `signature`, as
//! `reportUrl` makes them) opens the one document it names with no token, so a plain link or an
//! iframe works; without them the caller's token decides, as on every route. Either way the
//! per-client limit on renders applies.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{rate, request_id, App};
use crate::domain::access::Caller;
use crate::domain::ids::AnalysisId;
use crate::error::AppError;
use crate::reports::LinkRefusal;
use crate::service::documents;

/// Which route serves the document: its disposition and how it words a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/reports/{analysisId}`: inline, GraphQL's error body.
    Reports,
    /// `/api/v1/dashboard/{analysis_id}/report/generate`: an attachment, the REST error body.
    Api,
}

impl Route {
    fn error_response(self) -> fn(AppError, &str) -> Response {
        match self {
            Route::Reports => super::error_response,
            Route::Api => super::rest::error_response,
        }
    }
}

/// How long a browser or a cache may keep a document: the server keeps a rendered one an hour
/// (the specification's `max-age=3600`). Shared caches only in open mode: under tokens a
/// document is one caller's.
fn cache_control(caller: Option<&Caller>) -> &'static str {
    match caller {
        Some(Caller::Open) => "public, max-age=3600",
        _ => "private, max-age=3600",
    }
}

/// GET /reports/{analysisId}?format=pdf|html&sections=…|all&lang=fr|en[&expires=…&signature=…]
pub async fn reports_route(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(analysis_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(Route::Reports, app, peer, analysis_id, params, headers).await
}

/// Why no document was served.
enum Failure {
    App(AppError),
    Link(LinkRefusal),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

/// Either route's document (`rest::report` serves the specification's under `/api/v1`).
pub(crate) async fn serve(
    route: Route,
    app: App,
    peer: SocketAddr,
    raw_id: String,
    params: HashMap<String, String>,
    headers: HeaderMap,
) -> Response {
    let error_response = route.error_response();
    rate::limited_as(&app, peer.ip(), &headers, error_response, |caller| async {
        let id = request_id(&headers);
        let signed = params.contains_key("signature") || params.contains_key("expires");
        let shown_to = if signed {
            None
        } else {
            caller.as_ref().ok().cloned()
        };
        let client = rate::client_of(&app, peer.ip(), &headers);
        match answer(&app, caller, client, &raw_id, &params, signed).await {
            Ok((analysis_id, doc)) => respond(route, analysis_id, doc, shown_to.as_ref()),
            Err(Failure::App(e)) => error_response(e, &id),
            Err(Failure::Link(why)) => link_refused_response(route, why, &headers, &id),
        }
    })
    .await
}

async fn answer(
    app: &App,
    caller: Result<Caller, AppError>,
    client: IpAddr,
    raw_id: &str,
    params: &HashMap<String, String>,
    signed: bool,
) -> Result<(AnalysisId, documents::Document), Failure> {
    let param = |name: &str| params.get(name).map(String::as_str);
    let analysis_id = super::rest::handlers::analysis_id(raw_id)?;
    let format = documents::parse_format(param("format"))?;
    let sections = documents::parse_sections(param("sections"))?;
    let lang = documents::parse_lang(param("lang"))?;
    let now = app.services.state.clock.now();
    if signed {
        // the link is the grant: whatever token came with it (a browser sends none) is not asked
        app.services
            .state
            .reports
            .check_document_link(
                analysis_id,
                format,
                &sections,
                param("expires").unwrap_or_default(),
                param("signature").unwrap_or_default(),
                now,
            )
            .map_err(Failure::Link)?;
    } else {
        // an analysis the caller may not see is a 404, as an unknown one
        caller?
            .read(analysis_id)
            .map_err(|d| AppError::denied(d, Some(analysis_id)))?;
    }
    let doc = documents::document(
        &app.services,
        client,
        analysis_id,
        format,
        sections,
        lang,
        now,
    )
    .await?;
    Ok((analysis_id, doc))
}

fn respond(
    route: Route,
    analysis_id: AnalysisId,
    doc: documents::Document,
    caller: Option<&Caller>,
) -> Response {
    let extension = doc.format.as_str();
    let disposition = match route {
        Route::Reports => format!("inline; filename=\"report-{analysis_id}.{extension}\""),
        Route::Api => format!("attachment; filename=\"dashboard-{analysis_id}.{extension}\""),
    };
    (
        [
            (header::CONTENT_TYPE, doc.format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, cache_control(caller).to_owned()),
            (
                header::HeaderName::from_static("x-report-cache"),
                if doc.cached { "hit" } else { "miss" }.to_owned(),
            ),
        ],
        doc.bytes,
    )
        .into_response()
}

/// 403: a page for a browser (the link was opened), the route's error body for a program.
fn link_refused_response(
    route: Route,
    why: LinkRefusal,
    headers: &HeaderMap,
    request_id: &str,
) -> Response {
    let (title, body) = match why {
        LinkRefusal::Expired => ("page-link-expired-title", "page-link-expired-body"),
        LinkRefusal::Altered => ("page-invalid-title", "page-link-altered-body"),
    };
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !wants_html {
        // a program reads the server's own (English) words, or its reader's sentence with them
        let english = crate::domain::messages::text(crate::domain::reports::Lang::En, body);
        return route.error_response()(AppError::Forbidden(english), request_id);
    }
    let body = format!("<p>{}</p>", super::reports::words(body));
    super::reports::page(StatusCode::FORBIDDEN, &super::reports::words(title), &body)
}
