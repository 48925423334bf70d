//! Who is calling: bearer tokens (JWT) verified once, then remembered by their hash until they
//! expire, so that a client reusing its token pays for the signature check once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::config::{AuthMode, Config};
use crate::domain::access::{Caller, Claims};
use crate::domain::values::Subject;
use chrono::{DateTime, Utc};

use crate::db::sessions;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::service::jwks::{self, Jwks};
use crate::service::Services;

/// Verified tokens remembered at once; past this, the least used are verified again.
const REMEMBERED_TOKENS: u64 = 10_000;
/// Longest a verified token is remembered (its `exp` may come sooner).
const REMEMBER_FOR: Duration = Duration::from_secs(15 * 60);
/// Longest token read: anything longer is no token of ours.
const MAX_TOKEN_BYTES: usize = 4096;

/// Why the server cannot check tokens as configured.
#[derive(Debug, Error)]
pub enum AuthSetupError {
    #[error("AUTH_MODE=jwt needs a key: set AUTH_JWT_SECRET (HS256), AUTH_JWT_PUBLIC_KEY (a PEM file, RS256/ES256) or AUTH_JWKS_URL (the issuer's key set), or AUTH_MODE=open for a demo")]
    NoKey,
    #[error("set one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY and AUTH_JWKS_URL, not several")]
    SeveralKeys,
    #[error("AUTH_JWT_PUBLIC_KEY {path}: {reason}")]
    PublicKey { path: String, reason: String },
}

/// Where the keys that verify tokens come from.
enum Keys {
    /// A secret or a PEM file, for the algorithms listed in the validation.
    Fixed(DecodingKey),
    Set(Jwks),
}

struct Verifier {
    keys: Keys,
    validation: Validation,
}

pub struct Authenticator {
    verifier: Option<Verifier>,
    verified: moka::sync::Cache<[u8; 32], Arc<Claims>>,
    /// Subject → tokens issued before this (seconds) no longer hold (`revokeSessions`).
    revoked: RwLock<HashMap<String, i64>>,
}

impl Authenticator {
    pub fn new(config: &Config) -> Result<Self, AuthSetupError> {
        let verifier = match config.auth.mode {
            AuthMode::Open => None,
            AuthMode::Jwt => Some(verifier(config)?),
        };
        Ok(Self {
            verifier,
            verified: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_TOKENS)
                .time_to_live(REMEMBER_FOR)
                .build(),
            revoked: RwLock::default(),
        })
    }

    /// Tokens of `sub` issued before `before` (seconds since the epoch) no longer hold here.
    pub fn revoke_local(&self, sub: &str, before: i64) {
        let mut revoked = self.revoked.write().expect("revoked lock");
        let at = revoked.entry(sub.to_owned()).or_insert(before);
        *at = (*at).max(before);
    }

    /// Whether these claims belong to a revoked session (a token without `iat` is as old as can be).
    pub fn is_revoked(&self, claims: &Claims) -> bool {
        let revoked = self.revoked.read().expect("revoked lock");
        revoked
            .get(&claims.sub)
            .is_some_and(|before| claims.iat.unwrap_or(i64::MIN) < *before)
    }

    /// The caller of a request from its `Authorization` header (`None`: there was none). A header
    /// that is there but does not hold a valid token is an error, never an anonymous caller.
    /// Expiry is judged by the system clock, as the token's issuer sets it.
    pub async fn caller(&self, authorization: Option<&str>) -> Result<Caller, AppError> {
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
        let claims = match self.verified.get(&key) {
            Some(claims) => {
                let now = jsonwebtoken::get_current_timestamp() as i64;
                if claims.exp <= now {
                    self.verified.invalidate(&key);
                    return Err(unauthenticated("the token has expired"));
                }
                claims
            }
            None => {
                let claims = Arc::new(verifier.verify(token).await?);
                self.verified.insert(key, claims.clone());
                claims
            }
        };
        if self.is_revoked(&claims) {
            return Err(unauthenticated("the session was revoked; sign in again"));
        }
        Ok(Caller::Token(claims))
    }
}

impl Verifier {
    async fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let invalid = |e: jsonwebtoken::errors::Error| unauthenticated(&describe(e.kind()));
        let decoded = match &self.keys {
            Keys::Fixed(key) => jsonwebtoken::decode::<Claims>(token, key, &self.validation),
            Keys::Set(jwks) => {
                let kid = jsonwebtoken::decode_header(token).map_err(invalid)?.kid;
                let key = match jwks.get(kid.as_deref()) {
                    Some(key) => key,
                    None => {
                        jwks.refresh().await;
                        jwks.get(kid.as_deref()).ok_or_else(|| {
                            unauthenticated("the token's key (kid) is not one of the issuer's")
                        })?
                    }
                };
                let mut validation = self.validation.clone();
                validation.algorithms = vec![key.algorithm];
                jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            }
        };
        let claims = decoded.map_err(invalid)?.claims;
        // the subject is kept (report confirmations, revocations): one line of text or no token
        Subject::parse("the token's sub", &claims.sub)
            .map_err(|e| unauthenticated(&e.to_string()))?;
        Ok(claims)
    }
}

