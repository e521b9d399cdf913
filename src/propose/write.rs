//! Making the change on the forge: the commit (through the Git Data API, or pushed with git),
//! the branch, the pull request with its labels and reviewers, the close, the one comment.
//! Every create looks first, so a replayed request never makes a second of anything.

use std::path::Path;

use anyhow::Context;
use http::Method;
use serde_json::{Value, json};

use crate::config::PullRequestConfig;
use crate::run::FileReport;

use super::checkout::{self, Checkout};
use super::commit::CommitPlan;
use super::decide::Action;
use super::forge::{NOTICE_MARKER, OBSOLETE_MARKER, TRAILER};
use super::pr::Target;
use super::reviewers::{self, CODEOWNERS_PATHS};
use crate::forge::github::GitHub;
use crate::forge::governor::Request;

/// Everything a write needs to know about this run.
pub struct Change<'a> {
    /// The forge.
    pub gh: &'a GitHub,
    /// The repository.
    pub ask: &'a Target,
    /// Its pull request settings.
    pub config: &'a PullRequestConfig,
    /// The branch proposed against.
    pub base: &'a str,
    /// The clone of the base.
    pub checkout: &'a Checkout,
    /// The fingerprint of the inputs.
    pub fingerprint: &'a str,
    /// Where the clone is.
    pub workdir: &'a Path,
    /// The files the fix changes.
    pub changed: &'a [FileReport],
    /// Whether harden's branch existed before this run.
    pub branch_existed: bool,
    /// harden's last pull request as the forge listed it.
    pub listed: Option<&'a Value>,
}

/// harden's branch, and whether it existed before this run.
struct Branch<'a> {
    name: &'a str,
    existed: bool,
}

/// Does `action`: writes the commit, the branch, the pull request, or the one comment. Returns
/// the pull request it wrote to, if any.
pub async fn act(
    change: &Change<'_>,
    action: &Action,
    plan: Option<&CommitPlan>,
    body: Option<&str>,
) -> anyhow::Result<Option<u64>> {
    let (gh, config) = (change.gh, change.config);
    let branch = Branch { name: &config.branch, existed: change.branch_existed };
    let number = match (action, plan, body) {
        (Action::Open, Some(plan), Some(body)) => Some(open(change, &branch, plan, body).await?),
        (Action::Update(number), Some(plan), Some(body)) => {
            publish(change, plan, &branch).await?;
            gh.write(
                Method::PATCH,
                &format!("/pulls/{number}"),
                &json!({"title": title(plan), "body": body}),
                Request::Mutation,
            )
            .await?;
            Some(*number)
        }
        (Action::Close(number), _, _) => {
            // Marked so that the close is never read as a human's "no".
            let listed = change.listed.and_then(|p| p["body"].as_str()).unwrap_or_default();
            let body = format!("{listed}\n{OBSOLETE_MARKER}\n");
            let close = json!({"state": "closed", "body": body});
            gh.write(Method::PATCH, &format!("/pulls/{number}"), &close, Request::Mutation).await?;
            delete_branch(gh, &config.branch).await?;
            Some(*number)
        }
        (Action::Comment(number, notice), _, _) => {
            comment_once(gh, *number, &format!("{}\n\n{NOTICE_MARKER}", notice.text())).await?;
            Some(*number)
        }
        _ => None,
    };
    Ok(number)
}

/// Withdraws harden's pull request `number` (an organisation dropped harden): says why in a
/// comment, closes it (marked, so that a later sweep does not read the close as a human's "no")
/// and deletes its branch.
pub async fn withdraw(gh: &GitHub, number: u64, branch: &str, why: &str) -> anyhow::Result<()> {
    comment_once(gh, number, why).await?;
    let listed = gh.get(&format!("/pulls/{number}")).await?.unwrap_or(Value::Null);
    let body = format!("{}\n{OBSOLETE_MARKER}\n", listed["body"].as_str().unwrap_or_default());
    let close = json!({"state": "closed", "body": body});
    gh.write(Method::PATCH, &format!("/pulls/{number}"), &close, Request::Mutation).await?;
    delete_branch(gh, branch).await
}

