//! The request rate limit at the edge: every request to `/graphql` (a WebSocket upgrade counts
//! once) and `/reports` counts for its client address and, with a token, its subject;
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every answer, and past the
//! limit `RATE_LIMITED` with `retryAfter` and `Retry-After`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::{refuse, request_id, App};
use crate::config::Cidr;
use crate::domain::access::Caller;
use crate::error::AppError;
use crate::service::auth::Authenticator;
use crate::service::limiter::client_key;
use crate::service::rate_limit::RateLimit;

/// What the middleware needs, cheap to clone per request (the whole `App` is not).
#[derive(Clone)]
pub struct Limiting {
    limit: Arc<RateLimit>,
    auth: Arc<Authenticator>,
    trusted: Arc<[Cidr]>,
}

impl Limiting {
    /// `None` when the limit is off: then no middleware runs at all.
    pub fn of(app: &App) -> Option<Self> {
        app.services.rate_limit.enabled().then(|| Self {
            limit: app.services.rate_limit.clone(),
            auth: app.services.auth.clone(),
            trusted: app.config.trusted_proxies.clone().into(),
        })
    }
}

pub async fn limit(
    State(limiting): State<Limiting>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_address(peer.ip(), request.headers(), &limiting.trusted);
    let mut keys = vec![format!("addr:{}", client_key(client))];
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    if let Ok(known) = limiting.auth.caller(authorization) {
        if let Caller::Token(claims) = &known {
            // hashed: a subject may be an email address, and keys are visible to Redis operators
            let digest = format!("{:x}", Sha256::digest(claims.sub.as_bytes()));
            keys.push(format!("sub:{}", &digest[..24]));
        }
        // the handler takes it from here instead of checking the token again
        request.extensions_mut().insert(known);
    }
    let headers = request.headers();
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let standing = limiting.limit.hit(&keys, now).await;
    let mut response = if standing.allowed {
        next.run(request).await
    } else {
        let e = AppError::RateLimited {
            retry_after_secs: standing.reset_secs,
        };
        refuse(e, &request_id(headers))
    };
    let h = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", standing.limit),
        ("ratelimit-remaining", standing.remaining),
        ("ratelimit-reset", standing.reset_secs),
    ] {
        h.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    response
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
