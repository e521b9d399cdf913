//! Pull requests in the sandbox, in GitHub's shapes: list with filters, create (refusing a second
//! open one for the same branch), read, update, close; their comments and labels. Every change is
//! saved before it is answered.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State as Extract};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::extract::{Body, OpenRepo, Paging, created, not_found};
use super::shapes;
use super::state::{Comment, Label, Pull, Repo, now};

/// The routes, under `/api/v3/repos/{owner}/{repo}`.
pub fn routes() -> Router<Arc<Forge>> {
    let base = "/api/v3/repos/{owner}/{repo}";
    Router::new()
        .route(&format!("{base}/pulls"), get(list).post(create))
        .route(&format!("{base}/pulls/{{number}}"), get(one).patch(update))
        .route(&format!("{base}/issues/{{number}}/comments"), get(comments).post(comment))
        .route(&format!("{base}/issues/{{number}}/labels"), axum::routing::post(add_labels))
        .route(&format!("{base}/pulls/{{number}}/requested_reviewers"), axum::routing::post(super::reviews::request))
        .route(&format!("{base}/pulls/{{number}}/merge"), axum::routing::put(super::merge::merge))
}

/// The login every change is made as: the sandbox has one user.
pub(super) const USER: &str = "harden-sandbox[bot]";

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    head: Option<String>,
    base: Option<String>,
}

/// The branch a `head` names, with or without GitHub's `owner:` prefix.
fn branch_of(head: &str) -> &str {
    head.split_once(':').map_or(head, |(_, branch)| branch)
}

async fn list(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Query(query): Query<ListQuery>,
    Query(paging): Query<Paging>,
    uri: Uri,
) -> Response {
    let state = forge.state.lock().expect("state lock");
    let wanted = query.state.as_deref().unwrap_or("open");
    let pulls: Vec<&Pull> = state.repos[&repo.full_name]
        .pulls
        .iter()
        .rev()
        .filter(|p| wanted == "all" || p.state == wanted)
        .filter(|p| query.head.as_deref().is_none_or(|h| branch_of(h) == p.head))
        .filter(|p| query.base.as_deref().is_none_or(|b| b == p.base))
        .collect();
    paging.answer(pulls, &forge.base_url, &uri, |p| pull_json(&forge.base_url, &repo, &state.repos[&repo.full_name], p))
}

#[derive(Deserialize)]
struct NewPull {
    title: String,
    head: String,
    base: String,
    body: Option<String>,
}

async fn create(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Body(new): Body<NewPull>,
) -> Result<Response, ApiError> {
    let head = branch_of(&new.head).to_string();
    for (field, branch) in [("head", &head), ("base", &new.base)] {
        if repo.git.find_reference(&format!("refs/heads/{branch}")).is_err() {
            return Err(ApiError::validation("PullRequest", format!("{field} `{branch}` is not a branch")));
        }
    }
    let pull = forge.change(|state| {
        let id = state.next_id();
        let repository = state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?;
        let number = repository.next_number();
        let pulls = &mut repository.pulls;
        if pulls.iter().any(|p| p.state == "open" && p.head == head && p.base == new.base) {
            let owner = repo.full_name.split('/').next().unwrap_or_default();
            return Err(ApiError::validation(
                "PullRequest",
                format!("A pull request already exists for {owner}:{head}."),
            ));
        }
        let at = now();
        let pull = Pull {
            id,
            number,
            title: new.title,
            body: new.body,
            head,
            base: new.base,
            state: "open".into(),
            created_at: at.clone(),
            updated_at: at,
            closed_at: None,
            labels: Vec::new(),
            reviewers: Vec::new(),
            teams: Vec::new(),
            merged_at: None,
            merge_commit_sha: None,
            head_sha: None,
        };
        pulls.push(pull.clone());
        Ok(pull)
    })?;
    let state = forge.state.lock().expect("state lock");
    Ok(created(pull_json(&forge.base_url, &repo, &state.repos[&repo.full_name], &pull)))
}

/// The pull request numbered `number` (as the path spells it), or 404.
pub(super) fn find<'a>(pulls: &'a [Pull], number: &str) -> Result<&'a Pull, ApiError> {
    pulls.iter().find(|p| p.number.to_string() == number).ok_or_else(not_found)
}

/// The pull request numbered `number`, to change, or 404.
pub(super) fn find_mut<'a>(pulls: &'a mut [Pull], number: &str) -> Result<&'a mut Pull, ApiError> {
    pulls.iter_mut().find(|p| p.number.to_string() == number).ok_or_else(not_found)
}

async fn one(Extract(forge): Extract<Arc<Forge>>, repo: OpenRepo) -> Result<Response, ApiError> {
    let state = forge.state.lock().expect("state lock");
    let pull = find(&state.repos[&repo.full_name].pulls, &repo.target)?;
    Ok(axum::Json(pull_json(&forge.base_url, &repo, &state.repos[&repo.full_name], pull)).into_response())
}

