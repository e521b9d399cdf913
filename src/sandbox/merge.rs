//! `PUT /repos/{owner}/{repo}/pulls/{number}/merge`: a real merge with libgit2 (a merge commit,
//! or one squashed commit with `merge_method: squash`) that moves the base branch, with GitHub's
//! refusals: 405 when the pull request is closed or the branches conflict, 409 when `sha` is not
//! the head any more.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::api::{ApiError, Forge};
use super::extract::{OpenRepo, not_found};
use super::pulls::{USER, find, find_mut};
use super::state::now;

#[derive(Default, Deserialize)]
struct MergeRequest {
    sha: Option<String>,
    merge_method: Option<String>,
    commit_title: Option<String>,
}

fn not_mergeable() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Pull Request is not mergeable")
}

fn internal(error: git2::Error) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

/// Merges the pull request into its base.
pub(super) async fn merge(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    body: Bytes,
) -> Result<Response, ApiError> {
    let asked: MergeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        MergeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON"))?
    };
    let pull = {
        let state = forge.state.lock().expect("state lock");
        find(&state.repos[&repo.full_name].pulls, &repo.target)?.clone()
    };
    if pull.state != "open" {
        return Err(not_mergeable());
    }
    let git = &repo.git;
    let tip = |name: &str| git.find_reference(&format!("refs/heads/{name}")).and_then(|r| r.peel_to_commit());
    let (base, head) = (tip(&pull.base).map_err(|_| not_mergeable())?, tip(&pull.head).map_err(|_| not_mergeable())?);
    if asked.sha.as_ref().is_some_and(|sha| *sha != head.id().to_string()) {
        return Err(ApiError::new(StatusCode::CONFLICT, "Head branch was modified. Review and try the merge again."));
    }
    let mut index = git.merge_commits(&base, &head, None).map_err(internal)?;
    if index.has_conflicts() {
        return Err(not_mergeable());
    }
    let tree = git.find_tree(index.write_tree_to(git).map_err(internal)?).map_err(internal)?;
    let signature = git2::Signature::now(USER, "sandbox@harden.invalid").map_err(internal)?;
    let owner = repo.full_name.split('/').next().unwrap_or_default();
    let squash = asked.merge_method.as_deref() == Some("squash");
    let title = asked.commit_title.unwrap_or_else(|| {
        if squash {
            format!("{} (#{})", pull.title, pull.number)
        } else {
            format!("Merge pull request #{} from {owner}/{}", pull.number, pull.head)
        }
    });
    let parents: Vec<&git2::Commit<'_>> = if squash { vec![&base] } else { vec![&base, &head] };
    let message = format!("{title}\n\n{}\n", pull.title);
    let sha = git
        .commit(Some(&format!("refs/heads/{}", pull.base)), &signature, &signature, &message, &tree, &parents)
        .map_err(internal)?
        .to_string();
    forge.change(|state| {
        let pulls = &mut state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?.pulls;
        let pull = find_mut(pulls, &repo.target)?;
        let at = now();
        pull.state = "closed".into();
        pull.closed_at = Some(at.clone());
        pull.merged_at = Some(at.clone());
        pull.merge_commit_sha = Some(sha.clone());
        pull.updated_at = at;
        Ok(())
    })?;
    Ok(axum::Json(json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"})).into_response())
}
