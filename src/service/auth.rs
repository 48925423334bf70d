//! Who is calling: bearer tokens (JWT) verified once, then remembered by their hash until they
//! expire, so that a client reusing its token pays for the signature check once.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::config::{AuthMode, Config};
use crate::domain::access::{Caller, Claims};
use crate::error::AppError;

/// Verified tokens remembered at once; past this, the least used are verified again.
const REMEMBERED_TOKENS: u64 = 10_000;
/// Longest a verified token is remembered (its `exp` may come sooner).
const REMEMBER_FOR: Duration = Duration::from_secs(15 * 60);
/// Longest token read: anything longer is no token of ours.
const MAX_TOKEN_BYTES: usize = 4096;

/// Why the server cannot check tokens as configured.
#[derive(Debug, Error)]
pub enum AuthSetupError {
    #[error("AUTH_MODE=jwt needs a key: set AUTH_JWT_SECRET (HS256) or AUTH_JWT_PUBLIC_KEY (a PEM file, RS256/ES256), or AUTH_MODE=open for a demo")]
    NoKey,
    #[error("AUTH_JWT_PUBLIC_KEY {path}: {reason}")]
    PublicKey { path: String, reason: String },
}

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

pub struct Authenticator {
    verifier: Option<Verifier>,
    verified: moka::sync::Cache<[u8; 32], Arc<Claims>>,
}

impl Authenticator {
    pub fn new(config: &Config) -> Result<Self, AuthSetupError> {
        let verifier = match config.auth_mode {
            AuthMode::Open => None,
            AuthMode::Jwt => Some(verifier(config)?),
        };
        Ok(Self {
            verifier,
            verified: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_TOKENS)
                .time_to_live(REMEMBER_FOR)
                .build(),
        })
    }

    /// The caller of a request from its `Authorization` header (`None`: there was none). A header
    /// that is there but does not hold a valid token is an error, never an anonymous caller.
    /// Expiry is judged by the system clock, as the token's issuer sets it.
    pub fn caller(&self, authorization: Option<&str>) -> Result<Caller, AppError> {
        let Some(verifier) = &self.verifier else {
            return Ok(Caller::Open);
        };
        let Some(header) = authorization else {
            return Ok(Caller::Anonymous);
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
            .ok_or_else(|| {
                unauthenticated("the Authorization header must be \"Bearer <token>\"")
            })?;
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self.verified.get(&key) {
            let now = jsonwebtoken::get_current_timestamp() as i64;
            return if claims.exp > now {
                Ok(Caller::Token(claims))
            } else {
                self.verified.invalidate(&key);
                Err(unauthenticated("the token has expired"))
            };
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &verifier.key, &verifier.validation)
            .map_err(|e| unauthenticated(&describe(e.kind())))?
            .claims;
        let claims = Arc::new(claims);
        self.verified.insert(key, claims.clone());
        Ok(Caller::Token(claims))
    }
}

fn unauthenticated(why: &str) -> AppError {
    AppError::Unauthenticated(format!("invalid token: {why}"))
}

/// What went wrong with a token, in words a client can act on (nothing about the key).
fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "the token has expired".into(),
        K::InvalidAudience => "the token is for another audience".into(),
        K::InvalidIssuer => "the token is from another issuer".into(),
        K::InvalidSignature => "the signature does not match".into(),
        K::InvalidAlgorithm | K::InvalidAlgorithmName => {
            "the token's algorithm is not accepted".into()
        }
        K::MissingRequiredClaim(c) => format!("the token has no {c:?} claim"),
        K::Json(_) => "the token's claims are not sub, exp, role and analyses".into(),
        _ => "the token is malformed".into(),
    }
}

fn verifier(config: &Config) -> Result<Verifier, AuthSetupError> {
    let (key, algorithms) = match (&config.auth_jwt_secret, &config.auth_jwt_public_key) {
        (Some(secret), _) => (
            DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            vec![Algorithm::HS256],
        ),
        (None, Some(path)) => public_key(path)?,
        (None, None) => return Err(AuthSetupError::NoKey),
    };
    let mut validation = Validation::new(algorithms[0]);
    validation.algorithms = algorithms;
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = 0;
    match &config.auth_jwt_audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    if let Some(iss) = &config.auth_jwt_issuer {
        validation.set_issuer(&[iss]);
    }
    Ok(Verifier { key, validation })
}

/// An RSA or EC public key from a PEM file, with the algorithm it verifies.
fn public_key(path: &std::path::Path) -> Result<(DecodingKey, Vec<Algorithm>), AuthSetupError> {
    let failed = |reason: String| AuthSetupError::PublicKey {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, vec![Algorithm::RS256]));
    }
    DecodingKey::from_ec_pem(&pem)
        .map(|key| (key, vec![Algorithm::ES256]))
        .map_err(|_| failed("not an RSA or EC public key in PEM".into()))
}

/// Signs claims with an HS256 secret (`mint-token`, tests).
pub fn mint(secret: &str, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}
