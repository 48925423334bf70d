//! Tokens signed by someone else's keys: a PEM public key (`AUTH_JWT_PUBLIC_KEY`) and an issuer's
//! key set served over HTTP (`AUTH_JWKS_URL`), fetched, kept and fetched again for a new `kid`.
//! The keys in `tests/fixtures/keys` are made for these tests and guard nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use progress_dashboard::config::{AuthMode, Config};
use progress_dashboard::domain::access::{Claims, Role};
use serde_json::{json, Value};

use crate::helpers::*;

const EC_K1: &[u8] = include_bytes!("../fixtures/keys/ec-k1.key.pem");
const RSA_K2: &[u8] = include_bytes!("../fixtures/keys/rsa-k2.key.pem");
const JWKS_K1: &str = include_str!("../fixtures/keys/jwks-k1.json");
const JWKS_K1_K2: &str = include_str!("../fixtures/keys/jwks-k1-k2.json");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

fn admin_claims() -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "issuer-admin".into(),
        exp: now + 600,
        iat: Some(now),
        role: Role::Admin,
        analyses: Vec::new(),
    }
}

/// An admin's token signed with `key` by `alg`, naming `kid` when given.
fn signed(alg: Algorithm, key: &EncodingKey, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &admin_claims(), key).unwrap()
}

fn ec_token(kid: Option<&str>) -> String {
    signed(
        Algorithm::ES256,
        &EncodingKey::from_ec_pem(EC_K1).unwrap(),
        kid,
    )
}

fn rsa_token(kid: Option<&str>) -> String {
    signed(
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(RSA_K2).unwrap(),
        kid,
    )
}

/// `serviceStats` (admin only) with `token`: "ok" or the error code, and the HTTP status.
async fn stats(app: &TestApp, token: &str) -> (u16, String) {
    let r = app
        .client
        .post(app.graphql_url())
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({"query": "{ serviceStats { cache { backend } } }"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    let outcome = match body["errors"][0]["extensions"]["code"].as_str() {
        None if body["data"]["serviceStats"].is_object() => "ok".to_owned(),
        None => format!("unexpected: {body}"),
        Some(code) => code.to_owned(),
    };
    (status, outcome)
}

fn with_public_key(name: &'static str) -> impl FnOnce(&mut Config) {
    move |c| {
        c.auth.mode = AuthMode::Jwt;
        c.auth.jwt_public_key = Some(fixture(name));
    }
}

#[tokio::test]
async fn a_pem_public_key_verifies_its_own_algorithm_only() {
    let ec = TestApp::spawn_with(with_public_key("ec-k1.pub.pem")).await;
    assert_eq!(stats(&ec, &ec_token(None)).await, (200, "ok".into()));
    assert_eq!(stats(&ec, &rsa_token(None)).await.0, 401, "another key");
    // the public key used as an HMAC secret: the classic algorithm confusion
    let public = std::fs::read(fixture("ec-k1.pub.pem")).unwrap();
    let confused = signed(Algorithm::HS256, &EncodingKey::from_secret(&public), None);
    assert_eq!(stats(&ec, &confused).await, (401, "UNAUTHENTICATED".into()));

    let rsa = TestApp::spawn_with(with_public_key("rsa-k2.pub.pem")).await;
    assert_eq!(stats(&rsa, &rsa_token(None)).await, (200, "ok".into()));
    assert_eq!(stats(&rsa, &ec_token(None)).await.0, 401);
}

/// A key set served over HTTP that the test can change, counting the fetches.
struct Issuer {
    url: String,
    set: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
}

impl Issuer {
    async fn serve(set: &str) -> Self {
        let set = Arc::new(Mutex::new(set.to_owned()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (s, f) = (set.clone(), fetches.clone());
        let router = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || async move {
                f.fetch_add(1, Ordering::SeqCst);
                let body = s.lock().unwrap().clone();
                ([("content-type", "application/json")], body)
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, set, fetches }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn with_jwks(url: &str, min_refetch: Duration) -> impl FnOnce(&mut Config) {
    let url = url.to_owned();
    move |c| {
        c.auth.mode = AuthMode::Jwt;
        c.auth.jwks_url = Some(url);
        c.auth.jwks_min_refetch = min_refetch;
    }
}

#[tokio::test]
async fn jwks_keys_are_fetched_kept_and_fetched_again_for_a_new_kid() {
    let issuer = Issuer::serve(JWKS_K1).await;
    let app = TestApp::spawn_with(with_jwks(&issuer.url, Duration::from_secs(1))).await;
    // fetched at start, then kept: a hundred requests fetch nothing more
    eventually("the set is fetched at start", || issuer.fetches() == 1).await;
    for _ in 0..100 {
        assert_eq!(stats(&app, &ec_token(Some("k1"))).await, (200, "ok".into()));
    }
    assert_eq!(issuer.fetches(), 1);

    // the issuer adds k2: the first token naming it makes the server fetch the set again
    *issuer.set.lock().unwrap() = JWKS_K1_K2.to_owned();
    eventually_async("a token signed with the new key k2 is taken", || async {
        stats(&app, &rsa_token(Some("k2"))).await == (200, "ok".into())
    })
    .await;

    // tokens naming made-up keys, all at once: refused, and the issuer is asked once at most
    let before = issuer.fetches();
    let made_up = (0..30).map(|i| {
        let app = &app;
        async move { stats(app, &ec_token(Some(&format!("made-up-{i}")))).await }
    });
    for outcome in futures_util::future::join_all(made_up).await {
        assert_eq!(outcome, (401, "UNAUTHENTICATED".into()));
    }
    assert!(
        issuer.fetches() - before <= 1,
        "{} fetches",
        issuer.fetches() - before
    );

    // a key of the set does not verify a token that names another key, nor another algorithm
    assert_eq!(stats(&app, &ec_token(Some("k2"))).await.0, 401);
    let secret = EncodingKey::from_secret(JWKS_K1_K2.as_bytes());
    assert_eq!(
        stats(&app, &signed(Algorithm::HS256, &secret, Some("k1")))
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn an_unreachable_key_set_refuses_tokens_but_not_the_start() {
    // a port that was free a moment ago: nothing answers there
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks.json", l.local_addr().unwrap())
    };
    let app = TestApp::spawn_with(with_jwks(&closed, Duration::from_millis(10))).await;
    assert_eq!(
        stats(&app, &ec_token(Some("k1"))).await,
        (401, "UNAUTHENTICATED".into())
    );
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
