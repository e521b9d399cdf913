//! Doing a job, at the edge: the forge (reactions, replies, the commenter's permission), the
//! store, and `harden pr`'s flow. A command is acknowledged with 👀, then answered with 🚀 and
//! the outcome, or 😕 and the reason; a refusal gets 👎 and, once per thread, its reason.

use anyhow::Context as _;
use http::Method;
use serde_json::json;

use crate::forge::github::{Auth, GitHub};
use crate::forge::governor::{Limits, Request as Write};
use crate::propose::decide::{Action, Request};
use crate::propose::pr::{self, NoEngine, Prover, Report, Target};
use crate::store::{PullRecord, Store, epoch};

use super::command::Command;
use super::event::{CommandJob, Job};
use super::permission::{self, Required};
use super::reply;

/// What every job needs.
pub struct Jobs {
    /// The store the queue lives in.
    pub store: std::sync::Arc<dyn Store + Send + Sync>,
    /// The REST API's root.
    pub api_url: String,
    /// How harden authenticates (the App, or a token).
    pub auth: Auth,
    /// GitHub's limits.
    pub limits: Limits,
    /// The build proof.
    pub prover: Box<dyn Prover>,
    /// The least permission a commenter needs.
    pub required: Required,
}

impl Jobs {
    /// Does `job`; the outcome in words, for the store and the log.
    pub async fn run(&self, job: Job) -> anyhow::Result<String> {
        match job {
            Job::Command(command) => self.command(command).await,
            Job::Closed { repo, number, url, merged } => self.closed(&repo, number, &url, merged),
            Job::Recheck { repo } => {
                let org = repo.split('/').next().unwrap_or_default();
                let open = self.store.pulls(org)?.iter().any(|p| p.repo == repo && p.state == "open");
                if !open {
                    return Ok("harden has no open pull request there: nothing to re-check".into());
                }
                let gh = self.connect(&repo).await?;
                let report = self.propose(&gh, &repo, Request::Auto, false, false).await?;
                Ok(report.summary(false).trim_end().to_string())
            }
            Job::FirstLook { repo } => {
                let gh = self.connect(&repo).await?;
                let report = self.propose(&gh, &repo, Request::Auto, true, false).await?;
                Ok(report.summary(false).trim_end().to_string())
            }
        }
    }

    async fn connect(&self, repo: &str) -> anyhow::Result<GitHub> {
        let (owner, name) = repo.split_once('/').with_context(|| format!("`{repo}` is not OWNER/NAME"))?;
        GitHub::connect(&self.api_url, self.auth.clone(), owner, name, self.limits).await
    }

    async fn command(&self, job: CommandJob) -> anyhow::Result<String> {
        let gh = self.connect(&job.repo).await?;
        let refusal = match &job.refusal {
            Some(reason) => Some(reason.clone()),
            None => self.lacks_permission(&gh, &job).await?,
        };
        let written = match &job.command {
            Command::Harden => "/harden".to_string(),
            other => format!("/harden {}", other.name()),
        };
        if let Some(reason) = refusal {
            react(&gh, job.comment, "-1").await?;
            if self.store.first_notice(&job.repo, job.thread, epoch())? {
                answer(&gh, &job, &reply::refusal(&written, &reason)).await?;
            }
            return Ok(format!("refused {written} by {}: {reason}", job.author));
        }
        react(&gh, job.comment, "eyes").await?;
        let done = match &job.command {
            Command::Help => Ok(reply::help()),
            Command::Invalid(why) => Err(why.clone()),
            Command::Explain => match self.propose(&gh, &job.repo, Request::Auto, false, true).await {
                Ok(report) => Ok(reply::explain(&report.files)),
                Err(e) => Err(format!("{e:#}")),
            },
            command => {
                let request = match command {
                    Command::Rebase => Request::Rebase,
                    Command::Recreate => Request::Recreate,
                    _ => Request::Auto,
                };
                if let Command::Ignore(path) = command {
                    self.store.ignore_path(&job.repo, path, epoch())?;
                }
                match self.propose(&gh, &job.repo, request, true, false).await {
                    Ok(report) => Ok(reply::outcome(&report)),
                    Err(e) => Err(format!("{e:#}")),
                }
            }
        };
        match done {
            Ok(text) => {
                answer(&gh, &job, &text).await?;
                react(&gh, job.comment, "rocket").await?;
                Ok(format!("{written} by {}: {}", job.author, text.lines().next().unwrap_or_default()))
            }
            Err(why) => {
                answer(&gh, &job, &reply::failure(&why)).await?;
                react(&gh, job.comment, "confused").await?;
                Ok(format!("{written} by {} could not finish: {why}", job.author))
            }
        }
    }