async fn update(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Body(change): Body<super::extract::Update>,
) -> Result<Response, ApiError> {
    let pull = forge.change(|state| {
        let pulls = &mut state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?.pulls;
        let pull = find_mut(pulls, &repo.target)?;
        let at = now();
        if let Some(title) = change.title {
            pull.title = title;
        }
        if let Some(body) = change.body {
            pull.body = Some(body);
        }
        match change.state.as_deref() {
            Some("closed") if pull.state == "open" => {
                pull.state = "closed".into();
                pull.closed_at = Some(at.clone());
            }
            Some("open") if pull.state == "closed" => {
                pull.state = "open".into();
                pull.closed_at = None;
            }
            Some("open" | "closed") | None => {}
            Some(other) => {
                return Err(ApiError::validation("PullRequest", format!("state `{other}` is not open or closed")));
            }
        }
        pull.updated_at = at;
        Ok(pull.clone())
    })?;
    let state = forge.state.lock().expect("state lock");
    Ok(axum::Json(pull_json(&forge.base_url, &repo, &state.repos[&repo.full_name], &pull)).into_response())
}

/// The sandbox's one user, as GitHub shows a bot.
pub(super) fn bot(base: &str) -> Value {
    shapes::user(base, USER, 2, "Bot")
}

/// A pull request in GitHub's `pull-request` shape, with its size measured from the branches.
pub(super) fn pull_json(base: &str, open: &OpenRepo, repo: &Repo, pull: &Pull) -> Value {
    let html = format!("{base}/{}/pull/{}", open.full_name, pull.number);
    let api = format!("{}/pulls/{}", open.api, pull.number);
    let issue = format!("{}/issues/{}", open.api, pull.number);
    let tip = |name: &str| open.git.refname_to_id(&format!("refs/heads/{name}")).ok();
    let head = tip(&pull.head).or_else(|| pull.head_sha.as_deref().and_then(|sha| git2::Oid::from_str(sha).ok()));
    let base_tip = tip(&pull.base);
    let branch = |name: &str, sha: Option<git2::Oid>| {
        json!({"ref": name, "label": format!("{}:{name}", repo.owner), "sha": sha.map(|s| s.to_string()),
               "user": shapes::user(base, &repo.owner, 1, "Organization"), "repo": shapes::repository(base, repo)})
    };
    let (commits, (additions, deletions, changed_files)) = match (head, base_tip) {
        (Some(head), Some(base_tip)) => {
            let ahead = open.git.graph_ahead_behind(head, base_tip).map_or(0, |(ahead, _)| ahead);
            (ahead, diff_stats(&open.git, base_tip, head))
        }
        _ => (0, (0, 0, 0)),
    };
    let link = |href: String| json!({"href": href});
    let mut value = json!({
        "id": pull.id,
        "node_id": format!("PR_sandbox{}", pull.id),
        "number": pull.number,
        "state": pull.state,
        "locked": false,
        "draft": false,
        "title": pull.title,
        "body": pull.body,
        "user": bot(base),
        "author_association": "NONE",
        "url": api,
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue,
        "comments_url": format!("{issue}/comments"),
        "commits_url": format!("{api}/commits"),
        "review_comments_url": format!("{api}/comments"),
        "review_comment_url": format!("{}/pulls/comments{{/number}}", open.api),
        "statuses_url": format!("{}/statuses/{}", open.api, head.map(|h| h.to_string()).unwrap_or_default()),
        "_links": {
            "self": link(api.clone()),
            "html": link(html.clone()),
            "issue": link(issue.clone()),
            "comments": link(format!("{issue}/comments")),
            "review_comments": link(format!("{api}/comments")),
            "review_comment": link(format!("{}/pulls/comments{{/number}}", open.api)),
            "commits": link(format!("{api}/commits")),
            "statuses": link(format!("{}/statuses/{}", open.api, head.map(|h| h.to_string()).unwrap_or_default())),
        },
        "head": branch(&pull.head, head),
        "base": branch(&pull.base, base_tip),
        "created_at": pull.created_at,
        "updated_at": pull.updated_at,
        "closed_at": pull.closed_at,
    });
    let labels: Vec<Value> = pull.labels.iter().filter_map(|name| label_json(open, repo, name)).collect();
    let state = json!({
        "labels": labels,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": pull.reviewers.iter().enumerate().map(|(i, login)| shapes::user(base, login, 1000 + i as u64, "User")).collect::<Vec<_>>(),
        "requested_teams": pull.teams.iter().enumerate().map(|(i, slug)| shapes::team(base, &repo.owner, slug, 2000 + i as u64)).collect::<Vec<_>>(),
        "milestone": null,
        "auto_merge": null,
        "active_lock_reason": null,
        "merged": pull.merged_at.is_some(),
        "merged_at": pull.merged_at,
        "merged_by": pull.merged_at.as_ref().map(|_| bot(base)),
        "merge_commit_sha": pull.merge_commit_sha,
        "mergeable": null,
        "mergeable_state": "unknown",
        "maintainer_can_modify": false,
        "commits": commits,
        "additions": additions,
        "deletions": deletions,
        "changed_files": changed_files,
        "comments": repo.comments.iter().filter(|c| c.number == pull.number).count(),
        "review_comments": 0,
    });
    if let (Some(value), Value::Object(state)) = (value.as_object_mut(), state) {
        value.extend(state);
    }
    value
}

