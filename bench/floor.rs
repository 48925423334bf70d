//! The floors our cached dashboard is measured against, in the same run:
//! - Floor A: a minimal axum program answering `POST /graphql` with pre-serialised dashboard bytes.
//! - Floor B: Floor A plus one Redis GET of that blob per request.
//!
//! cargo run --release --example floor -- --mode a|b --port 18090 --body dashboard.json [--redis URL]

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use redis::AsyncCommands;

const KEY: &str = "pdbench:floor:dashboard";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mode = arg("--mode").unwrap_or_else(|| "a".into());
    let port: u16 = arg("--port").map_or(18090, |p| p.parse().expect("--port"));
    let body = Bytes::from(std::fs::read(arg("--body").expect("--body FILE")).expect("body file"));
    let json = [(header::CONTENT_TYPE, "application/json")];
    let app = match mode.as_str() {
        "a" => Router::new().route(
            "/graphql",
            post(move || {
                let body = body.clone();
                async move { (json, body).into_response() }
            }),
        ),
        "b" => {
            let client = redis::Client::open(
                arg("--redis").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            )
            .unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let _: () = conn.set(KEY, body.as_ref()).await.unwrap();
            let conn = Arc::new(conn);
            Router::new().route(
                "/graphql",
                post(move || {
                    let mut conn = (*conn).clone();
                    async move {
                        let blob: Vec<u8> = conn.get(KEY).await.unwrap_or_default();
                        (json, blob).into_response()
                    }
                }),
            )
        }
        other => panic!("--mode a or b, got {other}"),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}
