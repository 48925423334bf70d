//! Report email links: the unsubscribe page (and RFC 8058 one-click POST) and the confirmation
//! page. The downloadable report is `documents`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::App;
use crate::domain::messages;
use crate::error::{AppError, AppResult};
use crate::service::{confirmations, reports};

/// A message of the reader's language (`Accept-Language`, else French).
pub(super) fn words(id: &str) -> String {
    messages::text(crate::error::reader().unwrap_or_default(), id)
}

/// A small page (link outcomes) in the reader's language, never kept by a cache.
pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let lang = crate::error::reader().unwrap_or_default().as_str();
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}}\
         button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#5b5fc7;color:#fff;cursor:pointer}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        (header::VARY, "accept-language"),
    ];
    (status, headers, Html(html)).into_response()
}

/// A link's GET page: it only asks, and its button posts back (a link scanner acts on nothing).
fn ask(valid: bool, invalid: &str, title: &str, question: &str) -> Response {
    if !valid {
        let body = format!("<p>{}</p>", words(invalid));
        return page(StatusCode::BAD_REQUEST, &words("page-invalid-title"), &body);
    }
    let title = words(title);
    let body = format!(
        "<p>{}</p><form method=\"post\"><button type=\"submit\">{title}</button></form>",
        words(question)
    );
    page(StatusCode::OK, &title, &body)
}

/// A link's POST outcome: done, a bad link, or an error to retry later.
fn outcome(result: AppResult<()>, what: &str, title: &str, body: &str) -> Response {
    match result {
        Ok(()) => page(
            StatusCode::OK,
            &words(title),
            &format!("<p>{}</p>", words(body)),
        ),
        Err(AppError::Internal(e)) => {
            tracing::error!(error = %e, "{what} failed");
            let body = format!("<p>{}</p>", words("page-error-body"));
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &words("page-error-title"),
                &body,
            )
        }
        Err(e) => {
            let (message, _) = crate::error::for_reader(e.code().as_str(), e.to_string());
            let body = format!("<p>{}</p>", crate::reports::html_escape(&message));
            page(StatusCode::BAD_REQUEST, &words("page-invalid-title"), &body)
        }
    }
}

/// GET: asks before unsubscribing.
pub async fn unsubscribe_page(State(app): State<App>, Path(token): Path<String>) -> Response {
    ask(
        app.services.state.reports.verify(&token).is_some(),
        "page-unsubscribe-invalid",
        "page-unsubscribe-title",
        "page-unsubscribe-question",
    )
}

/// POST: one-click unsubscribe (the page's button, or a mail client per RFC 8058).
pub async fn unsubscribe(State(app): State<App>, Path(token): Path<String>) -> Response {
    outcome(
        reports::unsubscribe(&app.services, &token).await,
        "unsubscribe",
        "page-unsubscribed-title",
        "page-unsubscribed-body",
    )
}

/// GET: asks before confirming a subscription.
pub async fn confirm_page(State(app): State<App>, Path(token): Path<String>) -> Response {
    let reports = &app.services.state.reports;
    ask(
        reports.verify_confirmation(&token).is_some(),
        "page-confirm-invalid",
        "page-confirm-title",
        "page-confirm-question",
    )
}

/// POST: confirms the subscription.
pub async fn confirm(State(app): State<App>, Path(token): Path<String>) -> Response {
    let now = app.services.state.clock.now();
    outcome(
        confirmations::confirm(&app.services, &token, now).await,
        "confirmation",
        "page-confirmed-title",
        "page-confirmed-body",
    )
}
