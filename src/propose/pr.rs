//! `harden pr`: one repository, end to end. Clone its base branch, run scan and fix, read what
//! the forge already has (harden's pull request, its branch, its comments), decide, prove the
//! rewrite only when something is to be written, then write the one commit and the one pull
//! request through the Git Data API. Every create looks first, so a replayed request or a run
//! that died half-way never leaves a duplicate pull request or an orphan branch.

use std::path::Path;

use anyhow::Context;
use http::Method;
use octocrab::secrecy::SecretString;
use serde_json::{Value, json};

use crate::config::{Config, PullRequestConfig, VerifyConfig};
use crate::run::{self, FileReport};
use crate::verify::tools::Tools;
use crate::verify::{ImageReport, Options, Verdict};

use super::body::{self, BodyInput, GITHUB_BODY_LIMIT};
use super::checkout::{self, Checkout};
use super::commit::{self, CommitPlan};
use super::decide::{self, Action, Existing, PullState, Situation};
use super::fingerprint::{self, Meta, blob_sha};
pub use super::github::Auth;
use super::github::GitHub;
use super::governor::{Limits, Request};
use super::reviewers::{self, CODEOWNERS_PATHS};

/// The trailer every commit harden makes carries: a branch whose head lacks it has a human's commit.
pub const TRAILER: &str = "Harden-Fingerprint:";

/// The hidden marker of harden's own comments, so it never posts one twice.
const NOTICE_MARKER: &str = "<!-- harden:notice -->";

/// The hidden marker of a pull request harden closed itself because nothing was left to change.
const OBSOLETE_MARKER: &str = "<!-- harden:obsolete -->";

/// The build proof, at the edge: builds the before and after images, or says why it cannot.
pub trait Prover: Sync {
    /// Proves the changed Dockerfiles among `files` with the repository's `verify` settings;
    /// `Err` says why the proof was skipped.
    fn prove(&self, files: &[FileReport], config: &VerifyConfig) -> Result<Vec<ImageReport>, String>;
}

/// The real proof on a Docker engine.
impl Prover for Tools {
    fn prove(&self, files: &[FileReport], config: &VerifyConfig) -> Result<Vec<ImageReport>, String> {
        Ok(crate::verify::verify(files, self.builder(), self.engine(), &Options::from_config(config.clone())))
    }
}

/// No engine: every proof is skipped, for the reason given.
pub struct NoEngine(pub String);

impl Prover for NoEngine {
    fn prove(&self, _: &[FileReport], _: &VerifyConfig) -> Result<Vec<ImageReport>, String> {
        Err(self.0.clone())
    }
}

/// The repository `harden pr` works on, and how.
pub struct Target {
    /// The repository's owner.
    pub owner: String,
    /// The repository's name.
    pub name: String,
    /// The branch to propose against (default: the repository's default branch).
    pub base: Option<String>,
    /// Decide and render, but write nothing.
    pub dry_run: bool,
}

/// What happened.
#[derive(Debug)]
pub struct Report {
    /// The action taken (or, with `--dry-run`, the one that would be).
    pub action: Action,
    /// The pull request's number and web address, when there is one.
    pub pull: Option<(u64, String)>,
    /// The body harden wrote (or would write).
    pub body: Option<String>,
    /// Mutating requests sent.
    pub writes: usize,
}

impl Report {
    /// One line saying what was done (with `dry_run`, what would have been) and where.
    pub fn summary(&self, dry_run: bool) -> String {
        let at = |number: &u64| match &self.pull {
            Some((_, url)) if !url.is_empty() => format!("#{number} {url}"),
            _ => format!("#{number}"),
        };
        let line = match &self.action {
            Action::Open => match &self.pull {
                Some((number, _)) => format!("opened pull request {}", at(number)),
                None => "opened a pull request".to_string(),
            },
            Action::Update(n) => format!("updated pull request {}", at(n)),
            Action::Close(n) => format!("closed pull request {}: nothing is left to change", at(n)),
            Action::Comment(n, notice) => format!("commented on pull request {}: {}", at(n), notice.text()),
            Action::Nothing(reason) => format!("nothing written: {reason}"),
        };
        match (dry_run, &self.action) {
            (true, Action::Nothing(_)) => format!("dry run: {line}\n"),
            (true, _) => format!("dry run, nothing written: harden would have {line}\n"),
            (false, _) => format!("{line} ({} API writes)\n", self.writes),
        }
    }
}

/// Runs `harden pr` for one repository against the API at `api_url`, in a runtime of its own,
/// cloning into a temporary directory that is removed afterwards.
pub fn run(api_url: &str, auth: Auth, target: &Target, limits: Limits, prover: &dyn Prover) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (gh, token) = GitHub::connect(api_url, auth, &target.owner, &target.name, limits).await?;
        let workdir = tempfile::tempdir()?;
        propose(&gh, &token, target, prover, workdir.path()).await
    })
}

