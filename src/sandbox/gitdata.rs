//! GitHub's Git Data API over the sandbox's bare repositories: blobs, trees, commits and refs,
//! read and written with libgit2, answered in GitHub's shapes and status codes.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use git2::{ObjectType, Oid};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::extract::{Body, OpenRepo, created, not_found, oid};
use super::state::timestamp;

/// The Git Data routes, under `/api/v3/repos/{owner}/{repo}/git`. Without `writes`, creating
/// blobs, trees and commits answers 404, as on a forge that lacks those calls.
pub fn routes(writes: bool) -> Router<Arc<Forge>> {
    let base = "/api/v3/repos/{owner}/{repo}/git";
    let reads = Router::new()
        .route(&format!("{base}/blobs/{{sha}}"), get(blob))
        .route(&format!("{base}/trees/{{sha}}"), get(tree))
        .route(&format!("{base}/commits/{{sha}}"), get(commit))
        .route(&format!("{base}/refs"), post(create_ref))
        .route(&format!("{base}/ref/{{*name}}"), get(reference))
        .route(&format!("{base}/matching-refs/{{*prefix}}"), get(matching_refs))
        .route(&format!("{base}/refs/{{*name}}"), axum::routing::patch(update_ref).delete(delete_ref));
    if !writes {
        return reads;
    }
    reads
        .route(&format!("{base}/blobs"), post(create_blob))
        .route(&format!("{base}/trees"), post(create_tree))
        .route(&format!("{base}/commits"), post(create_commit))
}

#[derive(Deserialize)]
struct NewBlob {
    content: String,
    #[serde(default = "utf8")]
    encoding: String,
}

fn utf8() -> String {
    "utf-8".into()
}

async fn create_blob(repo: OpenRepo, Body(new): Body<NewBlob>) -> Result<Response, ApiError> {
    let bytes = match new.encoding.as_str() {
        "utf-8" => new.content.into_bytes(),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(new.content.replace('\n', ""))
            .map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "content is not valid base64"))?,
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("encoding `{other}` is not supported"),
            ));
        }
    };
    let sha = repo.git.blob(&bytes).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(created(json!({"sha": sha.to_string(), "url": format!("{}/git/blobs/{sha}", repo.api)})))
}

async fn blob(repo: OpenRepo) -> Result<Response, ApiError> {
    let sha = &repo.target;
    let blob = repo.git.find_blob(oid(sha)?).map_err(|_| not_found())?;
    Ok(axum::Json(json!({
        "sha": sha,
        "node_id": format!("B_{sha}"),
        "size": blob.size(),
        "url": format!("{}/git/blobs/{sha}", repo.api),
        "content": base64::engine::general_purpose::STANDARD.encode(blob.content()),
        "encoding": "base64",
    }))
    .into_response())
}

#[derive(Deserialize)]
struct NewTree {
    base_tree: Option<String>,
    tree: Vec<NewEntry>,
}

#[derive(Deserialize)]
struct NewEntry {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    /// `null` deletes the path; absent with `content` creates a blob.
    #[serde(default, with = "double_option")]
    sha: Option<Option<String>>,
    content: Option<String>,
}

/// Tells an absent field from an explicit `null`.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