    /// Why the commenter may not command harden, asking GitHub for their permission.
    async fn lacks_permission(&self, gh: &GitHub, job: &CommandJob) -> anyhow::Result<Option<String>> {
        let answer = gh.get(&format!("/collaborators/{}/permission", job.author)).await?.unwrap_or_default();
        let role = answer["role_name"].as_str().or(answer["permission"].as_str()).unwrap_or("none");
        Ok((!permission::allows(role, self.required)).then(|| {
            format!("only people with {} permission on {} can command harden", self.required.as_str(), job.repo)
        }))
    }

    /// `harden pr`'s flow on `repo`, honouring the paths people told harden to leave alone; the
    /// pull request is recorded in the store. `explain` decides without proof or writes.
    async fn propose(
        &self,
        gh: &GitHub,
        repo: &str,
        request: Request,
        may_open: bool,
        explain: bool,
    ) -> anyhow::Result<Report> {
        let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
        let target = Target {
            may_open,
            request,
            dry_run: explain,
            ignore: self.store.ignored_paths(repo)?,
            ..Target::new(owner, name)
        };
        let no_proof = NoEngine("an explanation needs no build".into());
        let prover: &dyn Prover = if explain { &no_proof } else { self.prover.as_ref() };
        let workdir = tempfile::tempdir()?;
        let report = pr::propose(gh, &target, prover, workdir.path()).await?;
        if !explain {
            let now = epoch();
            report.record(self.store.as_ref(), repo, now)?;
            if report.action == Action::Open {
                self.store.record_opening(owner, repo, now)?;
            }
        }
        Ok(report)
    }

    /// Records that harden's pull request `number` was merged or declined.
    fn closed(&self, repo: &str, number: u64, url: &str, merged: bool) -> anyhow::Result<String> {
        let org = repo.split('/').next().unwrap_or_default();
        let state = if merged { "merged" } else { "closed" };
        let known = self.store.pulls(org)?.into_iter().find(|p| p.repo == repo && p.number == number);
        let now = epoch();
        let record = match known {
            Some(known) => PullRecord { state: state.into(), updated_at: now, ..known },
            None => PullRecord::seen(repo, number, url, state, now),
        };
        self.store.save_pull(&record)?;
        Ok(format!("pull request #{number} {}", if merged { "was merged" } else { "was declined" }))
    }
}

/// Reacts on comment `comment` (GitHub answers 200 for a reaction made before, so a resumed job
/// reacts once).
async fn react(gh: &GitHub, comment: u64, content: &str) -> anyhow::Result<()> {
    let path = format!("/issues/comments/{comment}/reactions");
    gh.write(Method::POST, &path, &json!({ "content": content }), Write::Content).await?;
    Ok(())
}

/// Answers the command's comment in its thread, unless an answer to it is there already (a job
/// resumed after a crash).
async fn answer(gh: &GitHub, job: &CommandJob, text: &str) -> anyhow::Result<()> {
    let path = format!("/issues/{}/comments", job.thread);
    let marker = reply::marker(job.comment);
    for _ in 0..3 {
        if gh.list(&path).await?.iter().any(|c| c["body"].as_str().is_some_and(|b| b.contains(&marker))) {
            return Ok(());
        }
        if gh.post_once(&path, &json!({ "body": reply::to(job.comment, text) })).await?.is_some() {
            return Ok(());
        }
    }
    anyhow::bail!("answering in #{}: no answer after three attempts", job.thread)
}