/// Runs `harden pr` for one repository, cloning into `workdir`.
pub async fn propose(
    gh: &GitHub,
    token: &SecretString,
    ask: &Target,
    prover: &dyn Prover,
    workdir: &Path,
) -> anyhow::Result<Report> {
    let repo = gh.get("").await?.with_context(|| format!("no repository {}/{}", ask.owner, ask.name))?;
    let base =
        ask.base.clone().or_else(|| repo["default_branch"].as_str().map(str::to_string)).unwrap_or("main".into());
    let clone_url = repo["clone_url"].as_str().context("the repository has no clone_url")?;
    let checkout = checkout::shallow_clone(clone_url, &base, token, workdir)?;
    let Config { pull_request: config, verify: verify_config, .. } = Config::load(workdir)?;
    let mut reports = run::analyse(&[workdir.to_path_buf()]);
    relativise(&mut reports, workdir);
    for broken in reports.iter().filter(|r| r.status == run::Status::Error) {
        eprintln!("harden pr: {}: {}", broken.path, broken.reason.as_deref().unwrap_or("cannot be read"));
    }
    let changed: Vec<FileReport> = reports.into_iter().filter(|r| r.rewritten.is_some()).collect();
    let inputs: Vec<(String, String)> = changed
        .iter()
        .map(|r| (r.path.clone(), blob_sha(r.original.as_deref().unwrap_or_default().as_bytes())))
        .collect();
    let fingerprint = fingerprint::fingerprint(&inputs);

    let existing = existing_pull(gh, &ask.owner, &config.branch).await?;
    let branch_head = branch_head(gh, &config.branch).await?;
    let foreign_commits = match &branch_head {
        Some(sha) => !harden_made(gh, sha).await?,
        None => false,
    };
    let mut situation = Situation {
        fingerprint: fingerprint.clone(),
        changes: !changed.is_empty(),
        proof_failure: None,
        existing: existing.clone(),
        foreign_commits,
    };
    let mut action = decide::decide(&situation);
    let mut proof = Err("nothing to prove".to_string());
    if matches!(action, Action::Open | Action::Update(_)) {
        // The builders run their own runtimes: prove on a thread of its own.
        proof = std::thread::scope(|scope| scope.spawn(|| prover.prove(&changed, &verify_config)).join())
            .unwrap_or_else(|_| Err("the build proof panicked".into()));
        situation.proof_failure = proof.as_ref().ok().and_then(|images| failed_proof(images));
        action = decide::decide(&situation);
    }
    let meta = Meta {
        fingerprint: fingerprint.clone(),
        rules: fingerprint::rules_version(),
        files: changed.iter().map(|r| r.path.clone()).collect(),
    };
    let body = matches!(action, Action::Open | Action::Update(_)).then(|| {
        let proof = proof.as_ref().map(Vec::as_slice).map_err(Clone::clone);
        body::render(&BodyInput { files: &changed, proof, meta: &meta }, GITHUB_BODY_LIMIT)
    });
    let mut report = Report { action: action.clone(), pull: None, body: body.clone(), writes: 0 };
    if ask.dry_run {
        return Ok(report);
    }
    let plan = commit::plan(&changed, &checkout.modes);
    let number = match (&action, plan, body) {
        (Action::Open, Some(plan), Some(body)) => {
            let branch = Branch { name: &config.branch, existed: branch_head.is_some() };
            let commit = Commit { checkout: &checkout, plan: &plan, fingerprint: &fingerprint, workdir, token };
            Some(open(gh, ask, &config, &base, &branch, &commit, &body, &changed).await?)
        }
        (Action::Update(number), Some(plan), Some(body)) => {
            let branch = Branch { name: &config.branch, existed: branch_head.is_some() };
            publish(
                gh,
                &Commit { checkout: &checkout, plan: &plan, fingerprint: &fingerprint, workdir, token },
                &branch,
            )
            .await?;
            gh.write(
                Method::PATCH,
                &format!("/pulls/{number}"),
                &json!({"title": title(&plan), "body": body}),
                Request::Mutation,
            )
            .await?;
            Some(*number)
        }
        (Action::Close(number), _, _) => {
            // Marked so that the close is never read as a human's "no".
            let pull = gh.get(&format!("/pulls/{number}")).await?.unwrap_or(Value::Null);
            let body = format!("{}\n{OBSOLETE_MARKER}\n", pull["body"].as_str().unwrap_or_default());
            let close = json!({"state": "closed", "body": body});
            gh.write(Method::PATCH, &format!("/pulls/{number}"), &close, Request::Mutation).await?;
            delete_branch(gh, &config.branch).await?;
            Some(*number)
        }
        (Action::Comment(number, notice), _, _) => {
            let text = format!("{}\n\n{NOTICE_MARKER}", notice.text());
            gh.write(Method::POST, &format!("/issues/{number}/comments"), &json!({"body": text}), Request::Content)
                .await?;
            Some(*number)
        }
        _ => existing.as_ref().map(|e| e.number),
    };
    if let Some(number) = number {
        let pull = gh.get(&format!("/pulls/{number}")).await?.unwrap_or(Value::Null);
        report.pull = Some((number, pull["html_url"].as_str().unwrap_or_default().to_string()));
        if report.body.is_none() {
            report.body = pull["body"].as_str().map(str::to_string);
        }
    }
    report.writes = gh.writes();
    Ok(report)
}

