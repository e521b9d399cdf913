//! The campaign's pull requests (multi-gitter's `status` and `close`): every pull request harden
//! made in an organisation, refreshed from the forge, and their withdrawal when the organisation
//! drops harden.

use crate::config::DEFAULT_BRANCH;
use crate::forge::github::{Auth, GitHub, Scope};
use crate::forge::governor::Limits;
use crate::propose::write;
use crate::store::{PullRecord, Store, epoch};

use super::look;

/// The comment a withdrawn pull request gets, unless the caller gives its own.
pub const WITHDRAWN: &str = "This organisation no longer runs harden, so this pull request is closed and its branch \
                             deleted. Nothing else changes; a later `harden sweep` would propose it again.";

/// Brings the store's record of `repo`'s pull requests from `branch` up to date with the forge
/// (a human may have merged or closed them), finding the ones the store does not know yet. One
/// conditional request: free when nothing changed since the last.
pub async fn refresh(gh: &GitHub, store: &dyn Store, org: &str, repo: &str, branch: &str) -> anyhow::Result<()> {
    let owner = repo.split('/').next().unwrap_or_default();
    let route = format!("/repos/{repo}/pulls?state=all&head={owner}:{branch}&per_page=100");
    let Some((pulls, true)) = look::cached(gh, store, &route, &route).await? else { return Ok(()) };
    let known = store.pulls(org)?;
    for pull in pulls.as_array().into_iter().flatten() {
        let Some(number) = pull["number"].as_u64() else { continue };
        let state = match (pull["state"].as_str(), pull["merged_at"].is_null()) {
            (Some("open"), _) => "open",
            (_, false) => "merged",
            _ => "closed",
        };
        let record = match known.iter().find(|p| p.repo == repo && p.number == number) {
            Some(p) if p.state == state => continue,
            Some(p) => PullRecord { state: state.into(), updated_at: epoch(), ..p.clone() },
            None => PullRecord::seen(repo, number, pull["html_url"].as_str().unwrap_or_default(), state, epoch()),
        };
        store.save_pull(&record)?;
    }
    Ok(())
}

/// Every pull request harden made in `org`, each refreshed from the forge first: one request
/// per repository that has one.
pub async fn status(gh: &GitHub, store: &dyn Store, org: &str, branch: &str) -> anyhow::Result<Vec<PullRecord>> {
    let mut repos: Vec<String> = store.pulls(org)?.into_iter().map(|p| p.repo).collect();
    repos.sort();
    repos.dedup();
    for repo in &repos {
        let (owner, name) = repo.split_once('/').unwrap_or((org, repo));
        refresh(&gh.for_repo(owner, name), store, org, repo, branch).await?;
    }
    store.pulls(org)
}

/// Closes every open pull request of `org` with `comment` and deletes its branch (or, with
/// `dry_run`, only lists them); the pull requests it closed.
pub async fn close(
    gh: &GitHub,
    store: &dyn Store,
    org: &str,
    branch: &str,
    comment: &str,
    dry_run: bool,
) -> anyhow::Result<Vec<PullRecord>> {
    let mut closed = Vec::new();
    for pull in status(gh, store, org, branch).await?.into_iter().filter(|p| p.state == "open") {
        if !dry_run {
            let (owner, name) = pull.repo.split_once('/').unwrap_or((org, &pull.repo));
            write::withdraw(&gh.for_repo(owner, name), pull.number, branch, comment).await?;
            store.save_pull(&PullRecord { state: "closed".into(), updated_at: epoch(), ..pull.clone() })?;
        }
        closed.push(pull);
    }
    Ok(closed)
}

/// Runs `work` with a connection to organisation `org` and the branch harden proposes from
/// there, on a runtime of its own.
pub fn run<T>(
    api_url: &str,
    auth: Auth,
    limits: Limits,
    org: &str,
    store: &dyn Store,
    work: impl AsyncFnOnce(&GitHub, &str) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let gh = GitHub::connect_scoped(api_url, auth, Scope::Org(org.into()), limits).await?;
        let branch = branch(&gh, store, org).await?;
        work(&gh, &branch).await
    })
}

/// The branch harden proposes from in `org`: its configuration's (in the `.github`
/// repository), else `harden/all`.
async fn branch(gh: &GitHub, store: &dyn Store, org: &str) -> anyhow::Result<String> {
    let Some(repo) = gh.get_at(&format!("/repos/{org}/.github")).await? else { return Ok(DEFAULT_BRANCH.into()) };
    let default = repo["default_branch"].as_str().unwrap_or("main");
    let config = look::org_config(gh, store, org, default).await?;
    Ok(config.map_or_else(|| DEFAULT_BRANCH.into(), |(_, c)| c.pull_request.branch))
}
