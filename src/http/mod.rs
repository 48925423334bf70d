//! The HTTP surface: `/graphql` (POST, GET, and WebSocket), the playground at `/`, `/health` and
//! `/ready`.

pub mod assets;
pub mod body;
pub mod documents;
pub mod graphql;
pub mod health;
pub mod negotiate;
pub mod rate;
mod reader;
pub mod reports;
pub mod request_ids;
pub mod rest;
pub mod serve;
pub mod shared;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{BoxError, Json, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, OnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::config::Config;
use crate::error::{json_error, AppError, ErrorCode};
use crate::graphql::pipeline::Pipeline;
use crate::service::Services;
use ws::WsGate;

/// The playground page with its example operations filled in (as JSON data: `</` escaped so
/// that no example can end the script element) and the current asset path.
static PLAYGROUND: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    include_str!("../../playground/index.html")
        .replace("VERSION", &assets::VERSION)
        .replace(
            "EXAMPLES",
            &crate::graphql::operations::EXAMPLES
                .trim()
                .replace("</", "<\\/"),
        )
});
/// Renders every metric series in Prometheus text format (`/metrics`).
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// What the handlers share, behind one `Arc`: axum clones the state for every request, and
/// cloning the services field by field cost the cached read 2.5 % (bench/profile.sh).
#[derive(Clone)]
pub struct App(Arc<AppData>);

impl App {
    pub fn new(data: AppData) -> Self {
        Self(Arc::new(data))
    }
}

impl std::ops::Deref for App {
    type Target = AppData;

    fn deref(&self) -> &AppData {
        &self.0
    }
}

/// The services, the GraphQL pipeline, and the HTTP layer's own memory.
pub struct AppData {
    pub services: Services,
    /// Every GraphQL request's path: persisted documents, limits, execution, errors, the bound.
    pub pipeline: Arc<Pipeline>,
    /// WebSocket connections held, per instance and per client address.
    pub ws_gate: Arc<WsGate>,
    /// Subscriptions run once for every connection that sent the same request.
    pub shared: Arc<shared::SharedRuns>,
    pub config: Arc<Config>,
    pub metrics: MetricsRender,
    /// Turns true when the server is stopping: `/ready` answers 503, sockets close with 1001.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

const REQUEST_ID: &str = "x-request-id";

/// Longest client-chosen request id kept; longer or unsafe ones are replaced.
const MAX_REQUEST_ID: usize = 64;

pub fn router(app: App) -> Router {
    let timeout = app.config.server.request_timeout;
    let in_flight = app.config.limits.max_requests_in_flight;
    let cors = cors(&app.config.server.allowed_origins);
    let metrics_here = app.config.telemetry.metrics_addr.is_none();
    let metrics = app.metrics.clone();
    // these three count against the rate limit (`rate::limited`); the pages and probes do not
    let router = Router::new()
        .route("/reports/{analysis_id}", get(documents::reports_route))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .nest("/api/v1", rest::routes())
        .route("/", get(playground))
        .route("/playground/{version}/{file}", get(assets::file))
        .route("/toasts", get(toasts))
        .route(
            "/unsubscribe/{token}",
            get(reports::unsubscribe_page).post(reports::unsubscribe),
        )
        .route(
            "/confirm/{token}",
            get(reports::confirm_page).post(reports::confirm),
        )
        .route("/health", get(health::health))
        .route("/ready", get(ready));
    // on its own address when METRICS_ADDR says so (`metrics_router`), so it need not be public
    let router = if metrics_here {
        router.merge(metrics_router(metrics))
    } else {
        router
    };
    router.with_state(app).layer(
        tower::ServiceBuilder::new()
            .map_request(keep_safe_request_id)
            .layer(SetRequestIdLayer::x_request_id(request_ids::MakeId))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(Finished),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(reader::ReaderLayer)
            // Past the bound, requests are shed at once rather than queued without end.
            .layer(HandleErrorLayer::new(overloaded))
            .load_shed()
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(in_flight))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                timeout,
            ))
            .layer(cors),
    )
}

