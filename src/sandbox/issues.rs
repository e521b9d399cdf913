//! Issues in the sandbox, so that a person can ask harden for something in one: open an issue
//! (`POST /repos/{owner}/{repo}/issues`, as the `--user` whose token is presented) and read it.
//! Issues and pull requests share one sequence of numbers, as on GitHub, and one comment thread
//! each.

use std::sync::Arc;

use axum::Router;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::extract::{Body, OpenRepo, created, not_found};
use super::state::{Issue, Repo, now};

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    let base = "/api/v3/repos/{owner}/{repo}";
    Router::new().route(&format!("{base}/issues"), post(create)).route(&format!("{base}/issues/{{number}}"), get(one))
}

#[derive(Deserialize)]
struct NewIssue {
    title: String,
    body: Option<String>,
}

async fn create(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    headers: HeaderMap,
    Body(new): Body<NewIssue>,
) -> Result<Response, ApiError> {
    let user = forge.actor(&headers);
    let issue = forge.change(|state| {
        let id = state.next_id();
        let repository = state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?;
        let issue =
            Issue { id, number: repository.next_number(), title: new.title, body: new.body, user, created_at: now() };
        repository.issues.push(issue.clone());
        Ok(issue)
    })?;
    let state = forge.state.lock().expect("state lock");
    Ok(created(issue_json(&forge, &repo, &state.repos[&repo.full_name], &issue)))
}

async fn one(Extract(forge): Extract<Arc<Forge>>, repo: OpenRepo) -> Result<Response, ApiError> {
    let state = forge.state.lock().expect("state lock");
    let repository = &state.repos[&repo.full_name];
    let issue = repository.issues.iter().find(|i| i.number.to_string() == repo.target).ok_or_else(not_found)?;
    Ok(axum::Json(issue_json(&forge, &repo, repository, issue)).into_response())
}

/// An issue in GitHub's `issue` shape.
fn issue_json(forge: &Forge, open: &OpenRepo, repo: &Repo, issue: &Issue) -> Value {
    let api = format!("{}/issues/{}", open.api, issue.number);
    json!({
        "id": issue.id,
        "node_id": format!("I_sandbox{}", issue.id),
        "url": api,
        "repository_url": open.api,
        "labels_url": format!("{api}/labels{{/name}}"),
        "comments_url": format!("{api}/comments"),
        "events_url": format!("{api}/events"),
        "html_url": format!("{}/{}/issues/{}", forge.base_url, open.full_name, issue.number),
        "number": issue.number,
        "state": "open",
        "state_reason": null,
        "title": issue.title,
        "body": issue.body,
        "user": forge.user_json(issue.user.as_deref()),
        "labels": [],
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": repo.comments.iter().filter(|c| c.number == issue.number).count(),
        "author_association": forge.association(&open.full_name, issue.user.as_deref()),
        "created_at": issue.created_at,
        "updated_at": issue.created_at,
        "closed_at": null,
    })
}