/// Posts `text` on pull request `number` exactly once: when an attempt's outcome is unknown, the
/// comments are read before the next one.
async fn comment_once(gh: &GitHub, number: u64, text: &str) -> anyhow::Result<()> {
    let path = format!("/issues/{number}/comments");
    for attempt in 0..3 {
        if attempt > 0 && gh.list(&path).await?.iter().any(|c| c["body"] == text) {
            return Ok(());
        }
        if gh.post_once(&path, &json!({"body": text})).await?.is_some() {
            return Ok(());
        }
    }
    anyhow::bail!("commenting on pull request #{number}: no answer after three attempts")
}

/// Makes the commit and points the branch at it: through the Git Data API (blobs only where the
/// forge lacks them, a tree over the base's, a commit on the base: GitHub marks it Verified), or,
/// on a forge without that API (it answers 404 to creating a blob), as a commit in the clone that
/// is force-pushed.
async fn publish(change: &Change<'_>, plan: &CommitPlan, branch: &Branch<'_>) -> anyhow::Result<String> {
    let gh = change.gh;
    let message = format!("{}\n{TRAILER} {}\n", plan.message, change.fingerprint);
    let push = async || {
        tracing::info!("the forge has no Git Data API: committing in the clone and pushing");
        let files: Vec<(&str, &str, &str)> = plan
            .tree
            .iter()
            .zip(&plan.blobs)
            .map(|(entry, blob)| (entry.path.as_str(), entry.mode.as_str(), blob.content.as_str()))
            .collect();
        checkout::commit_and_push(change.workdir, &files, &message, branch.name, &gh.git_token().await?)
    };
    for blob in &plan.blobs {
        if gh.get(&format!("/git/blobs/{}", blob.sha)).await?.is_some() {
            continue;
        }
        let made = gh.try_write(Method::POST, "/git/blobs", &serde_json::to_value(blob)?, Request::Content).await?;
        if made.status == 404 {
            return push().await;
        }
        anyhow::ensure!(made.status == 201, "creating a blob answered {}: {}", made.status, made.body["message"]);
        anyhow::ensure!(
            made.body["sha"] == blob.sha.as_str(),
            "the forge stored the blob as {}, not {}",
            made.body["sha"],
            blob.sha
        );
    }
    let tree = json!({"base_tree": change.checkout.tree, "tree": plan.tree});
    let tree = gh.try_write(Method::POST, "/git/trees", &tree, Request::Content).await?;
    match tree.status {
        // Every blob was there already (pushed before), and the forge cannot make trees.
        404 => return push().await,
        201 => {}
        status => anyhow::bail!("creating the tree answered {status}: {}", tree.body["message"]),
    }
    let tree = tree.body;
    let new = json!({"message": message, "tree": tree["sha"], "parents": [change.checkout.head]});
    let made = gh.write(Method::POST, "/git/commits", &new, Request::Content).await?;
    let sha = made["sha"].as_str().context("the forge made a commit without a sha")?.to_string();
    move_branch(gh, branch.name, &sha, branch.existed).await?;
    Ok(sha)
}

/// Points `branch` at `sha`, creating it when it does not exist.
async fn move_branch(gh: &GitHub, branch: &str, sha: &str, exists: bool) -> anyhow::Result<()> {
    let update = json!({"sha": sha, "force": true});
    if !exists {
        let created = gh
            .try_write(
                Method::POST,
                "/git/refs",
                &json!({"ref": format!("refs/heads/{branch}"), "sha": sha}),
                Request::Mutation,
            )
            .await?;
        // 422: it exists after all (a replayed request made it): move it instead.
        if created.status != 422 {
            anyhow::ensure!(
                (200..300).contains(&created.status),
                "creating branch {branch}: {}",
                created.body["message"]
            );
            return Ok(());
        }
    }
    gh.write(Method::PATCH, &format!("/git/refs/heads/{branch}"), &update, Request::Mutation).await.map(drop)
}