async fn create_tree(repo: OpenRepo, Body(new): Body<NewTree>) -> Result<Response, ApiError> {
    let invalid = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    let base = match &new.base_tree {
        Some(sha) => repo.git.find_tree(oid(sha)?).map_err(|_| invalid(format!("base_tree {sha} is not a tree")))?,
        None => {
            let empty = repo.git.treebuilder(None).and_then(|b| b.write()).map_err(|e| invalid(e.to_string()))?;
            repo.git.find_tree(empty).map_err(|e| invalid(e.to_string()))?
        }
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    for entry in &new.tree {
        if entry.kind != "blob" {
            return Err(invalid(format!("tree.type `{}` is not supported by the sandbox", entry.kind)));
        }
        let mode = i32::from_str_radix(&entry.mode, 8).map_err(|_| invalid(format!("mode `{}`", entry.mode)))?;
        match (&entry.sha, &entry.content) {
            (Some(None), _) => {
                update.remove(&entry.path);
            }
            (Some(Some(sha)), _) => {
                let sha = oid(sha)?;
                repo.git.find_blob(sha).map_err(|_| invalid(format!("tree.sha {sha} is not a blob")))?;
                update.upsert(&entry.path, sha, mode_of(mode)?);
            }
            (None, Some(content)) => {
                let sha = repo.git.blob(content.as_bytes()).map_err(|e| invalid(e.to_string()))?;
                update.upsert(&entry.path, sha, mode_of(mode)?);
            }
            (None, None) => {
                return Err(invalid(format!("tree entry `{}` has neither sha nor content", entry.path)));
            }
        }
    }
    let sha = update.create_updated(&repo.git, &base).map_err(|e| invalid(e.to_string()))?;
    Ok(created(tree_json(&repo, sha, false, None)?))
}

fn mode_of(mode: i32) -> Result<git2::FileMode, ApiError> {
    match mode {
        0o100644 => Ok(git2::FileMode::Blob),
        0o100755 => Ok(git2::FileMode::BlobExecutable),
        0o120000 => Ok(git2::FileMode::Link),
        _ => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("mode {mode:o} is not a blob mode"))),
    }
}

#[derive(Deserialize)]
struct TreeQuery {
    recursive: Option<String>,
}

/// A tree never changes, so its ETag is its SHA (and the listing's depth): a client that sends it
/// back in `If-None-Match` gets `304 Not Modified`, which costs no rate limit.
async fn tree(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Query(query): Query<TreeQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let recursive = query.recursive.is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    // A tree SHA, or (as GitHub takes it too) a branch or tag whose commit's tree is meant.
    let sha = match oid(&repo.target) {
        Ok(sha) => sha,
        Err(_) => repo
            .git
            .revparse_single(&repo.target)
            .and_then(|object| object.peel_to_tree())
            .map(|tree| tree.id())
            .map_err(|_| not_found())?,
    };
    let etag = format!("\"{sha}{}\"", if recursive { "-r" } else { "" });
    let etag_header =
        HeaderValue::from_str(&etag).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let asked = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut answer = if asked.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag) {
        repo.git.find_tree(sha).map_err(|_| not_found())?;
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        axum::Json(tree_json(&repo, sha, recursive, forge.tree_limit)?).into_response()
    };
    answer.headers_mut().insert(header::ETAG, etag_header);
    Ok(answer)
}

/// A tree in GitHub's shape; with `recursive`, every entry below it with its full path, up to
/// `limit` entries (then `truncated` is true).
fn tree_json(repo: &OpenRepo, sha: Oid, recursive: bool, limit: Option<usize>) -> Result<Value, ApiError> {
    let tree = repo.git.find_tree(sha).map_err(|_| not_found())?;
    let mut entries = Vec::new();
    let mut add = |root: &str, entry: &git2::TreeEntry<'_>| {
        let kind = match entry.kind() {
            Some(ObjectType::Tree) => "tree",
            Some(ObjectType::Commit) => "commit",
            _ => "blob",
        };
        let mut item = json!({
            "path": format!("{root}{}", entry.name().unwrap_or_default()),
            "mode": format!("{:06o}", entry.filemode()),
            "type": kind,
            "sha": entry.id().to_string(),
            "url": format!("{}/git/{kind}s/{}", repo.api, entry.id()),
        });
        if kind == "blob" {
            let size = repo.git.find_blob(entry.id()).map(|b| b.size()).unwrap_or_default();
            item["size"] = json!(size);
        }
        entries.push(item);
    };
    if recursive {
        tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            add(root, entry);
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    } else {
        tree.iter().for_each(|entry| add("", &entry));
    }
    let truncated = recursive && limit.is_some_and(|limit| entries.len() > limit);
    if truncated {
        entries.truncate(limit.unwrap_or_default());
    }
    Ok(
        json!({"sha": sha.to_string(), "url": format!("{}/git/trees/{sha}", repo.api), "tree": entries, "truncated": truncated}),
    )
}

