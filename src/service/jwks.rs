//! The issuer's public keys from `AUTH_JWKS_URL`: fetched at start and every ten minutes, and
//! again when a token names a key not yet seen (at most every 30 s, one fetch at a time, so that
//! tokens with made-up `kid`s cannot make the server hammer the issuer). The answer is bounded in
//! time, size and keys; symmetric keys and unknown algorithms in it are skipped.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use thiserror::Error;

/// Longest wait for the issuer's answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest key set read.
const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most keys kept from one set.
const MAX_KEYS: usize = 64;
/// How often the set is fetched again anyway (keys that were withdrawn go).
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);

/// Signature algorithms a key in the set may verify: asymmetric ones only.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Debug, Error)]
pub enum JwksError {
    #[error("{0}")]
    Fetch(String),
    #[error("the key set is over {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the answer is not a JSON key set: {0}")]
    Json(String),
}

/// One usable key and the algorithm it verifies.
#[derive(Clone)]
pub struct Key {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

#[derive(Default)]
struct Fetched {
    keys: HashMap<String, Key>,
    at: Option<Instant>,
}

pub struct Jwks {
    url: String,
    /// Shortest time between two fetches.
    min_refetch: Duration,
    client: reqwest::Client,
    fetched: RwLock<Arc<Fetched>>,
    /// One fetch at a time; those who wait find the fresh set.
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub fn new(url: &str, min_refetch: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .expect("an HTTP client with rustls and webpki roots");
        Self {
            url: url.to_owned(),
            min_refetch,
            client,
            fetched: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key named `kid` (a token without one: the only key, if there is one).
    pub fn get(&self, kid: Option<&str>) -> Option<Key> {
        let fetched = self.fetched.read().expect("jwks lock").clone();
        match kid {
            Some(kid) => fetched.keys.get(kid).cloned(),
            None if fetched.keys.len() == 1 => fetched.keys.values().next().cloned(),
            None => None,
        }
    }

    /// Fetches the set again unless that was done in the last `min_refetch`; a failure keeps
    /// the keys held and is logged.
    pub async fn refresh(&self) {
        let _one = self.fetching.lock().await;
        let last = self.fetched.read().expect("jwks lock").at;
        if last.is_some_and(|at| at.elapsed() < self.min_refetch) {
            return;
        }
        let now = Instant::now();
        let keys = match self.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "JWKS fetched");
                keys
            }
            Err(e) => {
                tracing::warn!(error = %e, "JWKS not fetched; the keys held stay");
                self.fetched.read().expect("jwks lock").keys.clone()
            }
        };
        *self.fetched.write().expect("jwks lock") = Arc::new(Fetched {
            keys,
            at: Some(now),
        });
    }

    async fn fetch(&self) -> Result<HashMap<String, Key>, JwksError> {
        let fail = |e: reqwest::Error| JwksError::Fetch(e.without_url().to_string());
        let mut response = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(fail)?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(JwksError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(JwksError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        parse(&body)
    }
}

/// The usable keys of a JSON Web Key Set, by `kid`.
fn parse(body: &[u8]) -> Result<HashMap<String, Key>, JwksError> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|e| JwksError::Json(e.to_string()))?;
    let mut keys = HashMap::new();
    // a key that does not parse is skipped, not the whole set: issuers publish kinds we do not use
    for jwk in set
        .keys
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
    {
        if keys.len() == MAX_KEYS {
            break;
        }
        if let Some((kid, key)) = usable(&jwk) {
            keys.insert(kid, key);
        }
    }
    Ok(keys)
}

fn usable(jwk: &Jwk) -> Option<(String, Key)> {
    let kid = jwk.common.key_id.clone().unwrap_or_default();
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match jwk.common.key_algorithm {
        Some(named) => Algorithm::try_from(named).ok()?,
        None => implied(&jwk.algorithm)?,
    };
    let fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            algorithm,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => {
            matches!(algorithm, Algorithm::ES256 | Algorithm::ES384)
        }
        AlgorithmParameters::OctetKeyPair(_) => algorithm == Algorithm::EdDSA,
        // a shared secret published for all to see would let anyone sign
        _ => false,
    };
    if !fits || !ACCEPTED.contains(&algorithm) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, Key { key, algorithm }))
}

/// The algorithm a key without `alg` is for, from its type and curve.
fn implied(params: &AlgorithmParameters) -> Option<Algorithm> {
    match params {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_asymmetric_signing_keys_only() {
        let set = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "ec",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0", "alg": "HS256"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "mismatch", "alg": "RS256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "weird", "kid": "unknown"}
        ]});
        let keys = parse(set.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["ec"]);
        assert_eq!(keys["ec"].algorithm, Algorithm::ES256);
        assert!(parse(b"<html>").is_err());
    }
}