/// Lines added, lines deleted and files changed from `from` to `to`, as `git diff --shortstat`.
fn diff_stats(git: &git2::Repository, from: git2::Oid, to: git2::Oid) -> (usize, usize, usize) {
    let tree = |oid| git.find_commit(oid).and_then(|c| c.tree());
    let stats = tree(from)
        .and_then(|from| tree(to).and_then(|to| git.diff_tree_to_tree(Some(&from), Some(&to), None)))
        .and_then(|diff| diff.stats());
    stats.map_or((0, 0, 0), |s| (s.insertions(), s.deletions(), s.files_changed()))
}

async fn comments(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Query(paging): Query<Paging>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let state = forge.state.lock().expect("state lock");
    let repository = &state.repos[&repo.full_name];
    let number = repository.has_thread(&repo.target).ok_or_else(not_found)?;
    let on_thread: Vec<&Comment> = repository.comments.iter().filter(|c| c.number == number).collect();
    Ok(paging.answer(on_thread, &forge.base_url, &uri, |c| comment_json(&forge, &repo, c)))
}

#[derive(Deserialize)]
struct NewComment {
    body: String,
}

async fn comment(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    headers: HeaderMap,
    Body(new): Body<NewComment>,
) -> Result<Response, ApiError> {
    let user = forge.actor(&headers);
    let comment = forge.change(|state| {
        let id = state.next_id();
        let repository = state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?;
        let number = repository.has_thread(&repo.target).ok_or_else(not_found)?;
        let comment = Comment { id, number, body: new.body, user, created_at: now(), reactions: Vec::new() };
        repository.comments.push(comment.clone());
        Ok(comment)
    })?;
    let answer = comment_json(&forge, &repo, &comment);
    // A person's comment is an event for the App's webhook, as on GitHub.
    if comment.user.is_some() && forge.webhook.is_some() {
        let event = super::hooks::comment_event(&forge, &repo.full_name, comment.number, answer.clone());
        tokio::spawn(super::hooks::deliver(forge.clone(), "issue_comment".into(), event, None));
    }
    Ok(created(answer))
}

/// A comment in GitHub's `issue-comment` shape.
fn comment_json(forge: &Forge, repo: &OpenRepo, comment: &Comment) -> Value {
    let base = &forge.base_url;
    json!({
        "id": comment.id,
        "node_id": format!("IC_sandbox{}", comment.id),
        "url": format!("{}/issues/comments/{}", repo.api, comment.id),
        "html_url": format!("{base}/{}/pull/{}#issuecomment-{}", repo.full_name, comment.number, comment.id),
        "issue_url": format!("{}/issues/{}", repo.api, comment.number),
        "body": comment.body,
        "user": forge.user_json(comment.user.as_deref()),
        "author_association": forge.association(&repo.full_name, comment.user.as_deref()),
        "created_at": comment.created_at,
        "updated_at": comment.created_at,
    })
}

/// The labels to add: `{"labels": [...]}` or a bare array, of names or `{"name"}` objects.
#[derive(Deserialize)]
#[serde(untagged)]
enum NewLabels {
    Wrapped { labels: Vec<LabelName> },
    Bare(Vec<LabelName>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LabelName {
    Name(String),
    Object { name: String },
}

async fn add_labels(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Body(new): Body<NewLabels>,
) -> Result<Response, ApiError> {
    let (NewLabels::Wrapped { labels } | NewLabels::Bare(labels)) = new;
    let names: Vec<String> = labels
        .into_iter()
        .map(|l| match l {
            LabelName::Name(name) | LabelName::Object { name } => name,
        })
        .collect();
    let repository = forge.change(|state| {
        let ids: Vec<u64> = names.iter().map(|_| state.next_id()).collect();
        let repository = state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?;
        let pull = find_mut(&mut repository.pulls, &repo.target)?;
        for name in &names {
            if !pull.labels.contains(name) {
                pull.labels.push(name.clone());
            }
        }
        for (name, id) in names.iter().zip(ids) {
            if !repository.labels.iter().any(|l| &l.name == name) {
                repository.labels.push(Label { id, name: name.clone() });
            }
        }
        Ok(repository.clone())
    })?;
    let pull = find(&repository.pulls, &repo.target)?;
    let labels: Vec<Value> = pull.labels.iter().filter_map(|name| label_json(&repo, &repository, name)).collect();
    Ok(axum::Json(labels).into_response())
}

/// A label in GitHub's `label` shape.
fn label_json(open: &OpenRepo, repo: &Repo, name: &str) -> Option<Value> {
    let label = repo.labels.iter().find(|l| l.name == name)?;
    Some(json!({
        "id": label.id,
        "node_id": format!("LA_sandbox{}", label.id),
        "url": format!("{}/labels/{}", open.api, label.name),
        "name": label.name,
        "description": "",
        "color": "ededed",
        "default": false,
    }))
}
