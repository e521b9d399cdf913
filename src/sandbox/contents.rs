//! `GET /repos/{owner}/{repo}/contents/{path}?ref=`: a file (base64, in GitHub's `content-file`
//! shape) or a directory's listing, read from any branch, tag or commit.

use std::sync::Arc;

use axum::Router;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use git2::ObjectType;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::extract::{OpenRepo, not_found};

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    Router::new().route("/api/v3/repos/{owner}/{repo}/contents/{*path}", get(contents))
}

#[derive(Deserialize)]
struct ContentsQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

async fn contents(repo: OpenRepo, Query(query): Query<ContentsQuery>) -> Result<Response, ApiError> {
    let reference = query.reference.unwrap_or_else(|| "HEAD".into());
    let commit = repo.git.revparse_single(&reference).and_then(|o| o.peel_to_commit()).map_err(|_| not_found())?;
    let tree = commit.tree().map_err(|_| not_found())?;
    let path = repo.target.trim_matches('/').to_string();
    let entry = tree.get_path(std::path::Path::new(&path)).map_err(|_| not_found())?;
    match entry.kind() {
        Some(ObjectType::Blob) => {
            let blob = repo.git.find_blob(entry.id()).map_err(|_| not_found())?;
            let mut file = item(&repo, &path, "file", &entry.id().to_string(), blob.size(), &reference);
            // GitHub wraps the base64 at 60 characters.
            let encoded = base64::engine::general_purpose::STANDARD.encode(blob.content());
            let wrapped: Vec<&str> =
                encoded.as_bytes().chunks(60).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
            file["encoding"] = json!("base64");
            file["content"] = json!(wrapped.join("\n") + "\n");
            Ok(axum::Json(file).into_response())
        }
        Some(ObjectType::Tree) => {
            let dir = repo.git.find_tree(entry.id()).map_err(|_| not_found())?;
            let listing: Vec<Value> = dir
                .iter()
                .map(|e| {
                    let child = format!("{path}/{}", e.name().unwrap_or_default());
                    let (kind, size) = match e.kind() {
                        Some(ObjectType::Tree) => ("dir", 0),
                        _ => ("file", repo.git.find_blob(e.id()).map(|b| b.size()).unwrap_or_default()),
                    };
                    item(&repo, &child, kind, &e.id().to_string(), size, &reference)
                })
                .collect();
            Ok(axum::Json(listing).into_response())
        }
        _ => Err(not_found()),
    }
}

/// The fields every content entry has.
fn item(repo: &OpenRepo, path: &str, kind: &str, sha: &str, size: usize, reference: &str) -> Value {
    let url = format!("{}/contents/{path}?ref={reference}", repo.api);
    let git_url = format!("{}/git/{}/{sha}", repo.api, if kind == "dir" { "trees" } else { "blobs" });
    let site = repo.api.replacen("/api/v3/repos/", "/", 1);
    let html_url = format!("{site}/{}/{reference}/{path}", if kind == "dir" { "tree" } else { "blob" });
    let download_url = (kind == "file").then(|| format!("{site}/raw/{reference}/{path}"));
    json!({
        "type": kind,
        "size": size,
        "name": path.rsplit('/').next().unwrap_or(path),
        "path": path,
        "sha": sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": download_url,
        "_links": {"self": url, "git": git_url, "html": html_url},
    })
}
