//! `harden sweep`: the organisation-wide campaign. It lists the repositories (of an
//! organisation, an App's installations, or a file), passes over the ones it should
//! ([`select`]), looks at each without cloning it ([`look`]: one conditional tree request, free
//! when nothing changed), and runs the `harden pr` flow only where a file would get a security
//! change or harden already has a branch, at the campaign's pace ([`pace`]). Every result is in
//! the store before the next repository starts, so a sweep killed at any point goes on where it
//! stopped; each repository is done once.

pub mod candidates;
pub mod look;
pub mod pace;
pub mod select;
pub mod summary;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::Value;

use crate::forge::github::{Auth, GitHub, Scope};
use crate::forge::governor::Limits;
use crate::propose::decide::{Action, Notice};
use crate::propose::pr::{self, Prover, Report, Target};
use crate::store::{Outcome, PullRecord, RepoRecord, RepoResult, Store, SweepId};
use crate::verify::Verdict;

use look::Tree;
use pace::Pace;
use select::{Filter, Listed, Shard};
use summary::{Line, Summary};

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
    /// Walk `vendor/`, `testdata/`… too.
    pub walk_ignored: bool,
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
    for (gh, routes) in &connections {
        for route in routes {
            listing.extend(list(gh, route).await?.into_iter().map(|repo| (gh.clone(), repo)));
        }
    }
    let repos: Vec<Value> = listing.iter().map(|(_, repo)| repo.clone()).collect();
    let selected =
        options.filter.select(&repos, options.shard).map_err(|e| anyhow::anyhow!("--include/--exclude: {e}"))?;
    let client_of = |name: &str| {
        listing.iter().find(|(_, r)| r["full_name"] == name).map(|(gh, _)| gh.clone()).expect("a listed repository")
    };
    let first = &connections[0].0;
    let org_config = match &options.source {
        Source::Org(org) => look::org_config(first, org).await?,
        _ => None,
    };
    let now = epoch();
    let sweep = store.begin_sweep(&label, &options.shard.to_string(), now)?;
    let mut results = match &options.results {
        Some(path) => Some(std::fs::File::create(path).with_context(|| format!("--results {}", path.display()))?),
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
                let gh = client_of(&listed.full_name);
                let before = gh.requests().0;
                let context = Repo { options, store, prover, org: &label, org_config: org_config.as_ref(), waiting };
                let mut result = match context.one(&gh, listed).await {
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
    for (gh, _) in &connections {
        let (requests, spent) = gh.requests();
        summary.requests += requests;
        summary.rate_limit_spent += spent;
    }
    store.finish_sweep(sweep, epoch())?;
    Ok(summary)
}

/// The connections to list and sweep with (each with the routes that list its repositories),
/// and the label the store keeps the sweep under.
async fn connect(options: &Options) -> anyhow::Result<(String, Vec<(GitHub, Vec<String>)>)> {
    let limits = || options.limits;
    match &options.source {
        Source::Org(org) => {
            let gh = GitHub::connect_scoped(&options.api_url, options.auth.clone(), Scope::Org(org.clone()), limits())
                .await?;
            Ok((org.clone(), vec![(gh, vec![format!("/orgs/{org}/repos?type=all")])]))
        }
        Source::Installations => {
            let Auth::App { id, key } = &options.auth else {
                anyhow::bail!("--installation needs a GitHub App (--app-id and --app-key)");
            };
            let mut connections = Vec::new();
            let mut accounts = Vec::new();
            for (installation, account) in GitHub::installations(&options.api_url, *id, key).await? {
                let scope = Scope::Installation(installation);
                let gh = GitHub::connect_scoped(&options.api_url, options.auth.clone(), scope, limits()).await?;
                connections.push((gh, vec!["/installation/repositories".to_string()]));
                accounts.push(account);
            }
            anyhow::ensure!(!connections.is_empty(), "the App has no installation");
            Ok((accounts.join(","), connections))
        }
        Source::Repos(file) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("--repos {}", file.display()))?;
            let names: Vec<&str> =
                text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
            let first = names.first().context("--repos names no repository")?;
            let (owner, _) = first.split_once('/').with_context(|| format!("{first}: expected OWNER/NAME"))?;
            let gh = GitHub::connect_scoped(&options.api_url, options.auth.clone(), Scope::Org(owner.into()), limits())
                .await?;
            let label = file.file_stem().and_then(|s| s.to_str()).unwrap_or("repos").to_string();
            Ok((label, vec![(gh, names.iter().map(|n| format!("repo:{n}")).collect())]))
        }
    }
}

