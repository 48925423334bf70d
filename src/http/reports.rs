//! Report email links: the unsubscribe page (and RFC 8058 one-click POST) and the confirmation
//! page. The downloadable report is `documents`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::App;
use crate::error::{AppError, AppResult};
use crate::service::{confirmations, reports};

/// A small bilingual page (link outcomes), never kept by a cache.
pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
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