#[derive(Deserialize)]
struct NewCommit {
    message: String,
    tree: String,
    #[serde(default)]
    parents: Vec<String>,
    author: Option<Person>,
}

#[derive(Deserialize)]
struct Person {
    name: String,
    email: String,
}

/// Who the forge commits as when the caller names no author; such commits are marked Verified,
/// as GitHub signs them.
const FORGE_NAME: &str = "harden-sandbox[bot]";
const FORGE_EMAIL: &str = "bot@sandbox.invalid";

async fn create_commit(repo: OpenRepo, Body(new): Body<NewCommit>) -> Result<Response, ApiError> {
    let invalid = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    let tree =
        repo.git.find_tree(oid(&new.tree)?).map_err(|_| invalid(format!("Tree SHA does not exist: {}", new.tree)))?;
    let mut parents = Vec::new();
    for parent in &new.parents {
        parents.push(
            repo.git.find_commit(oid(parent)?).map_err(|_| invalid(format!("Parent SHA does not exist: {parent}")))?,
        );
    }
    let committer = git2::Signature::now(FORGE_NAME, FORGE_EMAIL).map_err(|e| invalid(e.to_string()))?;
    let author = match &new.author {
        Some(person) => git2::Signature::now(&person.name, &person.email).map_err(|e| invalid(e.to_string()))?,
        None => committer.clone(),
    };
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let sha = repo
        .git
        .commit(None, &author, &committer, &new.message, &tree, &parent_refs)
        .map_err(|e| invalid(e.to_string()))?;
    Ok(created(commit_json(&repo, sha)?))
}

async fn commit(repo: OpenRepo) -> Result<Response, ApiError> {
    Ok(axum::Json(commit_json(&repo, oid(&repo.target)?)?).into_response())
}

/// A commit in GitHub's `git-commit` shape.
fn commit_json(repo: &OpenRepo, sha: Oid) -> Result<Value, ApiError> {
    let commit = repo.git.find_commit(sha).map_err(|_| not_found())?;
    let person = |s: git2::Signature<'_>| {
        let date = timestamp(s.when().seconds());
        json!({"name": s.name().unwrap_or_default(), "email": s.email().unwrap_or_default(), "date": date})
    };
    let verified = commit.author().email() == Some(FORGE_EMAIL);
    Ok(json!({
        "sha": sha.to_string(),
        "node_id": format!("C_{sha}"),
        "url": format!("{}/git/commits/{sha}", repo.api),
        "html_url": format!("{}/commit/{sha}", repo.api.replace("/api/v3/repos", "")),
        "author": person(commit.author()),
        "committer": person(commit.committer()),
        "message": commit.message().unwrap_or_default(),
        "tree": {"sha": commit.tree_id().to_string(), "url": format!("{}/git/trees/{}", repo.api, commit.tree_id())},
        "parents": commit.parent_ids().map(|p| json!({
            "sha": p.to_string(),
            "url": format!("{}/git/commits/{p}", repo.api),
            "html_url": format!("{}/commit/{p}", repo.api.replace("/api/v3/repos", "")),
        })).collect::<Vec<_>>(),
        "verification": {
            "verified": verified,
            "reason": if verified { "valid" } else { "unsigned" },
            "signature": null,
            "payload": null,
            "verified_at": null,
        },
    }))
}

#[derive(Deserialize)]
struct NewRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
}

#[derive(Deserialize)]
struct RefUpdate {
    sha: String,
    #[serde(default)]
    force: bool,
}

