//! The sandbox's HTTP face: GitHub's REST shapes under `/api/v3` (as GitHub Enterprise Server
//! serves them) and git smart HTTP at `/{owner}/{name}.git`, both behind the optional token.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde_json::{Value, json};

use super::app::App;
use super::extract::OpenRepo;
use super::faults::{self, Fault};
use super::state::State;
use super::{
    app, collaborators, conditional, contents, git, gitdata, hooks, issues, journal, pulls, reactions, shapes,
};

/// What every request handler shares.
pub struct Forge {
    /// Where the git repositories live.
    pub git_root: PathBuf,
    /// The address clients reach the sandbox at, such as `http://127.0.0.1:8080`.
    pub base_url: String,
    /// The token clients must present, when one was set.
    pub token: Option<String>,
    /// The remembered state.
    pub state: Mutex<State>,
    /// Where the state is saved after every change.
    pub state_path: PathBuf,
    /// The faults still to inject.
    pub faults: Mutex<Vec<Fault>>,
    /// The request log.
    pub journal: PathBuf,
    /// Rate-limited requests answered in this window.
    pub rate_used: AtomicU64,
    /// When the rate-limit window resets, in seconds since the epoch.
    pub rate_reset: u64,
    /// The GitHub App whose JWTs the sandbox takes, if any.
    pub app: Option<App>,
    /// The installation tokens minted so far, with when they expire (seconds since the epoch).
    pub installation_tokens: Mutex<HashMap<String, i64>>,
    /// How many tokens were minted.
    pub minted: AtomicU64,
    /// Users' permissions on every repository, by login.
    pub collaborators: HashMap<String, String>,
    /// People's tokens (`--user LOGIN=TOKEN`): a request with one acts as that login.
    pub users: HashMap<String, String>,
    /// Where the App's webhooks go, if anywhere.
    pub webhook: Option<super::hooks::Webhook>,
    /// The most entries a recursive tree lists before it says `truncated`, as GitHub does past
    /// its own limit.
    pub tree_limit: Option<usize>,
    /// The OAuth app whose web flow the sandbox runs, if any.
    pub oauth: Option<super::oauth::OAuthApp>,
    /// The person signed in at the forge, who approves the OAuth app.
    pub oauth_user: Option<String>,
    /// Organisation members.
    pub members: Vec<super::oauth::Member>,
    /// One-time OAuth codes and whom they were minted for (`None` once redeemed).
    pub oauth_codes: Mutex<HashMap<String, Option<String>>>,
}

/// The routes; `git_data_writes` false leaves out creating blobs, trees and commits.
pub fn router(forge: Arc<Forge>, git_data_writes: bool) -> Router {
    Router::new()
        .route("/api/v3/repos/{owner}/{repo}", get(repository))
        .merge(gitdata::routes(git_data_writes))
        .merge(pulls::routes())
        .merge(app::routes())
        .merge(contents::routes())
        .merge(reactions::routes())
        .merge(issues::routes())
        .merge(hooks::routes())
        .merge(collaborators::routes())
        .merge(super::oauth::routes())
        .fallback(git_or_not_found)
        .layer(axum::middleware::from_fn(conditional::etag))
        .layer(axum::middleware::from_fn_with_state(forge.clone(), faults::inject))
        .layer(axum::middleware::from_fn_with_state(forge.clone(), journal::record))
        .with_state(forge)
}

async fn repository(Extract(forge): Extract<Arc<Forge>>, repo: OpenRepo) -> Response {
    let state = forge.state.lock().expect("state lock");
    axum::Json(shapes::repository(&forge.base_url, &state.repos[&repo.full_name])).into_response()
}