/// Paths as the repository names them, not as they sit in the clone.
fn relativise(reports: &mut [FileReport], root: &Path) {
    let prefix = format!("{}/", root.display());
    for report in reports {
        if let Some(rest) = report.path.strip_prefix(&prefix) {
            report.path = rest.to_string();
        }
    }
}

fn failed_proof(images: &[ImageReport]) -> Option<String> {
    let failed: Vec<String> = images
        .iter()
        .filter(|i| i.verdict == Verdict::Failed)
        .map(|i| format!("{}: {}", i.dockerfile, i.reason.as_deref().unwrap_or("failed")))
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// harden's most recent pull request from `branch`, whatever its state.
async fn existing_pull(gh: &GitHub, owner: &str, branch: &str) -> anyhow::Result<Option<Existing>> {
    let pulls = gh.get(&format!("/pulls?state=all&head={owner}:{branch}&per_page=100")).await?.unwrap_or(Value::Null);
    let Some(latest) = pulls.as_array().into_iter().flatten().max_by_key(|p| p["number"].as_u64()) else {
        return Ok(None);
    };
    let number = latest["number"].as_u64().context("a pull request without a number")?;
    let state = match (latest["state"].as_str(), latest["merged_at"].is_string()) {
        (Some("open"), _) => PullState::Open,
        (_, true) => PullState::Merged,
        _ => PullState::ClosedUnmerged,
    };
    let comments = gh.get(&format!("/issues/{number}/comments?per_page=100")).await?.unwrap_or(Value::Null);
    let commented = comments
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["body"].as_str().is_some_and(|b| b.contains(NOTICE_MARKER)));
    // A pull request harden closed as obsolete carries no "no": its fingerprint is not compared.
    let body = latest["body"].as_str().unwrap_or_default();
    let meta = (!body.contains(OBSOLETE_MARKER)).then(|| Meta::from_body(body)).flatten();
    Ok(Some(Existing { number, state, meta, commented }))
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

/// The one commit to make.
struct Commit<'a> {
    checkout: &'a Checkout,
    plan: &'a CommitPlan,
    fingerprint: &'a str,
    workdir: &'a Path,
    token: &'a SecretString,
}

/// harden's branch, and whether it existed before this run.
struct Branch<'a> {
    name: &'a str,
    existed: bool,
}

/// Makes the commit and points the branch at it: through the Git Data API (blobs only where the
/// forge lacks them, a tree over the base's, a commit on the base: GitHub marks it Verified), or,
/// on a forge without that API (it answers 404 to creating a blob), as a commit in the clone that
/// is force-pushed.
async fn publish(gh: &GitHub, commit: &Commit<'_>, branch: &Branch<'_>) -> anyhow::Result<String> {
    let message = format!("{}\n{TRAILER} {}\n", commit.plan.message, commit.fingerprint);
    for blob in &commit.plan.blobs {
        if gh.get(&format!("/git/blobs/{}", blob.sha)).await?.is_some() {
            continue;
        }
        let made = gh.try_write(Method::POST, "/git/blobs", &serde_json::to_value(blob)?, Request::Content).await?;
        if made.status == 404 {
            tracing::info!("the forge has no Git Data API: committing in the clone and pushing");
            let files: Vec<(&str, &str, &str)> = commit
                .plan
                .tree
                .iter()
                .zip(&commit.plan.blobs)
                .map(|(entry, blob)| (entry.path.as_str(), entry.mode.as_str(), blob.content.as_str()))
                .collect();
            return checkout::commit_and_push(commit.workdir, &files, &message, branch.name, commit.token);
        }
        anyhow::ensure!(made.status == 201, "creating a blob answered {}: {}", made.status, made.body["message"]);
        anyhow::ensure!(
            made.body["sha"] == blob.sha.as_str(),
            "the forge stored the blob as {}, not {}",
            made.body["sha"],
            blob.sha
        );
    }
    let tree = json!({"base_tree": commit.checkout.tree, "tree": commit.plan.tree});
    let tree = gh.write(Method::POST, "/git/trees", &tree, Request::Content).await?;
    let new = json!({"message": message, "tree": tree["sha"], "parents": [commit.checkout.head]});
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
#[allow(clippy::too_many_arguments)]
async fn open(
    gh: &GitHub,
    ask: &Target,
    config: &PullRequestConfig,
    base: &str,
    branch: &Branch<'_>,
    commit: &Commit<'_>,
    body: &str,
    changed: &[FileReport],
) -> anyhow::Result<u64> {
    publish(gh, commit, branch).await?;
    let number = match open_pull(gh, ask, config, base, commit.plan, body).await {
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
    request_reviews(gh, config, number, commit.workdir, changed).await;
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