async fn reference(repo: OpenRepo) -> Result<Response, ApiError> {
    Ok(axum::Json(ref_json(&repo, &format!("refs/{}", repo.target))?).into_response())
}

/// Every reference whose name (after `refs/`) starts with the prefix, as GitHub lists them.
async fn matching_refs(repo: OpenRepo) -> Result<Response, ApiError> {
    let prefix = format!("refs/{}", repo.target);
    let names: Vec<String> = repo
        .git
        .references()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .flatten()
        .filter_map(|r| r.name().map(str::to_string))
        .filter(|name| name.starts_with(&prefix))
        .collect();
    let listed: Result<Vec<Value>, ApiError> = names.iter().map(|name| ref_json(&repo, name)).collect();
    Ok(axum::Json(listed?).into_response())
}

async fn create_ref(repo: OpenRepo, Body(new): Body<NewRef>) -> Result<Response, ApiError> {
    let invalid = |message: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    if !new.name.starts_with("refs/") || new.name.matches('/').count() < 2 {
        return Err(invalid("Reference name must start with 'refs/' and have at least two slashes."));
    }
    if repo.git.find_reference(&new.name).is_ok() {
        return Err(invalid("Reference already exists"));
    }
    let sha = oid(&new.sha)?;
    repo.git.find_commit(sha).map_err(|_| invalid("Object does not exist"))?;
    repo.git.reference(&new.name, sha, false, "sandbox: create").map_err(|e| invalid(&e.to_string()))?;
    Ok(created(ref_json(&repo, &new.name)?))
}

async fn update_ref(repo: OpenRepo, Body(update): Body<RefUpdate>) -> Result<Response, ApiError> {
    let invalid = |message: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    let full = format!("refs/{}", repo.target);
    let current = repo.git.find_reference(&full).map_err(|_| invalid("Reference does not exist"))?;
    let old = current.target().ok_or_else(|| invalid("Reference is symbolic"))?;
    let new = oid(&update.sha)?;
    repo.git.find_commit(new).map_err(|_| invalid("Object does not exist"))?;
    let fast_forward = old == new || repo.git.graph_descendant_of(new, old).unwrap_or(false);
    if !fast_forward && !update.force {
        return Err(invalid("Update is not a fast forward"));
    }
    repo.git.reference(&full, new, true, "sandbox: update").map_err(|e| invalid(&e.to_string()))?;
    Ok(axum::Json(ref_json(&repo, &full)?).into_response())
}

/// Deletes a reference. As on GitHub, the pull requests from a deleted branch keep its last
/// commit as their head, and the open ones are closed.
async fn delete_ref(Extract(forge): Extract<Arc<Forge>>, repo: OpenRepo) -> Result<Response, ApiError> {
    let mut reference = repo
        .git
        .find_reference(&format!("refs/{}", repo.target))
        .map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Reference does not exist"))?;
    let last = reference.target().map(|sha| sha.to_string());
    if let Some(branch) = repo.target.strip_prefix("heads/") {
        forge.change(|state| {
            let pulls = &mut state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?.pulls;
            for pull in pulls.iter_mut().filter(|p| p.head == branch) {
                pull.head_sha = last.clone();
                if pull.state == "open" {
                    pull.state = "closed".into();
                    pull.closed_at = Some(super::state::now());
                }
            }
            Ok(())
        })?;
    }
    reference.delete().map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A reference in GitHub's `git-ref` shape.
fn ref_json(repo: &OpenRepo, full: &str) -> Result<Value, ApiError> {
    let reference = repo.git.find_reference(full).map_err(|_| not_found())?;
    let sha = reference.target().ok_or_else(not_found)?;
    Ok(json!({
        "ref": full,
        "node_id": format!("REF_{full}"),
        "url": format!("{}/git/{full}", repo.api),
        "object": {"type": "commit", "sha": sha.to_string(), "url": format!("{}/git/commits/{sha}", repo.api)},
    }))
}