async fn git_or_not_found(
    Extract(forge): Extract<Arc<Forge>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !uri.path().contains(".git/") {
        return ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    if !git_token_ok(&forge, &headers) {
        let mut answer = (StatusCode::UNAUTHORIZED, "Authentication required\n").into_response();
        answer.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"sandbox\""));
        return answer;
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let root = forge.git_root.clone();
    let (path, query) = (uri.path().to_string(), uri.query().unwrap_or_default().to_string());
    let answer = tokio::task::spawn_blocking(move || {
        let request = git::CgiRequest {
            method: method.as_str(),
            path_info: &path,
            query: &query,
            content_type: &content_type,
            body: &body,
        };
        git::http_backend(&root, &request)
    })
    .await;
    match answer {
        Ok(Ok(cgi)) => {
            let mut response =
                (StatusCode::from_u16(cgi.status).unwrap_or(StatusCode::BAD_GATEWAY), cgi.body).into_response();
            for (name, value) in cgi.headers {
                if let (Ok(name), Ok(value)) = (header::HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Ok(Err(error)) => (StatusCode::BAD_GATEWAY, format!("{error:#}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// An error answered in GitHub's shape: `{"message", "documentation_url", "status"}`, with
/// `errors` for a validation failure.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    errors: Vec<Value>,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), errors: Vec::new() }
    }

    /// GitHub's 422 "Validation Failed" with one custom error on `resource`.
    pub fn validation(resource: &str, message: impl Into<String>) -> Self {
        let error = json!({"resource": resource, "code": "custom", "message": message.into()});
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, message: "Validation Failed".into(), errors: vec![error] }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "message": self.message,
            "documentation_url": "https://docs.github.com/rest",
            "status": self.status.as_u16().to_string(),
        });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

impl Forge {
    /// Applies `change` to the state and saves it; nothing is saved when the change fails.
    pub fn change<T>(&self, change: impl FnOnce(&mut State) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut state = self.state.lock().expect("state lock");
        let mut next = state.clone();
        let answer = change(&mut next)?;
        next.save(&self.state_path).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?;
        *state = next;
        Ok(answer)
    }

    /// Whether a REST request may pass: it carries `Authorization: token T` or `Bearer T` with the
    /// sandbox's token or a live installation token, or the sandbox asks for no token at all.
    pub fn api_token_ok(&self, headers: &HeaderMap) -> bool {
        self.token_ok(presented(headers))
    }

    /// Whether `presented` opens the sandbox.
    fn token_ok(&self, presented: &str) -> bool {
        if self.token.is_none() && self.app.is_none() {
            return true;
        }
        self.token.as_deref() == Some(presented)
            || self.installation_token_ok(presented)
            || self.users.contains_key(presented)
    }

    /// The person a request acts as, when it presents a `--user` token (`None`: the bot).
    pub fn actor(&self, headers: &HeaderMap) -> Option<String> {
        self.users.get(presented(headers)).cloned()
    }

    /// A comment's or an issue's author in GitHub's `simple-user` shape: a person, or the bot.
    pub fn user_json(&self, login: Option<&str>) -> Value {
        match login {
            Some(login) => {
                let kind = if login.ends_with("[bot]") { "Bot" } else { "User" };
                shapes::user(&self.base_url, login, 3000 + login.len() as u64, kind)
            }
            None => pulls::bot(&self.base_url),
        }
    }

    /// What GitHub's `author_association` says of `login` on `repo`: `OWNER` for the owning
    /// account, `COLLABORATOR` for anyone with a permission, else `NONE` (the bot included).
    pub fn association(&self, repo: &str, login: Option<&str>) -> &'static str {
        match login {
            Some(login) if repo.split('/').next() == Some(login) => "OWNER",
            Some(login) if self.collaborators.contains_key(login) => "COLLABORATOR",
            _ => "NONE",
        }
    }

    /// Whether `token` is an installation token that has not expired.
    pub fn installation_token_ok(&self, token: &str) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.installation_tokens.lock().expect("tokens lock").get(token).is_some_and(|expires| *expires > now)
    }

    /// A number never returned before, for minting tokens.
    pub fn mint(&self) -> u64 {
        self.minted.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Git takes HTTP Basic auth with the token as the password (any user name, as on GitHub).
fn git_token_ok(forge: &Forge, headers: &HeaderMap) -> bool {
    if forge.token.is_none() && forge.app.is_none() {
        return true;
    }
    let Some(encoded) = authorization(headers).strip_prefix("Basic ") else { return false };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_default();
    String::from_utf8_lossy(&decoded).split_once(':').is_some_and(|(_, password)| forge.token_ok(password))
}

/// The token a REST request presents (`Authorization: token T` or `Bearer T`), or "".
pub fn presented(headers: &HeaderMap) -> &str {
    let given = authorization(headers);
    given.strip_prefix("token ").or_else(|| given.strip_prefix("Bearer ")).unwrap_or_default()
}

/// The `Authorization` header's value, or "" when there is none.
pub fn authorization(headers: &HeaderMap) -> &str {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
}
