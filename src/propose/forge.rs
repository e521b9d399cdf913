//! What the forge already has for harden: its last pull request from the branch (state, hidden
//! metadata, whether harden already commented), and whether the branch's head is harden's own
//! commit. Read-only: nothing here writes.

use anyhow::Context;
use serde_json::Value;

use super::decide::{Existing, PullState};
use super::fingerprint::Meta;
use crate::forge::github::GitHub;

/// The trailer every commit harden makes carries: a branch whose head lacks it has a human's commit.
pub const TRAILER: &str = "Harden-Fingerprint:";

/// The hidden marker of harden's own comments, so it never posts one twice.
pub const NOTICE_MARKER: &str = "<!-- harden:notice -->";

/// The hidden marker of a pull request harden closed itself because nothing was left to change.
pub const OBSOLETE_MARKER: &str = "<!-- harden:obsolete -->";

/// harden's most recent pull request from `branch`, whatever its state, as the decision sees it
/// and as the forge answered it.
async fn existing_pull(gh: &GitHub, owner: &str, branch: &str) -> anyhow::Result<Option<(Existing, Value)>> {
    let pulls = gh.list(&format!("/pulls?state=all&head={owner}:{branch}")).await?;
    let Some(latest) = pulls.into_iter().max_by_key(|p| p["number"].as_u64()) else {
        return Ok(None);
    };
    let number = latest["number"].as_u64().context("a pull request without a number")?;
    let state = match (latest["state"].as_str(), latest["merged_at"].is_string()) {
        (Some("open"), _) => PullState::Open,
        (_, true) => PullState::Merged,
        _ => PullState::ClosedUnmerged,
    };
    let comments = gh.list(&format!("/issues/{number}/comments")).await?;
    let commented = comments.iter().any(|c| c["body"].as_str().is_some_and(|b| b.contains(NOTICE_MARKER)));
    // A pull request harden closed as obsolete carries no "no": its fingerprint is not compared.
    let body = latest["body"].as_str().unwrap_or_default();
    let meta = (!body.contains(OBSOLETE_MARKER)).then(|| Meta::from_body(body)).flatten();
    Ok(Some((Existing { number, state, meta, commented }, latest)))
}

async fn branch_head(gh: &GitHub, branch: &str) -> anyhow::Result<Option<String>> {
    let reference = gh.get(&format!("/git/ref/heads/{branch}")).await?;
    Ok(reference.and_then(|r| r["object"]["sha"].as_str().map(str::to_string)))
}

/// Whether harden made the commit `sha` (its message carries harden's trailer).
async fn harden_made(gh: &GitHub, sha: &str) -> anyhow::Result<bool> {
    let commit = gh.get(&format!("/git/commits/{sha}")).await?.with_context(|| format!("no commit {sha}"))?;
    Ok(commit["message"].as_str().is_some_and(|m| m.lines().any(|l| l.starts_with(TRAILER))))
}

/// What the forge has.
pub struct Found {
    /// harden's last pull request from the branch.
    pub existing: Option<Existing>,
    /// The same pull request as the forge answered it (its address and body).
    pub pull: Option<Value>,
    /// Where the branch points, when it exists.
    pub branch_head: Option<String>,
    /// Whether the branch's head is a commit harden did not make.
    pub foreign_commits: bool,
}

/// Reads what the forge has for `branch` of the repository owned by `owner`.
pub async fn read(gh: &GitHub, owner: &str, branch: &str) -> anyhow::Result<Found> {
    let (existing, pull) = existing_pull(gh, owner, branch).await?.unzip();
    let branch_head = branch_head(gh, branch).await?;
    let foreign_commits = match &branch_head {
        Some(sha) => !harden_made(gh, sha).await?,
        None => false,
    };
    Ok(Found { existing, pull, branch_head, foreign_commits })
}
