//! GitHub's OAuth web flow and the two reads a signed-in app makes, for the dashboard's sign-in:
//! `GET /login/oauth/authorize` (the person signed in at the forge, `--oauth-user`, approves at
//! once and is sent back with a one-time code), `POST /login/oauth/access_token` (the code,
//! with the app's id and secret, for that person's `--user` token), `GET /user`, and
//! `GET /user/memberships/orgs/{org}` (from `--member ORG=LOGIN`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::api::{ApiError, Forge};
use super::shapes;

/// An OAuth app the sandbox knows, `CLIENT_ID=SECRET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// Its client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
}

impl std::str::FromStr for OAuthApp {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (client_id, client_secret) = super::pair(text, "CLIENT_ID=SECRET")?;
        Ok(OAuthApp { client_id, client_secret })
    }
}

/// A member of an organisation, `ORG=LOGIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The organisation.
    pub org: String,
    /// The person.
    pub login: String,
}

impl std::str::FromStr for Member {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (org, login) = super::pair(text, "ORG=LOGIN")?;
        Ok(Member { org, login })
    }
}

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/api/v3/user", get(user))
        .route("/api/v3/user/memberships/orgs/{org}", get(membership))
}

#[derive(Deserialize)]
struct Authorize {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
}

async fn authorize(Extract(forge): Extract<Arc<Forge>>, Query(ask): Query<Authorize>) -> Response {
    let known = forge.oauth.as_ref().is_some_and(|app| app.client_id == ask.client_id);
    let Some(login) = forge.oauth_user.clone().filter(|_| known) else {
        return (StatusCode::NOT_FOUND, "no such OAuth app, or nobody signed in at the forge\n").into_response();
    };
    let Ok(mut back) = url::Url::parse(&ask.redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not a URL\n").into_response();
    };
    back.query_pairs_mut().append_pair("code", &forge.mint_code(&login));
    if let Some(state) = &ask.state {
        back.query_pairs_mut().append_pair("state", state);
    }
    Redirect::to(back.as_str()).into_response()
}

#[derive(Deserialize)]
struct Exchange {
    client_id: String,
    client_secret: String,
    code: String,
}

/// GitHub answers JSON to `Accept: application/json`; harden asks so. The body may be a form or
/// JSON, as GitHub takes both.
async fn access_token(Extract(forge): Extract<Arc<Forge>>, headers: HeaderMap, body: String) -> Response {
    let json_body = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let exchange: Option<Exchange> =
        if json_body { serde_json::from_str(&body).ok() } else { serde_urlencoded::from_str(&body).ok() };
    let Some(exchange) = exchange else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "bad_request"}))).into_response();
    };
    let app_ok = forge
        .oauth
        .as_ref()
        .is_some_and(|app| app.client_id == exchange.client_id && app.client_secret == exchange.client_secret);
    let token = forge.redeem(&exchange.code).and_then(|login| forge.users.iter().find(|(_, l)| **l == login));
    match (app_ok, token) {
        (true, Some((token, _))) => {
            axum::Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:org"})).into_response()
        }
        // GitHub answers 200 with an error for a bad code.
        _ => axum::Json(json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
        }))
        .into_response(),
    }
}

async fn user(Extract(forge): Extract<Arc<Forge>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let login =
        forge.actor(&headers).ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Requires authentication"))?;
    let mut user = shapes::user(&forge.base_url, &login, 3000 + login.len() as u64, "User");
    for (key, value) in
        [("name", json!(null)), ("company", json!(null)), ("blog", json!("")), ("location", json!(null))]
    {
        user[key] = value;
    }
    for (key, value) in [("email", json!(null)), ("hireable", json!(null)), ("bio", json!(null))] {
        user[key] = value;
    }
    for key in ["public_repos", "public_gists", "followers", "following"] {
        user[key] = json!(0);
    }
    user["created_at"] = json!("2020-01-01T00:00:00Z");
    user["updated_at"] = json!("2020-01-01T00:00:00Z");
    Ok(axum::Json(user).into_response())
}

async fn membership(
    Extract(forge): Extract<Arc<Forge>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let login =
        forge.actor(&headers).ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Requires authentication"))?;
    if !forge.members.iter().any(|m| m.org == org && m.login == login) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found"));
    }
    let base = &forge.base_url;
    Ok(axum::Json(json!({
        "url": format!("{base}/api/v3/orgs/{org}/memberships/{login}"),
        "state": "active",
        "role": "member",
        "organization_url": format!("{base}/api/v3/orgs/{org}"),
        "organization": {
            "login": org,
            "id": 2000 + org.len(),
            "node_id": format!("O_sandbox{org}"),
            "url": format!("{base}/api/v3/orgs/{org}"),
            "repos_url": format!("{base}/api/v3/orgs/{org}/repos"),
            "events_url": format!("{base}/api/v3/orgs/{org}/events"),
            "hooks_url": format!("{base}/api/v3/orgs/{org}/hooks"),
            "issues_url": format!("{base}/api/v3/orgs/{org}/issues"),
            "members_url": format!("{base}/api/v3/orgs/{org}/members{{/member}}"),
            "public_members_url": format!("{base}/api/v3/orgs/{org}/public_members{{/member}}"),
            "avatar_url": format!("{base}/avatars/{org}"),
            "description": null,
        },
        "user": shapes::user(base, &login, 3000 + login.len() as u64, "User"),
    }))
    .into_response())
}

impl Forge {
    /// A one-time code for `login`.
    fn mint_code(&self, login: &str) -> String {
        let mut codes = self.oauth_codes.lock().expect("codes lock");
        let code = format!("code{:08}", codes.len() + 1);
        codes.insert(code.clone(), Some(login.to_string()));
        code
    }

    /// The login a code was minted for; a code is redeemed once.
    fn redeem(&self, code: &str) -> Option<String> {
        self.oauth_codes.lock().expect("codes lock").get_mut(code)?.take()
    }
}
