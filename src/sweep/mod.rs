//! `harden sweep`: the organisation-wide campaign. It lists the repositories (of an
//! organisation, an App's installations, or a file), passes over the ones it should
//! ([`select`]), looks at each without cloning it ([`look`]: one conditional tree request, free
//! when nothing changed), and runs the `harden pr` flow only where a file would get a security
//! change or harden already has a branch, at the campaign's pace ([`pace`]). Every result is in
//! the store before the next repository starts, so a sweep killed at any point goes on where it
//! stopped; each repository is done once.

pub mod campaign;
pub mod candidates;
mod connect;
pub mod look;
pub mod pace;
pub mod select;
pub mod summary;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use crate::forge::github::{Auth, GitHub};
use crate::forge::governor::Limits;
use crate::propose::decide::Action;
use crate::propose::pr::{self, Prover, Report, Target};
use crate::store::{Outcome, RepoRecord, RepoResult, Store, SweepId, epoch};

use connect::{connect, org_config};
use look::Tree;
use pace::Pace;
use select::{Filter, Listed, Shard};
use summary::{Line, Summary};

/// A mistake on the command line found while sweeping (a glob, the `--repos` file, `--results`,
/// `--installation` without an App): the command exits 2, as for any wrong command line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Where the repositories come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Every repository of an organisation.
    Org(String),
    /// Every repository of the App's installations.
    Installations,
    /// The repositories a file names, one `owner/name` a line.
    Repos(PathBuf),
}

/// How to sweep.
pub struct Options {
    /// The REST API's root.
    pub api_url: String,
    /// How to authenticate.
    pub auth: Auth,
    /// Where the repositories come from.
    pub source: Source,
    /// What to take and leave.
    pub filter: Filter,
    /// This run's share of the repositories.
    pub shard: Shard,
    /// The campaign's pace.
    pub pace: Pace,
    /// GitHub's limits for every request.
    pub limits: Limits,
    /// Decide and print, but write nothing to the forge.
    pub dry_run: bool,
    /// Where to write one JSON line per repository (the shard's result file).
    pub results: Option<PathBuf>,
}

/// What happens as the sweep goes, for a progress bar or a log.
pub trait Progress {
    /// The sweep knows how many repositories it will look at.
    fn start(&self, repositories: usize);
    /// One repository is done.
    fn done(&self, result: &RepoResult);
}

/// Sweeps, recording everything in `store`; the summary at the end.
pub fn run(
    options: &Options,
    store: &dyn Store,
    prover: &dyn Prover,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(sweep(options, store, prover, progress))
}

async fn sweep(
    options: &Options,
    store: &dyn Store,
    prover: &dyn Prover,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let (label, connections) = connect(options).await?;
    let mut listing = Vec::new();
    let mut client_of = HashMap::new();
    for connection in &connections {
        for repo in connection.list(store).await? {
            let name = repo["full_name"].as_str().unwrap_or_default().to_string();
            client_of.insert(name, connection.gh.clone());
            listing.push(repo);
        }
    }
    let selected =
        options.filter.select(&listing, options.shard).map_err(|e| Usage(format!("--include/--exclude: {e}")))?;
    let mut org_configs = HashMap::new();
    for listed in &selected {
        let owner = listed.owner();
        if !org_configs.contains_key(owner) {
            let found = org_config(&client_of[&listed.full_name], store, &listing, owner, &options.source).await?;
            org_configs.insert(owner.to_string(), found);
        }
    }
    let sweep = store.begin_sweep(&label, &options.shard.to_string(), epoch())?;
    let mut results = match &options.results {
        Some(path) => Some(create_file(path).map_err(|e| Usage(format!("--results {}: {e}", path.display())))?),
        None => None,
    };
    let mut summary = Summary { org: label.clone(), ..Summary::default() };
    progress.start(selected.len());
    let mut waiting = 0;
    for listed in &selected {
        let result = match store.result(sweep, &listed.full_name)? {
            // Done by this sweep before it was stopped.
            Some(done) => done,
            None => {
                let gh = &client_of[&listed.full_name];
                let before = gh.requests().0;
                let org_config = org_configs[listed.owner()].as_ref();
                let context = Repo { options, store, prover, org: listed.owner(), org_config, waiting };
                let mut result = match context.one(gh, listed).await {
                    Ok(result) => result,
                    Err(error) => failed(listed, format!("{error:#}")),
                };
                result.requests = gh.requests().0 - before;
                store.save_result(sweep, &result)?;
                result
            }
        };
        if result.outcome == Outcome::Scheduled {
            waiting += 1;
        }
        let candidates = store.repo(&listed.full_name)?.map_or(0, |r| r.candidates);
        summary.add(&result, candidates);
        if let Some(file) = results.as_mut() {
            let line =
                Line { org: label.clone(), shard: options.shard.to_string(), result: result.clone(), candidates };
            writeln!(file, "{}", serde_json::to_string(&line)?)?;
        }
        progress.done(&result);
    }
    for connection in connections.iter().filter(|c| c.gh.writes() > 0) {
        // The listing shows what this sweep changed (pushes, open pull requests): read it again
        // now, so the next sweep's look at it is a free 304 unless something else changes.
        connection.list(store).await?;
    }
    for connection in &connections {
        let (requests, spent) = connection.gh.requests();
        summary.requests += requests;
        summary.rate_limit_spent += spent;
    }
    store.finish_sweep(sweep, epoch())?;
    Ok(summary)
}