/// The repositories a route lists (`repo:OWNER/NAME` reads one).
async fn list(gh: &GitHub, route: &str) -> anyhow::Result<Vec<Value>> {
    if let Some(name) = route.strip_prefix("repo:") {
        return Ok(gh.get_at(&format!("/repos/{name}")).await?.into_iter().collect());
    }
    if route == "/installation/repositories" {
        // Paged inside an object: {"total_count", "repositories": […]}.
        let mut out = Vec::new();
        for page in 1..=100 {
            let body = gh.get_at(&format!("{route}?per_page=100&page={page}")).await?.unwrap_or(Value::Null);
            let batch = body["repositories"].as_array().cloned().unwrap_or_default();
            let last = batch.len() < 100;
            out.extend(batch);
            if last {
                break;
            }
        }
        return Ok(out);
    }
    gh.list_all_at(route).await
}

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
    async fn one(&self, gh: &GitHub, listed: &Listed) -> anyhow::Result<RepoResult> {
        let name = &listed.full_name;
        if let Some(why) = &listed.skipped {
            return Ok(result(name, Outcome::Skipped, why.clone()));
        }
        let cached = self.store.repo(name)?.filter(|r| r.default_branch == listed.default_branch);
        let etag = cached.as_ref().and_then(|r| r.tree_etag.as_deref());
        let (owner, repo) = name.split_once('/').context("a repository's full name")?;
        let gh_repo = gh.for_repo(owner, repo);
        let (candidates, sha, etag) =
            match look::tree(gh, name, &listed.default_branch, etag, self.options.walk_ignored).await? {
                Tree::Missing => return Ok(result(name, Outcome::Skipped, "empty".into())),
                Tree::Unchanged => {
                    let has_pull = cached.as_ref().is_some_and(|r| r.has_pull);
                    if has_pull {
                        self.refresh_pulls(&gh_repo, name).await?;
                    }
                    return Ok(result(name, Outcome::Unchanged, "no change since the last sweep".into()));
                }
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
            seen_at: epoch(),
        };
        if candidates.is_empty() && !had_pull {
            self.store.save_repo(&record)?;
            return Ok(result(name, Outcome::NoCandidates, "no Dockerfile or manifest".into()));
        }
        let (config, org_text, enabled) = look::config(gh, name, &candidates, self.org_config).await?;
        if !enabled {
            record.skipped = Some("opted out".into());
            self.store.save_repo(&record)?;
            return Ok(result(name, Outcome::Skipped, "opted out by its configuration".into()));
        }
        // Without the cache (a first sweep, or a lost state), harden's branch says whether a pull
        // request of its may need an update or a close.
        let has_pull = match &cached {
            Some(r) => r.has_pull,
            None => gh_repo.get(&format!("/git/ref/heads/{}", config.pull_request.branch)).await?.is_some(),
        };
        let would_change = look::would_change(gh, name, &candidates, &config).await?;
        if !would_change && !has_pull {
            self.store.save_repo(&record)?;
            return Ok(result(name, Outcome::NothingToDo, "nothing harden would propose".into()));
        }
        let pace = self.pace_now()?;
        let report = self.propose(&gh_repo, owner, repo, org_text, pace.is_ok()).await?;
        record.has_pull = has_pull || report.pull.is_some();
        let outcome = self.outcome(name, &report, pace.err());
        if outcome.outcome == Outcome::Scheduled {
            // Its turn comes in a later sweep, even if the tree does not change before.
            record.tree_etag = None;
        }
        self.store.save_repo(&record)?;
        self.save_pull(name, &report)?;
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
        org_text: Option<String>,
        may_open: bool,
    ) -> anyhow::Result<Report> {
        let file = match org_text {
            Some(text) => {
                let mut file = tempfile::Builder::new().prefix("harden-org-").suffix(".yml").tempfile()?;
                file.write_all(text.as_bytes())?;
                Some(file)
            }
            None => None,
        };
        let target = Target {
            owner: owner.into(),
            name: name.into(),
            base: None,
            dry_run: self.options.dry_run,
            config: file.as_ref().map(|f| f.path().to_path_buf()),
            may_open,
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
        if outcome == Outcome::Opened {
            let _ = self.store.record_opening(self.org, name, epoch());
        }
        RepoResult { repo: name.into(), outcome, detail, pull: number, requests: 0, at: epoch() }
    }

    /// Records harden's pull request as the run left it.
    fn save_pull(&self, name: &str, report: &Report) -> anyhow::Result<()> {
        let (Some((number, url)), Some(state)) = (&report.pull, report.state) else { return Ok(()) };
        let proposed: Vec<&crate::run::FileReport> = report.files.iter().filter(|f| f.rewritten.is_some()).collect();
        let proven = || report.proof.iter().filter(|i| i.verdict == Verdict::Proven);
        let blocked = match &report.action {
            Action::Comment(_, Notice::HandsOff) => Some(Notice::HandsOff.text().to_string()),
            Action::Comment(_, Notice::Declined) => Some(Notice::Declined.text().to_string()),
            _ => None,
        };
        let now = epoch();
        self.store.save_pull(&PullRecord {
            repo: name.into(),
            number: *number,
            url: url.clone(),
            state: state.into(),
            fingerprint: Some(report.fingerprint.clone()),
            files: proposed.iter().map(|f| f.path.clone()).collect(),
            bytes_before: proven().filter_map(|i| i.before.bytes).reduce(|a, b| a + b),
            bytes_after: proven().filter_map(|i| i.after.bytes).reduce(|a, b| a + b),
            findings_fixed: proposed.iter().flat_map(|f| &f.findings).filter(|f| f.fixed).count(),
            findings_remaining: proposed.iter().flat_map(|f| &f.findings).filter(|f| !f.fixed).count(),
            blocked_reason: blocked,
            created_at: now,
            updated_at: now,
        })
    }

    /// Refreshes harden's pull requests of an unchanged repository from the forge: a human may
    /// have merged or closed them since.
    async fn refresh_pulls(&self, gh: &GitHub, name: &str) -> anyhow::Result<()> {
        let owner = name.split('/').next().unwrap_or_default();
        let branch =
            self.org_config.map_or(crate::config::DEFAULT_BRANCH.to_string(), |(_, c)| c.pull_request.branch.clone());
        let known = self.store.pulls(self.org)?;
        for pull in gh.list(&format!("/pulls?state=all&head={owner}:{branch}")).await? {
            let Some(number) = pull["number"].as_u64() else { continue };
            let state = match (pull["state"].as_str(), pull["merged_at"].is_null()) {
                (Some("open"), _) => "open",
                (_, false) => "merged",
                _ => "closed",
            };
            let base = known.iter().find(|p| p.repo == name && p.number == number);
            let record = match base {
                Some(p) => PullRecord { state: state.into(), updated_at: epoch(), ..p.clone() },
                None => PullRecord {
                    repo: name.into(),
                    number,
                    url: pull["html_url"].as_str().unwrap_or_default().into(),
                    state: state.into(),
                    fingerprint: None,
                    files: Vec::new(),
                    bytes_before: None,
                    bytes_after: None,
                    findings_fixed: 0,
                    findings_remaining: 0,
                    blocked_reason: None,
                    created_at: epoch(),
                    updated_at: epoch(),
                },
            };
            self.store.save_pull(&record)?;
        }
        Ok(())
    }
}

fn result(repo: &str, outcome: Outcome, detail: String) -> RepoResult {
    RepoResult { repo: repo.into(), outcome, detail, pull: None, requests: 0, at: epoch() }
}

fn failed(listed: &Listed, why: String) -> RepoResult {
    result(&listed.full_name, Outcome::Failed, why)
}

/// Seconds since the epoch.
pub fn epoch() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
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
