//! `harden pr`: one repository, end to end. Clone its base branch, run scan and fix, read what
//! the forge already has (harden's pull request, its branch, its comments), decide, prove the
//! rewrite only when something is to be written, then write the one commit and the one pull
//! request through the Git Data API. Every create looks first, so a replayed request or a run
//! that died half-way never leaves a duplicate pull request or an orphan branch.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use crate::config::{Config, ProofPolicy, ProposeScope, VerifyConfig};
use crate::run::{self, FileReport};
use crate::store::{PullRecord, RepoRecord, Store};
use crate::verify::tools::Tools;
use crate::verify::{ImageReport, Options, Verdict};

use super::body::{self, BodyInput, GITHUB_BODY_LIMIT};
use super::checkout;
use super::commit;
use super::decide::{self, Action, Request, Situation};
use super::fingerprint::{self, Meta, blob_sha};
use super::forge;
use super::write::{self, Change};
pub use crate::forge::github::Auth;
use crate::forge::github::GitHub;
use crate::forge::governor::Limits;

/// The build proof, at the edge: builds the before and after images, or says why it cannot.
pub trait Prover: Send + Sync {
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
    /// A configuration to use in place of the repository's own (`--config`, an organisation's).
    pub config: Option<Config>,
    /// Whether a new pull request may be opened now (a sweep's pace may hold it back; updates,
    /// closes and notices are never held).
    pub may_open: bool,
    /// What a person asked for (`/harden rebase`, `/harden recreate`), beyond the usual run.
    pub request: Request,
    /// Paths to leave alone besides the configuration's `ignore` (`/harden ignore PATH`).
    pub ignore: Vec<String>,
}

impl Target {
    /// The usual run on `owner/name`: the repository's configuration, its default branch.
    pub fn new(owner: &str, name: &str) -> Self {
        Target {
            owner: owner.into(),
            name: name.into(),
            base: None,
            dry_run: false,
            config: None,
            may_open: true,
            request: Request::Auto,
            ignore: Vec::new(),
        }
    }
}

/// The reason `harden pr` gives when a campaign's pace holds a new pull request back.
pub const PACED: &str = "a new pull request waits for the campaign's pace";

/// The configuration `harden pr` was given, or found in the repository, is not valid: nothing
/// was written. (Every other failure is the forge's or the engine's.)
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidConfig(pub String);

