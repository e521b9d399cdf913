//! Conditional reads, as GitHub answers them: every successful REST `GET` carries an ETag (a hash
//! of its body, unless the route set a stronger one), and a request that sends it back in
//! `If-None-Match` while the answer is the same gets `304 Not Modified`, which the journal counts
//! as free.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest body hashed for an ETag; larger answers go without one.
const MOST: usize = 64 << 20;

/// The middleware: stamps the ETag and answers `304` when the client already has the answer.
pub async fn etag(request: Request, next: Next) -> Response {
    let reads = request.method() == Method::GET && request.uri().path().starts_with("/api/v3/");
    let asked = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let response = next.run(request).await;
    if !reads || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let etag = match parts.headers.get(header::ETAG) {
        Some(tag) => tag.clone(),
        None => {
            let Ok(bytes) = axum::body::to_bytes(body, MOST).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let tag = format!("W/\"{}\"", sha1_smol::Sha1::from(&bytes).digest());
            let tag = HeaderValue::from_str(&tag).expect("a hex ETag");
            parts.headers.insert(header::ETAG, tag.clone());
            return answer(parts, Body::from(bytes), &tag, asked.as_deref());
        }
    };
    answer(parts, body, &etag, asked.as_deref())
}

fn answer(parts: axum::http::response::Parts, body: Body, etag: &HeaderValue, asked: Option<&str>) -> Response {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let mine = bare(etag.to_str().unwrap_or_default());
    if asked.is_some_and(|asked| asked.split(',').any(|tag| bare(tag) == mine)) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response();
    }
    Response::from_parts(parts, body)
}
