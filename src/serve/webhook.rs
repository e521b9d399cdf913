//! The routes: `POST /webhook` (signature, size, delivery id, JSON, then recorded with its jobs
//! in one transaction, once), `GET /healthz`, `GET /readyz`, and the dashboard's pages under `/`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::Semaphore;

use super::event::{self, Intake, Pacing};
use super::payload::Payload;
use super::{MAX_BODY, signature};
use crate::store::{Accepted, Delivery, NewJob, Store, epoch};

/// What the routes share.
pub struct Hooks {
    /// The webhook secrets.
    pub secrets: Vec<String>,
    /// Where deliveries and their jobs are recorded.
    pub store: Arc<dyn Store + Send + Sync>,
    /// Records deliveries into the store, those that arrive together in one transaction.
    pub recorder: super::recorder::Recorder,
    /// How events become jobs.
    pub pacing: Pacing,
    /// Signing in to the dashboard, when GitHub's OAuth app is set up.
    pub signin: Option<super::signin::SignIn>,
}

/// The server's routes, answering at most `concurrent` requests at once.
pub fn router(hooks: Hooks, concurrent: usize) -> Router {
    let slots = Arc::new(Semaphore::new(concurrent.max(1)));
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/login", get(super::signin::login))
        .route("/oauth/callback", get(super::signin::callback))
        .route("/logout", get(super::signin::logout))
        .route("/", get(super::dashboard::page))
        .route("/{*path}", get(super::dashboard::page))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(slots, shed))
        .with_state(Arc::new(hooks))
}

/// Past the limit of requests under way, a request is answered `503` with `Retry-After` at once,
/// unread, instead of queueing until every answer is late (the server asks GitHub for those
/// deliveries again within the hour).
async fn shed(State(slots): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    let Ok(_slot) = slots.try_acquire_owned() else {
        tracing::warn!("refused: too many requests under way");
        let mut busy = answer(StatusCode::SERVICE_UNAVAILABLE, "too many requests under way; try again");
        busy.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    next.run(request).await
}

fn answer(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

async fn webhook(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // Nothing of an unsigned or forged delivery is read, not even its JSON.
    if !signature::verify(&hooks.secrets, &body, header("x-hub-signature-256")) {
        tracing::warn!(delivery = header("x-github-delivery"), "refused: the signature does not match");
        return answer(StatusCode::UNAUTHORIZED, "the signature does not match the webhook secret");
    }
    let (Some(delivery), Some(event)) = (header("x-github-delivery"), header("x-github-event")) else {
        return answer(StatusCode::BAD_REQUEST, "X-GitHub-Delivery and X-GitHub-Event are required");
    };
    let payload: Payload = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(delivery, event, error = %e, "refused: not a webhook payload");
            return answer(StatusCode::BAD_REQUEST, &format!("the payload is not a webhook payload: {e}"));
        }
    };
    let action = payload.action.as_deref().unwrap_or_default();
    let now = epoch();
    let (jobs, ignored) = match event::classify(event, &payload, hooks.pacing) {
        Intake::Ignore(reason) => (Vec::new(), reason),
        Intake::Queue(queued) => {
            let jobs = queued
                .into_iter()
                .map(|q| NewJob {
                    repo: q.job.repo().to_string(),
                    kind: q.job.kind().to_string(),
                    body: serde_json::to_string(&q.job).expect("a job serialises"),
                    key: q.key,
                    debounce: q.debounce,
                    not_before: now + q.delay,
                })
                .collect();
            (jobs, String::new())
        }
    };
    // The store blocks (a file, a database): the recorder's thread writes, off the threads that
    // answer connections, with the deliveries that arrive at the same time.
    let recorded =
        hooks.recorder.accept(Delivery { id: delivery.to_string(), event: event.to_string(), jobs, now }).await;
    match recorded {
        Ok(Accepted::Queued(n)) => {
            tracing::info!(delivery, event, action, jobs = n, "delivery accepted");
            answer(StatusCode::ACCEPTED, &format!("queued {}", crate::report::plural(n, "job")))
        }
        Ok(Accepted::Duplicate) => {
            tracing::info!(delivery, event, action, "its work is queued already");
            answer(StatusCode::OK, "its work is queued already")
        }
        Ok(Accepted::Recorded) => {
            tracing::info!(delivery, event, action, reason = ignored, "nothing to do");
            answer(StatusCode::OK, &format!("nothing to do: {ignored}"))
        }
        Ok(Accepted::Redelivery) => {
            tracing::info!(delivery, event, action, "redelivery dropped");
            answer(StatusCode::OK, "already received")
        }
        Err(e) => {
            // GitHub redelivers what was not acknowledged: a 503 keeps the delivery.
            tracing::error!(delivery, event, error = %e, "the state cannot record the delivery");
            answer(StatusCode::SERVICE_UNAVAILABLE, "the state cannot record the delivery")
        }
    }
}

async fn ready(State(hooks): State<Arc<Hooks>>) -> Response {
    match hooks.store.ready() {
        Ok(()) => "ready\n".into_response(),
        Err(e) => answer(StatusCode::SERVICE_UNAVAILABLE, &format!("the state does not answer: {e}")),
    }
}