/// What happened.
#[derive(Debug)]
pub struct Report {
    /// The action taken (or, with `--dry-run`, the one that would be).
    pub action: Action,
    /// The pull request's number and web address, when there is one.
    pub pull: Option<(u64, String)>,
    /// The body harden wrote (or would write).
    pub body: Option<String>,
    /// What scan and fix found in the repository, every file.
    pub files: Vec<FileReport>,
    /// The files the pull request changes (a rewrite that is not a security change alone is held
    /// back unless the configuration says `propose: all`).
    pub proposed: Vec<String>,
    /// The build proof of the changed Dockerfiles, when it ran.
    pub proof: Vec<ImageReport>,
    /// The state of harden's pull request after the run (`open`, `closed`, `merged`), when
    /// there is one.
    pub state: Option<&'static str>,
    /// The fingerprint of this run's inputs.
    pub fingerprint: String,
    /// Mutating requests sent.
    pub writes: usize,
    /// The repository is private (or the forge did not say it is not).
    pub private: bool,
    /// The branch it proposes against.
    pub base: String,
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

impl Report {
    /// harden's pull request in `repo` as this run left it, for the store; `None` when there is
    /// none.
    pub fn pull_record(&self, repo: &str, now: i64) -> Option<PullRecord> {
        let (Some((number, url)), Some(state)) = (&self.pull, self.state) else { return None };
        let proposed: Vec<&FileReport> = self.files.iter().filter(|f| self.proposed.contains(&f.path)).collect();
        let proven = || self.proof.iter().filter(|i| i.verdict == Verdict::Proven);
        // What the proven images carried before and after, where the proof read both.
        let carried = || proven().filter_map(|i| Some((i.before.contents.as_ref()?, i.after.contents.as_ref()?)));
        // Fixed errors and warnings of these rules in the proposed files (HD106's note about a
        // `:nonroot` base runs no program as root, so it does not count).
        let fixed = |rules: &[&str]| {
            let found = proposed.iter().flat_map(|f| &f.findings);
            found.filter(|f| f.fixed && rules.contains(&f.rule) && f.severity != crate::rules::Severity::Info).count()
                as u64
        };
        let blocked = match &self.action {
            Action::Comment(_, notice) => Some(notice.text().to_string()),
            _ => None,
        };
        Some(PullRecord {
            repo: repo.into(),
            number: *number,
            url: url.clone(),
            state: state.into(),
            fingerprint: Some(self.fingerprint.clone()),
            files: proposed.iter().map(|f| f.path.clone()).collect(),
            bytes_before: proven().filter_map(|i| i.before.bytes).reduce(|a, b| a + b),
            bytes_after: proven().filter_map(|i| i.after.bytes).reduce(|a, b| a + b),
            findings_fixed: proposed.iter().flat_map(|f| &f.findings).filter(|f| f.fixed).count(),
            findings_remaining: proposed.iter().flat_map(|f| &f.findings).filter(|f| !f.fixed).count(),
            blocked_reason: blocked,
            created_at: now,
            updated_at: now,
            packages_before: carried().map(|(b, _)| b.packages.count as u64).reduce(|x, y| x + y),
            packages_after: carried().map(|(_, a)| a.packages.count as u64).reduce(|x, y| x + y),
            shells_removed: carried()
                .map(|(b, a)| u64::from(crate::verify::contents::diff(b, a).shell_gone))
                .reduce(|x, y| x + y),
            off_root: Some(fixed(&[crate::rules::RUNS_AS_ROOT.id, crate::rules::RUN_AS_USER.id])),
            restricted: Some(fixed(&[crate::rules::RUN_AS_NON_ROOT.id])),
        })
    }
}

impl Report {
    /// Records this run in the state: harden's pull request as it left it and, when no sweep has
    /// seen the repository yet, the repository (so the dashboard knows whether it is private).
    pub fn record(&self, store: &dyn Store, repo: &str, now: i64) -> anyhow::Result<()> {
        if let Some(record) = self.pull_record(repo, now) {
            store.save_pull(&record)?;
        }
        if store.repo(repo)?.is_none() {
            store.save_repo(&RepoRecord {
                full_name: repo.into(),
                org: repo.split('/').next().unwrap_or_default().into(),
                default_branch: self.base.clone(),
                tree_sha: None,
                tree_etag: None,
                candidates: self.files.iter().filter(|f| f.rewritten.is_some() || !f.findings.is_empty()).count(),
                skipped: None,
                has_pull: self.pull.is_some(),
                waiting: false,
                judged_with: None,
                seen_at: now,
                private: self.private,
            })?;
        }
        Ok(())
    }
}

/// Runs `harden pr` for one repository against the API at `api_url`, in a runtime of its own,
/// cloning into a temporary directory that is removed afterwards.
pub fn run(api_url: &str, auth: Auth, target: &Target, limits: Limits, prover: &dyn Prover) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let gh = GitHub::connect(api_url, auth, &target.owner, &target.name, limits).await?;
        let workdir = tempfile::tempdir()?;
        propose(&gh, target, prover, workdir.path()).await
    })
}