/// The span of one HTTP request: its id, method and path in the logs; when traces are exported,
/// also named by its route, with its status, continuing the client's `traceparent` (those
/// fields cost each request a little in the logs' formatting, so only then).
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !crate::traces::exporting() {
        return tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        otel.name = %format_args!("{} {route}", req.method()),
        otel.kind = "server",
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    crate::traces::continue_trace(&span, req.headers());
    // the log lines of the request name its trace: from an alert's slow request to its trace
    crate::traces::record_trace_id(&span);
    span
}

/// Logs the response as before, and gives the request's span its status (traces only).
#[derive(Clone, Copy)]
struct Finished;

impl<B> OnResponse<B> for Finished {
    fn on_response(
        self,
        response: &axum::http::Response<B>,
        latency: Duration,
        span: &tracing::Span,
    ) {
        if crate::traces::exporting() {
            let status = response.status();
            span.record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                crate::traces::failed(span);
            }
        }
        DefaultOnResponse::new()
            .level(Level::INFO)
            .latency_unit(LatencyUnit::Micros)
            .on_response(response, latency, span);
    }
}

/// `/metrics` alone.
pub fn metrics_router<S: Clone + Send + Sync + 'static>(render: MetricsRender) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || async move {
            (
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                render(),
            )
        }),
    )
}

/// Browsers may call from the server's own origin and from `CORS_ALLOWED_ORIGINS` (`*`: any).
fn cors(allowed: &[String]) -> CorsLayer {
    let origins = if allowed.iter().any(|o| o == "*") {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(allowed.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(Any)
        .max_age(Duration::from_secs(3600))
}

/// The load shedder's refusal: 503 with `Retry-After`, in the error contract's shape.
async fn overloaded(_: BoxError) -> Response {
    let mut response = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServiceUnavailable,
        "the server is busy; retry in a second".into(),
        String::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// A client's `x-request-id` is kept only when short and made of safe characters (it is logged
/// and echoed); otherwise it is dropped and a new one made.
fn keep_safe_request_id<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let safe = request.headers().get(REQUEST_ID).is_none_or(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= MAX_REQUEST_ID
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
    });
    if !safe {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// An application error as this request's response (its id in the body).
pub(crate) fn error_response(e: AppError, request_id: &str) -> Response {
    crate::error::REQUEST_ID.sync_scope(request_id.to_owned(), || e.into_response())
}

pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn playground() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, assets::CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(PLAYGROUND.as_str()),
    )
}

/// A small page that moves opportunities and pops a toast on `badgeAwarded`.
async fn toasts() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Html(include_str!("../../playground/toasts.html")),
    )
}

/// Ready when the database answers within two seconds.
/// Whether this instance should get traffic, per dependency: PostgreSQL is required (503
/// without it), Redis is not (200 with `"redis": "degraded"`: reads go to PostgreSQL and events
/// stay local until it is back), nor is the read replica (`"replica": "lagging"` or
/// `"unreachable"`: its reads go to the primary); 503 `stopping` from SIGTERM on.
async fn ready(State(app): State<App>) -> Response {
    const CHECK: Duration = Duration::from_secs(2);
    let database = match tokio::time::timeout(CHECK, app.services.database_answers()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: PostgreSQL does not answer");
            "unreachable"
        }
        Err(_) => "timeout",
    };
    let redis = match &app.services.state.redis {
        None => "not configured",
        Some(redis) => match tokio::time::timeout(CHECK, redis.ping()).await {
            Ok(true) => "ok",
            _ => "degraded",
        },
    };
    // a replica that lags or is away costs nothing but its reads (they go to the primary)
    let replica =
        (app.services.state.replica.as_ref()).map_or("not configured", |r| r.standing().as_str());
    let stopping = *app.stopping.borrow();
    let (status, word) = match (stopping, database, redis) {
        (true, _, _) => (StatusCode::SERVICE_UNAVAILABLE, "stopping"),
        (_, "ok", "degraded") => (StatusCode::OK, "degraded"),
        (_, "ok", _) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let body = json!({"status": word, "database": database, "redis": redis, "replica": replica});
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