async fn delete_branch(gh: &GitHub, branch: &str) -> anyhow::Result<()> {
    let answer =
        gh.try_write(Method::DELETE, &format!("/git/refs/heads/{branch}"), &Value::Null, Request::Mutation).await?;
    anyhow::ensure!(matches!(answer.status, 204 | 404 | 422), "deleting branch {branch}: {}", answer.body["message"]);
    Ok(())
}

fn title(plan: &CommitPlan) -> String {
    plan.message.lines().next().unwrap_or("harden").to_string()
}

/// Pushes the branch and opens the pull request (or finds the one a replayed request opened),
/// then labels it and asks its reviewers. A branch this run created is deleted again when the
/// pull request cannot be opened, so no orphan is left.
async fn open(change: &Change<'_>, branch: &Branch<'_>, plan: &CommitPlan, body: &str) -> anyhow::Result<u64> {
    let (gh, config) = (change.gh, change.config);
    publish(change, plan, branch).await?;
    let number = match open_pull(gh, change.ask, config, change.base, plan, body).await {
        Ok(number) => number,
        Err(error) => {
            if !branch.existed {
                let _ = delete_branch(gh, branch.name).await;
            }
            return Err(error);
        }
    };
    if !config.labels.is_empty() {
        gh.write(
            Method::POST,
            &format!("/issues/{number}/labels"),
            &json!({"labels": config.labels}),
            Request::Mutation,
        )
        .await?;
    }
    request_reviews(gh, config, number, change.workdir, change.changed).await;
    Ok(number)
}

async fn open_pull(
    gh: &GitHub,
    ask: &Target,
    config: &PullRequestConfig,
    base: &str,
    plan: &CommitPlan,
    body: &str,
) -> anyhow::Result<u64> {
    let head = format!("{}:{}", ask.owner, config.branch);
    let open_one = || async {
        let open = gh.get(&format!("/pulls?state=open&head={head}&base={base}")).await?.unwrap_or(Value::Null);
        anyhow::Ok(open.as_array().and_then(|pulls| pulls.first()).and_then(|p| p["number"].as_u64()))
    };
    if let Some(number) = open_one().await? {
        return Ok(number);
    }
    let new =
        json!({"title": title(plan), "head": config.branch, "base": base, "body": body, "maintainer_can_modify": true});
    let created = gh.try_write(Method::POST, "/pulls", &new, Request::Content).await?;
    match created.status {
        201 => created.body["number"].as_u64().context("a pull request without a number"),
        // "A pull request already exists": a replayed request opened it.
        422 => open_one().await?.with_context(|| format!("opening the pull request: {}", created.body)),
        status => anyhow::bail!("opening the pull request answered {status}: {}", created.body["message"]),
    }
}

/// Asks the code owners of the changed files (and the configured reviewers) to review. A
/// reviewer the forge refuses (not a collaborator) is reported, not fatal.
async fn request_reviews(gh: &GitHub, config: &PullRequestConfig, number: u64, workdir: &Path, changed: &[FileReport]) {
    let mut wanted = reviewers::Reviewers::default();
    if config.codeowners
        && let Some(text) = CODEOWNERS_PATHS.iter().find_map(|p| std::fs::read_to_string(workdir.join(p)).ok())
    {
        let paths: Vec<&str> = changed.iter().map(|r| r.path.as_str()).collect();
        let (found, bad) = reviewers::reviewers(&text, &paths);
        for line in bad {
            tracing::warn!(line = line.line, reason = %line.reason, "CODEOWNERS line skipped");
        }
        wanted = found;
    }
    for reviewer in &config.reviewers {
        match reviewer.split_once('/') {
            Some((_, team)) => wanted.teams.insert(team.to_string()),
            None => wanted.users.insert(reviewer.clone()),
        };
    }
    if wanted.users.is_empty() && wanted.teams.is_empty() {
        return;
    }
    let body = json!({"reviewers": wanted.users, "team_reviewers": wanted.teams});
    if let Err(error) =
        gh.write(Method::POST, &format!("/pulls/{number}/requested_reviewers"), &body, Request::Mutation).await
    {
        tracing::warn!(%error, "reviewers not requested");
        eprintln!("harden pr: reviewers not requested: {error:#}");
    }
}