/// Runs `harden pr` for one repository, cloning into `workdir`.
pub async fn propose(gh: &GitHub, ask: &Target, prover: &dyn Prover, workdir: &Path) -> anyhow::Result<Report> {
    let repo = gh.get("").await?.with_context(|| format!("no repository {}/{}", ask.owner, ask.name))?;
    let base =
        ask.base.clone().or_else(|| repo["default_branch"].as_str().map(str::to_string)).unwrap_or("main".into());
    let clone_url = repo["clone_url"].as_str().context("the repository has no clone_url")?;
    // Cloned under the repository's name: an image built from the root Dockerfile is named so.
    let workdir = &workdir.join(&ask.name);
    let checkout = checkout::shallow_clone(clone_url, &base, &gh.git_token().await?, workdir)?;
    let root = workdir.canonicalize()?;
    // An invalid configuration stops the run: nothing in that repository is rewritten.
    let mut repo_config = match &ask.config {
        Some(config) => config.clone(),
        None => Config::load(&root)
            .map_err(|e| InvalidConfig(e.to_string().replace(&format!("{}/", root.display()), "")))?,
    };
    repo_config.ignore.extend(ask.ignore.iter().cloned());
    let mut reports = run::analyse_root(&root, &root, &repo_config);
    relativise(&mut reports, &root);
    let Config { pull_request: config, verify: verify_config, propose: scope, proof: policy, .. } = repo_config;
    for broken in reports.iter().filter(|r| r.status == run::Status::Error) {
        eprintln!("harden pr: {}: {}", broken.path, broken.reason.as_deref().unwrap_or("cannot be read"));
    }
    // Build-flag, cache-mount and command-form edits alone make no pull request.
    let (changed, held_back): (Vec<FileReport>, Vec<FileReport>) = reports
        .iter()
        .filter(|r| r.rewritten.is_some())
        .cloned()
        .partition(|r| r.security || scope == ProposeScope::All);
    let inputs: Vec<(String, String)> = changed
        .iter()
        .map(|r| (r.path.clone(), blob_sha(r.original.as_deref().unwrap_or_default().as_bytes())))
        .collect();
    let fingerprint = fingerprint::fingerprint(&inputs);

    let found = forge::read(gh, &ask.owner, &config.branch).await?;
    let mut situation = Situation {
        fingerprint: fingerprint.clone(),
        changes: !changed.is_empty(),
        proof_failure: None,
        proof_missing: None,
        held_back: held_back.len(),
        existing: found.existing.clone(),
        foreign_commits: found.foreign_commits,
        request: ask.request,
    };
    let mut action = decide::decide(&situation);
    if action == Action::Open && !ask.may_open {
        action = Action::Nothing(PACED.into());
    }
    // A project its README says is retired gets no pull request nobody asked for.
    let retired = super::retired::retired_readme(&run::readmes(&root, Path::new("")));
    if let Some((at, said)) = retired.filter(|_| action == Action::Open && ask.request == Request::Auto) {
        action = Action::Nothing(format!(
            "the README says the project is retired ({at}: \"{said}\"): harden opens no pull request nobody asked for (a /harden comment still does)"
        ));
    }
    let mut proof = Err("nothing to prove".to_string());
    if matches!(action, Action::Open | Action::Update(_)) {
        // The builders run their own runtimes: prove on a thread of its own.
        proof = std::thread::scope(|scope| scope.spawn(|| prover.prove(&changed, &verify_config)).join())
            .unwrap_or_else(|_| Err("the build proof panicked".into()));
        situation.proof_failure = proof.as_ref().ok().and_then(|images| failed_proof(images));
        if policy == ProofPolicy::Required {
            situation.proof_missing = missing_proof(&proof);
        }
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
    let proven = proof.as_ref().map_or_else(|_| Vec::new(), Clone::clone);
    let state = match (&action, &found.existing) {
        (Action::Open | Action::Update(_), _) => Some("open"),
        (Action::Close(_), _) => Some("closed"),
        (_, Some(existing)) => Some(match existing.state {
            decide::PullState::Open => "open",
            decide::PullState::ClosedUnmerged => "closed",
            decide::PullState::Merged => "merged",
        }),
        (_, None) => None,
    };
    let mut report = Report {
        action: action.clone(),
        pull: None,
        body: body.clone(),
        proposed: changed.iter().map(|f| f.path.clone()).collect(),
        files: reports,
        proof: proven,
        state,
        fingerprint: fingerprint.clone(),
        writes: 0,
        private: repo["private"].as_bool().unwrap_or(true),
        base: base.clone(),
    };
    if ask.dry_run {
        return Ok(report);
    }
    let plan = commit::plan(&changed, &checkout.modes);
    let change = Change {
        gh,
        ask,
        config: &config,
        base: &base,
        checkout: &checkout,
        fingerprint: &fingerprint,
        workdir,
        changed: &changed,
        branch_existed: found.branch_head.is_some(),
        listed: found.pull.as_ref(),
    };
    let number = match (write::act(&change, &action, plan.as_ref(), body.as_deref()).await?, &found.existing) {
        (Some(number), _) => Some(number),
        (None, existing) => existing.as_ref().map(|e| e.number),
    };
    if let Some(number) = number {
        // The pull request the forge listed, unless this run opened a new one.
        let pull = match found.pull.filter(|p| p["number"] == number) {
            Some(listed) => listed,
            None => gh.get(&format!("/pulls/{number}")).await?.unwrap_or(Value::Null),
        };
        report.pull = Some((number, pull["html_url"].as_str().unwrap_or_default().to_string()));
        if report.body.is_none() {
            report.body = pull["body"].as_str().map(str::to_string);
        }
    }
    if config.dashboard_issue {
        super::dashboard_issue::sync(gh, &super::dashboard_issue::body(&report)).await?;
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

/// Why the proof did not run for every changed Dockerfile, when it did not.
fn missing_proof(proof: &Result<Vec<ImageReport>, String>) -> Option<String> {
    let skipped: Vec<String> = match proof {
        Err(why) => vec![why.clone()],
        Ok(images) => images
            .iter()
            .filter(|i| i.verdict == Verdict::Skipped)
            .map(|i| format!("{}: {}", i.dockerfile, i.reason.as_deref().and_then(|r| r.lines().next()).unwrap_or("")))
            .collect(),
    };
    (!skipped.is_empty()).then(|| skipped.join("; "))
}

fn failed_proof(images: &[ImageReport]) -> Option<String> {
    let failed: Vec<String> = images
        .iter()
        .filter(|i| i.verdict == Verdict::Failed)
        .map(|i| format!("{}: {}", i.dockerfile, i.reason.as_deref().unwrap_or("failed")))
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}
