//! What every REST handler of the sandbox starts from: the repository the path names (after the
//! token check) and a JSON body parsed with GitHub's status codes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use git2::{Oid, Repository};
use serde::Deserialize;
use serde_json::Value;

use super::api::{ApiError, Forge};
use super::git;

/// The repository a request names, opened, with its API address.
pub struct OpenRepo {
    /// The bare repository.
    pub git: Repository,
    /// Its REST address, such as `http://ADDR/api/v3/repos/acme/api`.
    pub api: String,
    /// `owner/name`.
    pub full_name: String,
    /// The path's last parameter: an object's SHA, a reference's name, a pull request's number,
    /// a file's path or a comment's id.
    pub target: String,
}

/// Opens the repository a request names after the token check, or says why not (401, 404).
impl FromRequestParts<Arc<Forge>> for OpenRepo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, forge: &Arc<Forge>) -> Result<Self, ApiError> {
        if !forge.api_token_ok(&parts.headers) {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials"));
        }
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, forge)
            .await
            .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e.to_string()))?;
        let (owner, name) = (&params["owner"], &params["repo"]);
        if !forge.state.lock().expect("state lock").repos.contains_key(&format!("{owner}/{name}")) {
            return Err(not_found());
        }
        let git = Repository::open_bare(git::bare_path(&forge.git_root, owner, name))
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let target = ["sha", "name", "number", "path", "id", "prefix"]
            .iter()
            .find_map(|key| params.get(*key))
            .cloned()
            .unwrap_or_default();
        let full_name = format!("{owner}/{name}");
        Ok(OpenRepo { git, api: format!("{}/api/v3/repos/{full_name}", forge.base_url), full_name, target })
    }
}

/// A JSON body parsed as GitHub does: 400 "Problems parsing JSON" when it is not JSON at all,
/// 422 when it lacks what the call needs.
pub struct Body<T>(pub T);

impl<T: for<'de> Deserialize<'de>> FromRequest<Arc<Forge>> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, forge: &Arc<Forge>) -> Result<Self, ApiError> {
        let unparsable = || ApiError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON");
        let bytes = Bytes::from_request(request, forge).await.map_err(|_| unparsable())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| unparsable())?;
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("Invalid request: {e}")))
    }
}

/// A SHA from a request, or 422.
pub fn oid(text: &str) -> Result<Oid, ApiError> {
    Oid::from_str(text).map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("`{text}` is not a SHA")))
}

/// GitHub's 404.
pub fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

/// A 201 with a JSON body.
pub fn created(value: Value) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// GitHub's paging parameters: `per_page` (default 30, at most 100) and `page` (from 1).
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    per_page: Option<usize>,
    page: Option<usize>,
}

impl Paging {
    /// The page size asked for: 30 by default, at most 100.
    pub fn size(&self) -> usize {
        self.per_page.unwrap_or(30).clamp(1, 100)
    }

    /// The page asked for, from 1.
    pub fn page(&self) -> usize {
        self.page.unwrap_or(1).max(1)
    }

    /// The page of `items` asked for, as GitHub answers a list: the JSON array, with a `Link`
    /// header (`prev`, `next`, `last`, `first`) when there is more than one page. `base` and
    /// `uri` make the links' address.
    pub fn answer<T>(&self, items: Vec<T>, base: &str, uri: &Uri, json: impl Fn(T) -> Value) -> Response {
        let (size, page) = (self.size(), self.page());
        let pages = items.len().div_ceil(size).max(1);
        let list: Vec<Value> = items.into_iter().skip((page - 1).saturating_mul(size)).take(size).map(json).collect();
        let mut answer = axum::Json(list).into_response();
        let kept: Vec<&str> = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("page=") && !pair.starts_with("per_page="))
            .collect();
        let link = |to: usize, rel: &str| {
            let mut pairs: Vec<String> = kept.iter().map(|p| p.to_string()).collect();
            pairs.extend([format!("per_page={size}"), format!("page={to}")]);
            format!("<{base}{}?{}>; rel=\"{rel}\"", uri.path(), pairs.join("&"))
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(link(page - 1, "prev"));
        }
        if page < pages {
            links.push(link(page + 1, "next"));
            links.push(link(pages, "last"));
        }
        if page > 1 {
            links.push(link(1, "first"));
        }
        if let (false, Ok(value)) = (links.is_empty(), HeaderValue::from_str(&links.join(", "))) {
            answer.headers_mut().insert(header::LINK, value);
        }
        answer
    }
}

/// The body of a `PATCH` to a pull request or an issue: what it changes.
#[derive(Debug, serde::Deserialize)]
pub struct Update {
    /// A new title.
    pub title: Option<String>,
    /// A new body.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: Option<String>,
}