/// Keeps the issuer's key set fresh (`AUTH_JWKS_URL`): fetched now, then every ten minutes.
pub fn spawn_key_refresher(auth: &Arc<Authenticator>) {
    let Some(Verifier {
        keys: Keys::Set(_), ..
    }) = &auth.verifier
    else {
        return;
    };
    let auth = Arc::downgrade(auth);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(jwks::REFRESH_EVERY);
        loop {
            every.tick().await;
            let Some(auth) = auth.upgrade() else { return };
            if let Some(Verifier {
                keys: Keys::Set(jwks),
                ..
            }) = &auth.verifier
            {
                jwks.refresh().await;
            }
        }
    });
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
    let (keys, algorithm) = match (
        &config.auth.jwt_secret,
        &config.auth.jwt_public_key,
        &config.auth.jwks_url,
    ) {
        (Some(secret), None, None) => (
            Keys::Fixed(DecodingKey::from_secret(secret.expose_secret().as_bytes())),
            Algorithm::HS256,
        ),
        (None, Some(path), None) => {
            let (key, algorithm) = public_key(path)?;
            (Keys::Fixed(key), algorithm)
        }
        // each key of the set names its own algorithm, checked per token
        (None, None, Some(url)) => (
            Keys::Set(Jwks::new(url, config.auth.jwks_min_refetch)),
            Algorithm::RS256,
        ),
        (None, None, None) => return Err(AuthSetupError::NoKey),
        _ => return Err(AuthSetupError::SeveralKeys),
    };
    let mut validation = Validation::new(algorithm);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = 0;
    match &config.auth.jwt_audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    if let Some(iss) = &config.auth.jwt_issuer {
        validation.set_issuer(&[iss]);
    }
    Ok(Verifier { keys, validation })
}

/// An RSA or EC public key from a PEM file, with the algorithm it verifies.
fn public_key(path: &std::path::Path) -> Result<(DecodingKey, Algorithm), AuthSetupError> {
    let failed = |reason: String| AuthSetupError::PublicKey {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, Algorithm::RS256));
    }
    DecodingKey::from_ec_pem(&pem)
        .map(|key| (key, Algorithm::ES256))
        .map_err(|_| failed("not an RSA or EC public key in PEM".into()))
}

/// `revokeSessions`: `sub`'s tokens issued before `now` stop holding on every instance (stored,
/// then published; each instance's verifier and open sockets hear it from the bus).
pub async fn revoke(services: &Services, sub: &Subject, now: DateTime<Utc>) -> AppResult<()> {
    let sub = sub.as_str();
    {
        let mut conn = services.state.pool.get().await?;
        sessions::revoke(&mut conn, sub, now).await?;
    }
    let event = Event::SessionsRevoked {
        sub: sub.to_owned(),
        before: now.timestamp(),
    };
    services.auth.revoke_local(sub, now.timestamp());
    crate::service::publish::publish(services, std::slice::from_ref(&event)).await;
    tracing::info!("sessions revoked");
    Ok(())
}

/// How often the stored revocations are read again, for those the bus missed (Redis away).
const RELOAD_REVOCATIONS: std::time::Duration = std::time::Duration::from_secs(30);

/// Keeps this instance's verifier in step: the revocations stored (at start, then every 30 s),
/// and those the bus brings as they happen.
pub fn spawn_revocation_listener(services: &Services) {
    let auth = services.auth.clone();
    let pool = services.state.pool.clone();
    let mut rx = services.state.hub.revocations();
    tokio::spawn(async move {
        let mut reload = tokio::time::interval(RELOAD_REVOCATIONS);
        loop {
            tokio::select! {
                _ = reload.tick() => load_revocations(&auth, &pool).await,
                event = rx.recv() => match event {
                    Ok(event) => {
                        if let Event::SessionsRevoked { sub, before } = &*event {
                            auth.revoke_local(sub, *before);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
}

async fn load_revocations(auth: &Authenticator, pool: &crate::db::DbPool) {
    let loaded = async {
        let mut conn = pool.get().await?;
        Ok::<_, AppError>(sessions::all(&mut conn).await?)
    }
    .await;
    match loaded {
        Ok(all) => {
            for (sub, before) in all {
                auth.revoke_local(&sub, before.timestamp());
            }
        }
        Err(e) => tracing::warn!(error = %e, "revoked sessions not loaded"),
    }
}

/// Signs claims with an HS256 secret (`mint-token`, tests).
pub fn mint(secret: &str, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}
