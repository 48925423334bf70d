//! Which media type a GraphQL response goes out as, from the request's `Accept` (the
//! GraphQL-over-HTTP specification): `application/graphql-response+json` when the client accepts
//! it, with status codes that tell a request refused before execution (400) from a result (200);
//! `application/json` for `application/json`, `*/*`, `application/*` or no `Accept`, always 200
//! for a well-formed request; neither: 406.

use axum::http::{header, HeaderMap};

/// The media types a GraphQL response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`.
    GraphQL,
    /// `application/json`.
    Json,
}

impl ResponseType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphQL => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }

    /// From `Accept`; `None` when it names neither type (406).
    pub fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers.get(header::ACCEPT) else {
            return Some(Self::Json);
        };
        let accept = accept.to_str().ok()?;
        if accept.trim().is_empty() {
            return Some(Self::Json);
        }
        let mut best: Option<(f32, Self)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").map(str::trim))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let kind = match media.as_str() {
                "application/graphql-response+json" => Self::GraphQL,
                "application/json" | "application/*" | "*/*" => Self::Json,
                _ => continue,
            };
            if q <= 0.0 {
                continue;
            }
            // The higher q wins; on a tie, graphql-response+json (the specification's own).
            let better = match best {
                None => true,
                Some((bq, bk)) => {
                    q > bq || (q == bq && kind == Self::GraphQL && bk != Self::GraphQL)
                }
            };
            if better {
                best = Some((q, kind));
            }
        }
        best.map(|(_, k)| k)
    }
}

/// The language a request asks for (`Accept-Language`), if it is one of ours.
pub fn reader(headers: &axum::http::HeaderMap) -> Option<crate::domain::reports::Lang> {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::domain::reports::Lang::negotiate)
}
