//! The sandbox as a GitHub App's home: it checks the App's JSON Web Tokens (RS256, against the
//! App's public key), names the installation of a repository, mints installation tokens that
//! expire after an hour (REST and git take them), names the installation of an organisation and
//! lists the App's installations, and lists the installation's and an organisation's
//! repositories, paged.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge, authorization, presented};
use super::extract::{Paging, created, not_found};
use super::shapes;
use super::state::{now, timestamp};

/// The one installation every repository of the sandbox belongs to.
pub const INSTALLATION_ID: u64 = 1;

/// How long an installation token lives, as on GitHub.
const TOKEN_LIFETIME: i64 = 3600;

/// A GitHub App the sandbox knows: its id and its public key.
pub struct App {
    /// The App's id (the JWT's `iss`).
    pub id: u64,
    /// The key its JWTs are checked with.
    pub key: DecodingKey,
}

impl App {
    /// The App `id` whose JWTs verify with the RSA public key `pem`.
    pub fn new(id: u64, pem: &[u8]) -> anyhow::Result<Self> {
        Ok(App { id, key: DecodingKey::from_rsa_pem(pem)? })
    }
}

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    Router::new()
        .route("/api/v3/repos/{owner}/{repo}/installation", get(installation))
        .route("/api/v3/app/installations/{id}/access_tokens", post(access_token))
        .route("/api/v3/installation/repositories", get(installation_repositories))
        .route("/api/v3/orgs/{org}/repos", get(org_repositories))
        .route("/api/v3/orgs/{org}/installation", get(org_installation))
        .route("/api/v3/app/installations", get(installations))
}

#[derive(Deserialize)]
struct Claims {
    iss: Value,
}

/// Whether the request carries a valid JWT of the App: signed by its key, not expired, issued by it.
pub(super) fn app_ok(forge: &Forge, headers: &HeaderMap) -> Result<(), ApiError> {
    let refuse =
        |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, format!("A JSON web token could not be decoded: {why}"));
    let app = forge.app.as_ref().ok_or_else(|| refuse("the sandbox has no App (--app-id, --app-public-key)"))?;
    let jwt = authorization(headers).strip_prefix("Bearer ").ok_or_else(|| refuse("no Bearer token"))?;
    let claims =
        decode::<Claims>(jwt, &app.key, &Validation::new(Algorithm::RS256)).map_err(|e| refuse(&e.to_string()))?;
    let issuer = claims.claims.iss.as_u64().or_else(|| claims.claims.iss.as_str().and_then(|s| s.parse().ok()));
    if issuer != Some(app.id) {
        return Err(refuse("'Issuer' claim ('iss') must be the App's id"));
    }
    Ok(())
}

fn installation_json(forge: &Forge, owner: &str) -> Value {
    let base = &forge.base_url;
    let app_id = forge.app.as_ref().map_or(0, |a| a.id);
    let at = timestamp(forge.rate_reset as i64 - 3600);
    json!({
        "id": INSTALLATION_ID,
        "account": shapes::user(base, owner, 1, "Organization"),
        "repository_selection": "all",
        "access_tokens_url": format!("{base}/api/v3/app/installations/{INSTALLATION_ID}/access_tokens"),
        "repositories_url": format!("{base}/api/v3/installation/repositories"),
        "html_url": format!("{base}/organizations/{owner}/settings/installations/{INSTALLATION_ID}"),
        "app_id": app_id,
        "app_slug": "harden",
        "target_id": 1,
        "target_type": "Organization",
        "permissions": {"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"},
        "events": ["issue_comment", "pull_request", "push"],
        "created_at": at,
        "updated_at": at,
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "suspended_by": null,
        "suspended_at": null,
    })
}

async fn installation(
    Extract(forge): Extract<Arc<Forge>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app_ok(&forge, &headers)?;
    if !forge.state.lock().expect("state lock").repos.contains_key(&format!("{owner}/{repo}")) {
        return Err(not_found());
    }
    Ok(axum::Json(installation_json(&forge, &owner)).into_response())
}

async fn org_installation(
    Extract(forge): Extract<Arc<Forge>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app_ok(&forge, &headers)?;
    if !forge.state.lock().expect("state lock").repos.values().any(|r| r.owner == org) {
        return Err(not_found());
    }
    Ok(axum::Json(installation_json(&forge, &org)).into_response())
}

/// The App's installations: the sandbox has one, on every repository it hosts, shown on the
/// first organisation.
async fn installations(Extract(forge): Extract<Arc<Forge>>, headers: HeaderMap) -> Result<Response, ApiError> {
    app_ok(&forge, &headers)?;
    let first = forge.state.lock().expect("state lock").repos.values().next().map(|r| r.owner.clone());
    let list: Vec<Value> = first.iter().map(|owner| installation_json(&forge, owner)).collect();
    Ok(axum::Json(list).into_response())
}

async fn access_token(
    Extract(forge): Extract<Arc<Forge>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app_ok(&forge, &headers)?;
    if id != INSTALLATION_ID {
        return Err(not_found());
    }
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + TOKEN_LIFETIME;
    let seed = format!("{}-{}-{}", now(), std::process::id(), forge.mint());
    let token = format!("ghs_{}", &sha1_smol::Sha1::from(seed).hexdigest()[..36]);
    forge.installation_tokens.lock().expect("tokens lock").insert(token.clone(), expires);
    Ok(created(json!({
        "token": token,
        "expires_at": timestamp(expires),
        "permissions": {"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"},
        "repository_selection": "all",
    })))
}

fn repositories(forge: &Forge, owner: Option<&str>) -> Vec<Value> {
    let state = forge.state.lock().expect("state lock");
    state
        .repos
        .values()
        .filter(|r| owner.is_none_or(|o| r.owner == o))
        .map(|r| shapes::repository(&forge.base_url, r))
        .collect()
}

async fn installation_repositories(
    Extract(forge): Extract<Arc<Forge>>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !forge.installation_token_ok(presented(&headers)) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    let list = repositories(&forge, None);
    let total = list.len();
    // GitHub pages this list inside an object: the page of repositories and the total.
    let size = paging.size();
    let page: Vec<Value> = list.into_iter().skip((paging.page() - 1) * size).take(size).collect();
    Ok(axum::Json(json!({"total_count": total, "repository_selection": "all", "repositories": page})).into_response())
}

async fn org_repositories(
    Extract(forge): Extract<Arc<Forge>>,
    Path(org): Path<String>,
    Query(paging): Query<Paging>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !forge.api_token_ok(&headers) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    let list = repositories(&forge, Some(&org));
    if list.is_empty() {
        return Err(not_found());
    }
    Ok(paging.answer(list, &forge.base_url, &uri, |r| r))
}
