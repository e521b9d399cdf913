//! Faults the sandbox injects on purpose, for the reliability tests: each `--fault` fires once,
//! on the first request whose method and path match, before or after the request does its work.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::api::Forge;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `500`: answer 500 Internal Server Error without doing the work.
    ServerError,
    /// `502-after`: do the work, then answer 502 Bad Gateway (a retry replays a done request).
    BadGatewayAfter,
    /// `secondary`: GitHub's 403 secondary rate limit with `retry-after: 1`, without doing the work.
    Secondary,
    /// `drop-after`: do the work, then close the connection without answering.
    DropAfter,
    /// `slow`: wait three seconds, then answer normally.
    Slow,
}

/// One fault: `KIND:METHOD:PATH`, where PATH matches the end of the request's path
/// (`502-after:POST:/pulls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: Kind,
    /// The request method it hits.
    pub method: String,
    /// The end of the request path it hits.
    pub path: String,
}

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut parts = text.splitn(3, ':');
        let (Some(kind), Some(method), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("expected KIND:METHOD:PATH, such as 502-after:POST:/pulls".into());
        };
        let kind = match kind {
            "500" => Kind::ServerError,
            "502-after" => Kind::BadGatewayAfter,
            "secondary" => Kind::Secondary,
            "drop-after" => Kind::DropAfter,
            "slow" => Kind::Slow,
            other => return Err(format!("unknown fault `{other}` (500, 502-after, secondary, drop-after, slow)")),
        };
        Ok(Fault { kind, method: method.to_ascii_uppercase(), path: path.into() })
    }
}

/// The panic that drops a connection.
const DROPPED: &str = "sandbox: fault injected: the connection is dropped";

/// Keeps the panics that drop connections out of the sandbox's error output; other panics are
/// reported as before.
pub fn quiet_dropped_connections() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&DROPPED) {
            report(info);
        }
    }));
}

/// The middleware: finds the first fault not yet fired that matches, and fires it.
pub async fn inject(State(forge): State<Arc<Forge>>, request: Request, next: Next) -> Response {
    let fault = {
        let mut faults = forge.faults.lock().expect("faults lock");
        let path = request.uri().path();
        let hit = faults.iter().position(|f| f.method == request.method().as_str() && path.ends_with(&f.path));
        hit.map(|i| faults.remove(i))
    };
    let Some(fault) = fault else { return next.run(request).await };
    eprintln!("sandbox: injecting {:?} into {} {}", fault.kind, request.method(), request.uri().path());
    match fault.kind {
        Kind::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Server Error"}))).into_response()
        }
        Kind::Secondary => {
            let message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
            let mut answer = (StatusCode::FORBIDDEN, axum::Json(json!({"message": message}))).into_response();
            answer.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
            answer
        }
        Kind::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            next.run(request).await
        }
        Kind::BadGatewayAfter => {
            let _done = next.run(request).await;
            (StatusCode::BAD_GATEWAY, axum::Json(json!({"message": "Bad Gateway"}))).into_response()
        }
        Kind::DropAfter => {
            let (method, uri) = (request.method().clone(), request.uri().clone());
            let _done = next.run(request).await;
            super::journal::append(&forge, &method, &uri, "dropped");
            // Ending the connection's task without an answer is what a dropped connection is.
            std::panic::panic_any(DROPPED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_kind_method_and_path() {
        let fault: Fault = "502-after:post:/pulls".parse().unwrap();
        assert_eq!(fault, Fault { kind: Kind::BadGatewayAfter, method: "POST".into(), path: "/pulls".into() });
        assert!("teapot:GET:/".parse::<Fault>().is_err());
        assert!("500:GET".parse::<Fault>().is_err());
    }
}
