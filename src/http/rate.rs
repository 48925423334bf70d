//! Who calls and how often, at the edge: every request to `/graphql` (a WebSocket upgrade counts
//! once) and `/reports` names its caller by its token, and counts for its client address and, with
//! a token, its subject; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every
//! answer, and past the limit `RATE_LIMITED` with `retryAfter` and `Retry-After`.
//!
//! A step the handlers take first rather than a middleware: a middleware layer cost the cached
//! dashboard about 5 % before it counted anything (boxed services cloned per request).

use std::future::Future;
use std::net::IpAddr;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

use super::{error_response, request_id, App};
use crate::config::Cidr;
use crate::domain::access::Caller;
use crate::error::AppError;
use crate::service::rate_limit::RateLimitStatus;

/// Runs `handle` with the caller the `Authorization` header names (an error for a header that
/// holds no valid token) unless the request is over the rate limit, and marks the answer with
/// where the caller stands.
pub async fn limited<F, Fut>(app: &App, peer: IpAddr, headers: &HeaderMap, handle: F) -> Response
where
    F: FnOnce(Result<Caller, AppError>) -> Fut,
    Fut: Future<Output = Response>,
{
    limited_as(app, peer, headers, error_response, handle).await
}

/// [`limited`], with the refusal rendered by `error_response` (the REST adapter's error body, say).
pub async fn limited_as<F, Fut>(
    app: &App,
    peer: IpAddr,
    headers: &HeaderMap,
    error_response: fn(AppError, &str) -> Response,
    handle: F,
) -> Response
where
    F: FnOnce(Result<Caller, AppError>) -> Fut,
    Fut: Future<Output = Response>,
{
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    let caller = app.services.auth.caller(authorization).await;
    let limit = &app.services.rate_limit;
    if !limit.enabled() {
        return handle(caller).await;
    }
    let client = client_of(app, peer, headers);
    let subject = match &caller {
        Ok(Caller::Token(claims)) => Some(claims.sub.as_str()),
        _ => None,
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let standing = limit.hit(client, subject, now).await;
    let mut response = if standing.allowed {
        handle(caller).await
    } else {
        crate::series::rate_limited("request");
        let e = AppError::RateLimited {
            retry_after_secs: standing.reset_secs,
        };
        error_response(e, &request_id(headers))
    };
    mark(&mut response, &standing);
    response
}

fn mark(response: &mut Response, standing: &RateLimitStatus) {
    let h = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", standing.limit),
        ("ratelimit-remaining", standing.remaining),
        ("ratelimit-reset", standing.reset_secs),
    ] {
        h.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// The client of a request as every per-client bound counts it (the rate limit, renders,
/// WebSocket connections): behind a trusted proxy, the address it forwards, never the proxy's.
pub fn client_of(app: &App, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    client_address(peer, headers, &app.config.server.trusted_proxies)
}

/// The client: the peer, or, when the peer is a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not one (a client can put anything at the start of that header).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => continue,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // behind two of ours: the address before them, not the one the client wrote first
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.9")
        );
        // from anywhere else the header is the client's own words
        assert_eq!(
            client_address(ip("198.51.100.7"), &headers, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &[]),
            ip("10.0.0.1")
        );
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("10.0.0.1")
        );
    }
}
