//! The sandbox as the sender of a GitHub App's webhooks (`--webhook URL --webhook-secret S`):
//! a comment a person writes is delivered to the App's server as an `issue_comment` event, signed
//! with `X-Hub-Signature-256` as GitHub signs it, and every attempt is recorded, failed ones too.
//! The App reads them back (`GET /app/hook/deliveries`, newest first, paged by `cursor`) and asks
//! for a failed one again (`POST /app/hook/deliveries/{id}/attempts`: the same payload and
//! delivery id, marked a redelivery), both with its JWT.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::app::{INSTALLATION_ID, app_ok};
use super::extract::not_found;
use super::state::{HookDelivery, timestamp};

/// Where the App's webhooks go, and the secret they are signed with.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The App's webhook URL.
    pub url: String,
    /// The webhook secret.
    pub secret: String,
}

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    Router::new()
        .route("/api/v3/app/hook/deliveries", get(list))
        .route("/api/v3/app/hook/deliveries/{id}/attempts", post(redeliver))
}

/// Delivers `payload` as `event` (a new delivery, or with `guid` a redelivery) and records the
/// attempt, whatever its outcome.
pub async fn deliver(forge: Arc<Forge>, event: String, payload: Value, guid: Option<String>) {
    let Some(hook) = forge.webhook.clone() else { return };
    let body = payload.to_string();
    let redelivery = guid.is_some();
    let guid = guid.unwrap_or_else(|| {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        format!("sandbox-{nanos:x}-{}", forge.mint())
    });
    let answer = reqwest::Client::new()
        .post(&hook.url)
        .header("X-GitHub-Event", &event)
        .header("X-GitHub-Delivery", &guid)
        .header("X-GitHub-Hook-Installation-Target-Type", "integration")
        .header("X-Hub-Signature-256", crate::serve::signature::sign(&hook.secret, body.as_bytes()))
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/sandbox")
        .body(body.clone())
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await;
    let (status_code, status) = match answer {
        Ok(answer) => (answer.status().as_u16(), answer.status().canonical_reason().unwrap_or("").to_string()),
        Err(e) => (0, format!("failed to connect to the host: {e}")),
    };
    let _ = forge.change(|state| {
        let id = state.next_id();
        state.hook_deliveries.push(HookDelivery {
            id,
            guid,
            at: time::OffsetDateTime::now_utc().unix_timestamp(),
            redelivery,
            status_code,
            status: if (200..300).contains(&status_code) { "OK".into() } else { status },
            event,
            action: payload["action"].as_str().unwrap_or_default().into(),
            repository_id: payload["repository"]["id"].as_u64().unwrap_or_default(),
            payload: body,
        });
        Ok(())
    });
}

fn item(delivery: &HookDelivery) -> Value {
    json!({
        "id": delivery.id,
        "guid": delivery.guid,
        "delivered_at": timestamp(delivery.at),
        "redelivery": delivery.redelivery,
        "duration": 0.01,
        "status": delivery.status,
        "status_code": delivery.status_code,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": INSTALLATION_ID,
        "repository_id": delivery.repository_id,
    })
}

#[derive(Deserialize)]
struct Listing {
    per_page: Option<usize>,
    cursor: Option<u64>,
}

async fn list(
    Extract(forge): Extract<Arc<Forge>>,
    headers: HeaderMap,
    Query(listing): Query<Listing>,
) -> Result<Response, ApiError> {
    app_ok(&forge, &headers)?;
    let size = listing.per_page.unwrap_or(30).clamp(1, 100);
    let state = forge.state.lock().expect("state lock");
    let older: Vec<&HookDelivery> =
        state.hook_deliveries.iter().rev().filter(|d| listing.cursor.is_none_or(|c| d.id < c)).collect();
    let page: Vec<Value> = older.iter().take(size).map(|d| item(d)).collect();
    let mut answer = axum::Json(page).into_response();
    if older.len() > size {
        let next = format!(
            "<{}/api/v3/app/hook/deliveries?per_page={size}&cursor={}>; rel=\"next\"",
            forge.base_url,
            older[size - 1].id
        );
        answer.headers_mut().insert("link", next.parse().expect("a header value"));
    }
    Ok(answer)
}

async fn redeliver(
    Extract(forge): Extract<Arc<Forge>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    app_ok(&forge, &headers)?;
    let original = forge.state.lock().expect("state lock").hook_deliveries.iter().find(|d| d.id == id).cloned();
    let original = original.ok_or_else(not_found)?;
    let payload: Value = serde_json::from_str(&original.payload).unwrap_or_default();
    tokio::spawn(deliver(forge.clone(), original.event, payload, Some(original.guid)));
    Ok((StatusCode::ACCEPTED, axum::Json(json!({}))).into_response())
}

/// What GitHub sends when `comment` is written in thread `number` of `full_name`.
pub fn comment_event(forge: &Forge, full_name: &str, number: u64, comment: Value) -> Value {
    let state = forge.state.lock().expect("state lock");
    let repo = &state.repos[full_name];
    let api = format!("{}/api/v3/repos/{full_name}", forge.base_url);
    let mut issue = json!({
        "number": number,
        "url": format!("{api}/issues/{number}"),
        "html_url": format!("{}/{full_name}/issues/{number}", forge.base_url),
        "state": "open",
    });
    if let Some(pull) = repo.pulls.iter().find(|p| p.number == number) {
        issue["title"] = json!(pull.title);
        issue["pull_request"] = json!({"url": format!("{api}/pulls/{number}")});
    } else if let Some(opened) = repo.issues.iter().find(|i| i.number == number) {
        issue["title"] = json!(opened.title);
        issue["user"] = forge.user_json(opened.user.as_deref());
    }
    json!({
        "action": "created",
        "issue": issue,
        "sender": comment["user"].clone(),
        "comment": comment,
        "repository": super::shapes::repository(&forge.base_url, repo),
        "installation": {"id": INSTALLATION_ID, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="},
    })
}
