//! Issues in the sandbox, so that a person can ask harden for something in one, and harden can
//! keep its dashboard issue: open an issue (`POST /repos/{owner}/{repo}/issues`, as the `--user`
//! whose token is presented), list them (`GET …/issues?state=open|closed|all`, paged as every
//! list, with a `Link` header), read one,
//! and change its title, body or state (`PATCH …/issues/{number}`).
//! Issues and pull requests share one sequence of numbers, as on GitHub, and one comment thread
//! each.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State as Extract};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::extract::{Body, OpenRepo, Paging, created, not_found};
use super::state::{Issue, Repo, now};

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    let base = "/api/v3/repos/{owner}/{repo}";
    Router::new()
        .route(&format!("{base}/issues"), post(create).get(list))
        .route(&format!("{base}/issues/{{number}}"), get(one).patch(update))
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
        let issue = Issue {
            id,
            number: repository.next_number(),
            title: new.title,
            body: new.body,
            user,
            created_at: now(),
            closed: false,
            updated_at: String::new(),
        };
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

#[derive(Deserialize)]
struct Listing {
    state: Option<String>,
}

async fn list(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    uri: Uri,
    Query(ask): Query<Listing>,
    Query(paging): Query<Paging>,
) -> Result<Response, ApiError> {
    let state = forge.state.lock().expect("state lock");
    let repository = &state.repos[&repo.full_name];
    let wanted = ask.state.as_deref().unwrap_or("open");
    let mut shown: Vec<&Issue> =
        repository.issues.iter().filter(|i| wanted == "all" || (wanted == "closed") == i.closed).collect();
    shown.sort_by_key(|i| std::cmp::Reverse(i.number));
    Ok(paging.answer(shown, &forge.base_url, &uri, |i| issue_json(&forge, &repo, repository, i)))
}

async fn update(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Body(change): Body<super::extract::Update>,
) -> Result<Response, ApiError> {
    let issue = forge.change(|state| {
        let repository = state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?;
        let issue = repository.issues.iter_mut().find(|i| i.number.to_string() == repo.target).ok_or_else(not_found)?;
        if let Some(title) = change.title {
            issue.title = title;
        }
        if let Some(body) = change.body {
            issue.body = Some(body);
        }
        match change.state.as_deref() {
            Some("open") => issue.closed = false,
            Some("closed") => issue.closed = true,
            Some(other) => return Err(ApiError::validation("Issue", format!("state `{other}` is not open or closed"))),
            None => {}
        }
        issue.updated_at = now();
        Ok(issue.clone())
    })?;
    let state = forge.state.lock().expect("state lock");
    Ok(axum::Json(issue_json(&forge, &repo, &state.repos[&repo.full_name], &issue)).into_response())
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
        "state": if issue.closed { "closed" } else { "open" },
        "state_reason": if issue.closed { json!("completed") } else { json!(null) },
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
        "updated_at": if issue.updated_at.is_empty() { &issue.created_at } else { &issue.updated_at },
        "closed_at": if issue.closed { json!(issue.updated_at) } else { json!(null) },
    })
}
