//! The playground's files (GraphiQL, React, graphql-ws and Monaco's workers, bundled by
//! `scripts/vendor-playground.sh`) and the REST docs page's (Swagger UI), embedded in the binary gzipped and served from this origin
//! under a path that names their content: cached for good, and replaced by a new path when a
//! new bundle ships.

use std::io::Read;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    /// Its bytes, gzipped unless `plain`.
    bytes: &'static [u8],
    plain: bool,
}

macro_rules! vendored {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../playground/vendor/", $name, ".gz")),
            plain: false,
        }
    };
}

/// Scripts and workers.
macro_rules! plain {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../playground/", $name)),
            plain: true,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: [Asset; 10] = [
    vendored!("playground.js", JS),
    vendored!("playground.css", "text/css; charset=utf-8"),
    vendored!("editor.worker.js", JS),
    vendored!("graphql.worker.js", JS),
    vendored!("json.worker.js", JS),
    vendored!("codicon.ttf", "font/ttf"),
    vendored!("swagger-ui-bundle.js", JS),
    vendored!("swagger-ui.css", "text/css; charset=utf-8"),
    plain!("page.css", "text/css; charset=utf-8"),
    plain!("docs.js", JS),
];

/// The first 12 hex digits of the hash of every file: the path segment that changes with them.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for asset in &ASSETS {
        hash.update(asset.name.as_bytes());
        hash.update(asset.bytes);
    }
    hash.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// Only the server's own origin: scripts, workers, fonts and connections (the WebSocket too).
/// Monaco sets element styles from script, hence inline styles.
pub const CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// `GET /playground/{version}/{file}`: the file, gzipped when the client takes it.
pub async fn file(Path((version, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let found = ASSETS.iter().find(|a| a.name == name);
    let Some(asset) = found.filter(|_| version == *VERSION) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = if asset.plain {
        asset.bytes.into_response()
    } else if accepts_gzip(&headers) {
        let mut r = asset.bytes.into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        let mut plain = Vec::new();
        if flate2::read::GzDecoder::new(asset.bytes)
            .read_to_end(&mut plain)
            .is_err()
        {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        plain.into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}
