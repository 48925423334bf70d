//! Report routes: the unsubscribe page (and RFC 8058 one-click POST) and the downloadable report.

use std::collections::HashMap;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use super::App;
use super::{rate, refuse, request_id};
use crate::domain::access::Caller;
use crate::domain::ids::AnalysisId;
use crate::error::{AppError, AppResult};
use crate::service::{confirmations, documents, reports};

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}}\
         button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#5b5fc7;color:#fff;cursor:pointer}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// A link's GET page: it only asks, and its button posts back (a link scanner acts on nothing).
fn ask(valid: bool, invalid: &str, title: &str, question: &str) -> Response {
    if !valid {
        return page(
            StatusCode::BAD_REQUEST,
            "Lien invalide / Invalid link",
            invalid,
        );
    }
    let body = format!(
        "<p>{question}</p><form method=\"post\"><button type=\"submit\">{title}</button></form>"
    );
    page(StatusCode::OK, title, &body)
}

/// A link's POST outcome: done, a bad link, or an error to retry later.
fn outcome(result: AppResult<()>, what: &str, title: &str, body: &str) -> Response {
    match result {
        Ok(()) => page(StatusCode::OK, title, body),
        Err(AppError::Internal(e)) => {
            tracing::error!(error = %e, "{what} failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Erreur / Error",
                "<p>Réessayez plus tard. / Please try again later.</p>",
            )
        }
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            "Lien invalide / Invalid link",
            &format!("<p>{e}</p>"),
        ),
    }
}

/// GET: asks before unsubscribing.
pub async fn unsubscribe_page(State(app): State<App>, Path(token): Path<String>) -> Response {
    ask(
        app.services.state.reports.verify(&token).is_some(),
        "<p>Ce lien de désabonnement est invalide ou a été modifié.</p><p>This unsubscribe link is invalid or was altered.</p>",
        "Se désabonner / Unsubscribe",
        "Ne plus recevoir les rapports par email ? / Stop receiving the email reports?",
    )
}

/// POST: one-click unsubscribe (the page's button, or a mail client per RFC 8058).
pub async fn unsubscribe(State(app): State<App>, Path(token): Path<String>) -> Response {
    outcome(
        reports::unsubscribe(&app.services, &token).await,
        "unsubscribe",
        "Désabonné / Unsubscribed",
        "<p>Vous ne recevrez plus ces rapports.</p><p>You will not receive these reports any more.</p>",
    )
}

/// GET: asks before confirming a subscription.
pub async fn confirm_page(State(app): State<App>, Path(token): Path<String>) -> Response {
    let reports = &app.services.state.reports;
    ask(
        reports.verify_confirmation(&token).is_some(),
        "<p>Ce lien de confirmation est invalide ou a été modifié.</p><p>This confirmation link is invalid or was altered.</p>",
        "Confirmer / Confirm",
        "Recevoir les rapports de progression à cette adresse ? / Receive the progress reports at this address?",
    )
}

/// POST: confirms the subscription.
pub async fn confirm(State(app): State<App>, Path(token): Path<String>) -> Response {
    let now = app.services.state.clock.now();
    outcome(
        confirmations::confirm(&app.services, &token, now).await,
        "confirmation",
        "Confirmé / Confirmed",
        "<p>Les rapports arriveront à cette adresse.</p><p>The reports will come to this address.</p>",
    )
}

/// GET /reports/{analysisId}?format=pdf|html&sections=summary,badges,metrics,opportunities&lang=fr|en
pub async fn document(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(analysis_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    rate::limited(&app, peer.ip(), &headers, |caller| async {
        let id = request_id(&headers);
        match caller {
            Ok(caller) => document_for(&app, caller, peer.ip(), &analysis_id, &params, id).await,
            Err(e) => refuse(e, &id),
        }
    })
    .await
}

async fn document_for(
    app: &App,
    caller: Caller,
    client: std::net::IpAddr,
    analysis_id: &str,
    params: &HashMap<String, String>,
    id: String,
) -> Response {
    let result = async {
        let analysis_id = Uuid::parse_str(analysis_id)
            .map(AnalysisId::from)
            .map_err(|_| AppError::invalid_input(format!("{analysis_id:?} is not a UUID")))?;
        // an analysis the caller may not see is a 404, as an unknown one
        caller
            .read(analysis_id)
            .map_err(|d| AppError::denied(d, Some(analysis_id)))?;
        let param = |name: &str| params.get(name).map(String::as_str);
        let format = documents::parse_format(param("format"))?;
        let sections = documents::parse_sections(param("sections"))?;
        let lang = documents::parse_lang(param("lang"))?;
        let now = app.services.state.clock.now();
        documents::document(
            &app.services,
            client,
            analysis_id,
            format,
            sections,
            lang,
            now,
        )
        .await
    }
    .await;
    match result {
        Ok(doc) => {
            let name = format!("report-{analysis_id}.{}", doc.format.as_str());
            (
                [
                    (header::CONTENT_TYPE, doc.format.content_type().to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("inline; filename=\"{name}\""),
                    ),
                    (
                        header::HeaderName::from_static("x-report-cache"),
                        if doc.cached { "hit" } else { "miss" }.to_owned(),
                    ),
                ],
                doc.bytes,
            )
                .into_response()
        }
        Err(e) => refuse(e, &id),
    }
}