/// Why a repository whose configuration opts it out is passed over.
const OPTED_OUT: &str = "opted out by its configuration";

/// What one repository's turn needs.
struct Repo<'a> {
    options: &'a Options,
    store: &'a dyn Store,
    prover: &'a dyn Prover,
    org: &'a str,
    org_config: Option<&'a (String, crate::config::Config)>,
    /// Pull requests this sweep already holds back (for the estimate of the next).
    waiting: usize,
}

impl Repo<'_> {
    /// What a repository's last look depended on besides its tree: the rules and the
    /// organisation's configuration.
    fn judged_with(&self) -> String {
        let mut hasher = sha1_smol::Sha1::new();
        hasher.update(crate::propose::fingerprint::rules_version().as_bytes());
        hasher.update(self.org_config.map_or("", |(text, _)| text.as_str()).as_bytes());
        hasher.digest().to_string()
    }

    async fn one(&self, gh: &GitHub, listed: &Listed) -> anyhow::Result<RepoResult> {
        let name = &listed.full_name;
        if let Some(why) = &listed.skipped {
            return Ok(result(name, Outcome::Skipped, why.clone()));
        }
        let cached = self.store.repo(name)?.filter(|r| r.default_branch == listed.default_branch);
        // A new harden, or a changed organisation configuration, looks at every repository again.
        let judged_with = self.judged_with();
        let etag = cached
            .as_ref()
            .filter(|r| r.judged_with.as_deref() == Some(judged_with.as_str()))
            .and_then(|r| r.tree_etag.as_deref());
        let (owner, repo) = name.split_once('/').context("a repository's full name")?;
        let gh_repo = gh.for_repo(owner, repo);
        let mut tree = look::tree(gh, name, &listed.default_branch, etag).await?;
        if let (Tree::Unchanged, Some(cached)) = (&tree, &cached) {
            if let Some(why) = &cached.skipped {
                return Ok(result(name, Outcome::Skipped, why.clone()));
            }
            if cached.has_pull {
                // A human may have merged or closed harden's pull request since.
                let branch = self.org_config.map_or(crate::config::DEFAULT_BRANCH, |(_, c)| &c.pull_request.branch);
                campaign::refresh(&gh_repo, self.store, self.org, name, branch).await?;
            }
            if !cached.waiting {
                return Ok(result(name, Outcome::Unchanged, "no change since the last sweep".into()));
            }
            // A new pull request waits here for the pace: not yet, or its turn (read afresh).
            if let Err(when) = self.pace_now()? {
                return Ok(result(name, Outcome::Scheduled, when));
            }
            tree = look::tree(gh, name, &listed.default_branch, None).await?;
        }
        let (candidates, sha, etag) = match tree {
            Tree::Missing => return Ok(result(name, Outcome::Skipped, "empty".into())),
            Tree::Unchanged => anyhow::bail!("the forge answered 304 to a read without an ETag"),
            Tree::Fresh { candidates, sha, etag } => (candidates, sha, etag),
        };
        let had_pull = cached.as_ref().is_some_and(|r| r.has_pull);
        let mut record = RepoRecord {
            full_name: name.clone(),
            org: self.org.into(),
            default_branch: listed.default_branch.clone(),
            tree_sha: Some(sha),
            tree_etag: etag,
            candidates: candidates.count(),
            skipped: None,
            has_pull: had_pull,
            waiting: false,
            judged_with: Some(judged_with.clone()),
            seen_at: epoch(),
            private: listed.private,
        };
        let no_candidates = || result(name, Outcome::NoCandidates, "no Dockerfile or manifest to harden".into());
        if candidates.is_empty() && cached.is_some() && !had_pull {
            self.store.save_repo(&record)?;
            return Ok(no_candidates());
        }
        let (config, enabled) = look::config(gh, name, &candidates, self.org_config).await?;
        if !enabled {
            record.skipped = Some(OPTED_OUT.into());
            self.store.save_repo(&record)?;
            return Ok(result(name, Outcome::Skipped, OPTED_OUT.into()));
        }
        // Without the cache (a first sweep, or a lost state), harden's branch says whether a pull
        // request of its may need an update or a close.
        let has_pull = match &cached {
            Some(r) => r.has_pull,
            None => gh_repo.get(&format!("/git/ref/heads/{}", config.pull_request.branch)).await?.is_some(),
        };
        let candidates = candidates.narrowed(&config);
        record.candidates = candidates.count();
        if candidates.is_empty() && !has_pull {
            self.store.save_repo(&record)?;
            return Ok(no_candidates());
        }
        let would_change = look::would_change(gh, name, &candidates, &config).await?;
        if !would_change && !has_pull {
            self.store.save_repo(&record)?;
            return Ok(result(name, Outcome::NothingToDo, "nothing harden would propose".into()));
        }
        let pace = self.pace_now()?;
        if let (Err(when), false) = (&pace, has_pull) {
            // A new pull request must wait: nothing to clone or prove before its turn.
            record.waiting = true;
            self.store.save_repo(&record)?;
            return Ok(result(name, Outcome::Scheduled, when.clone()));
        }
        let report = self.propose(&gh_repo, owner, repo, &config, pace.is_ok()).await?;
        record.has_pull = has_pull || report.pull.is_some();
        let outcome = self.outcome(name, &report, pace.err());
        self.save_pull(name, &report)?;
        if record.has_pull && !self.options.dry_run {
            // Keeps the pull request listing's ETag, so the next sweep's look at it is free.
            campaign::refresh(&gh_repo, self.store, self.org, name, &config.pull_request.branch).await?;
        }
        record.waiting = outcome.outcome == Outcome::Scheduled;
        self.store.save_repo(&record)?;
        Ok(outcome)
    }

    /// Whether a new pull request may open now, or when it may.
    fn pace_now(&self) -> anyhow::Result<Result<(), String>> {
        let now = epoch();
        let recent = self.store.openings_since(self.org, now - 3600)?;
        let open = self.store.pulls(self.org)?.iter().filter(|p| p.state == "open").count();
        Ok(self.options.pace.allows(now, &recent, open, self.waiting))
    }

    async fn propose(
        &self,
        gh: &GitHub,
        owner: &str,
        name: &str,
        config: &crate::config::Config,
        may_open: bool,
    ) -> anyhow::Result<Report> {
        // The configuration the sweep decided by (the repository's, or its organisation's).
        let target = Target {
            dry_run: self.options.dry_run,
            config: Some(config.clone()),
            may_open,
            // What people told harden to leave alone (`/harden ignore PATH`).
            ignore: self.store.ignored_paths(&format!("{owner}/{name}"))?,
            ..Target::new(owner, name)
        };
        let workdir = tempfile::tempdir()?;
        pr::propose(gh, &target, self.prover, workdir.path()).await
    }

    fn outcome(&self, name: &str, report: &Report, paced: Option<String>) -> RepoResult {
        let number = report.pull.as_ref().map(|(n, _)| *n);
        let url = report.pull.as_ref().map(|(_, u)| u.clone()).unwrap_or_default();
        let (outcome, detail) = match &report.action {
            Action::Open => (Outcome::Opened, url),
            Action::Update(_) => (Outcome::Updated, url),
            Action::Close(_) => (Outcome::Closed, url),
            Action::Comment(_, notice) => (Outcome::Commented, notice.text().to_string()),
            Action::Nothing(reason) if reason == pr::PACED => {
                (Outcome::Scheduled, paced.unwrap_or_else(|| reason.clone()))
            }
            Action::Nothing(reason) if reason.contains("is up to date") => (Outcome::UpToDate, url),
            Action::Nothing(reason) if reason.starts_with("the build proof failed") => {
                (Outcome::Failed, reason.clone())
            }
            Action::Nothing(reason) => (Outcome::NothingToDo, reason.clone()),
        };
        let detail = if detail.is_empty() && self.options.dry_run {
            let files = report.files.iter().filter(|f| f.rewritten.is_some()).count();
            format!("dry run: harden's pull request would be {} ({files} file(s))", outcome.as_str())
        } else {
            detail
        };
        if outcome == Outcome::Opened {
            let _ = self.store.record_opening(self.org, name, epoch());
        }
        RepoResult { repo: name.into(), outcome, detail, pull: number, requests: 0, at: epoch() }
    }

    /// Records harden's pull request as the run left it.
    fn save_pull(&self, name: &str, report: &Report) -> anyhow::Result<()> {
        match report.pull_record(name, epoch()) {
            Some(record) => self.store.save_pull(&record),
            None => Ok(()),
        }
    }
}

fn result(repo: &str, outcome: Outcome, detail: String) -> RepoResult {
    RepoResult { repo: repo.into(), outcome, detail, pull: None, requests: 0, at: epoch() }
}

fn failed(listed: &Listed, why: String) -> RepoResult {
    result(&listed.full_name, Outcome::Failed, why)
}

/// The sweep a `merge` of result files records: the lines of each shard, in one summary.
pub fn merge(lines: &[Line], store: &dyn Store) -> anyhow::Result<Summary> {
    let summary = Summary::merge(lines);
    let sweep: SweepId = store.begin_sweep(&summary.org, "merged", epoch())?;
    for line in lines {
        store.save_result(sweep, &line.result)?;
    }
    store.finish_sweep(sweep, epoch())?;
    Ok(summary)
}

/// Creates (or truncates) `path`, with the folders it needs, as `--state` does.
fn create_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::File::create(path)
}
