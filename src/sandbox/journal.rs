//! What every request did, for the people and the tests that watch the sandbox: one line per
//! request in `DATA/requests.log` (`METHOD PATH?QUERY STATUS`, never a header, so never a
//! token), and GitHub's rate-limit headers on every REST answer, where a `304` costs nothing.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;

use super::api::Forge;

/// The primary budget the sandbox advertises, per hour, as GitHub's for a token.
pub const RATE_LIMIT: u64 = 5000;

/// Appends one line to the request log; `outcome` is the status, or what happened instead.
pub fn append(forge: &Forge, method: &Method, uri: &Uri, outcome: &str) {
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(&forge.journal) {
        let _ = file.write_all(format!("{method} {uri} {outcome}\n").as_bytes());
    }
}

/// The middleware: answers, then records the request and stamps the rate-limit headers.
pub async fn record(State(forge): State<Arc<Forge>>, request: Request, next: Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let mut response = next.run(request).await;
    append(&forge, &method, &uri, &response.status().as_u16().to_string());
    if uri.path().starts_with("/api/v3/") {
        let used = if response.status() == StatusCode::NOT_MODIFIED {
            forge.rate_used.load(Ordering::Relaxed)
        } else {
            forge.rate_used.fetch_add(1, Ordering::Relaxed) + 1
        };
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", RATE_LIMIT),
            ("x-ratelimit-remaining", RATE_LIMIT.saturating_sub(used)),
            ("x-ratelimit-used", used),
            ("x-ratelimit-reset", forge.rate_reset),
        ] {
            headers.insert(name, HeaderValue::from(value));
        }
        headers.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
    }
    response
}
