//! `harden sweep` and its campaign commands (`merge`, `status`, `close`) on the command line.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use harden::store::sqlite::Sqlite;
use harden::store::{Outcome, PullRecord, RepoResult};
use harden::sweep::pace::{self, Pace};
use harden::sweep::select::{Filter, Shard};
use harden::sweep::summary::{Line, Summary};
use harden::sweep::{self, Progress, Source, campaign};

use super::Exit;
use super::pr_cli::{ForgeArgs, ProofArgs};

/// `harden sweep`: the flags of a sweep, or one of the campaign's commands.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: Option<Campaign>,
    #[command(flatten)]
    run: Run,
}

#[derive(clap::Subcommand)]
enum Campaign {
    /// Join the result files of a sweep's shards (`--results`) into one summary and into the state.
    Merge {
        /// The shards' result files (JSON lines).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        state: StateArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: SummaryFormat,
    },
    /// Every harden pull request of an organisation, with its state, refreshed from the forge.
    Status {
        #[command(flatten)]
        target: CampaignArgs,
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: SummaryFormat,
    },
    /// Close every open harden pull request of an organisation, with a comment, and delete its
    /// branch: for an organisation that drops harden.
    Close {
        #[command(flatten)]
        target: CampaignArgs,
        /// The comment each pull request gets before it is closed.
        #[arg(long, default_value = campaign::WITHDRAWN)]
        comment: String,
        /// List what would be closed, but close nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Which campaign `status` and `close` act on.
#[derive(clap::Args)]
struct CampaignArgs {
    /// The organisation.
    #[arg(long)]
    org: String,
    #[command(flatten)]
    forge: ForgeArgs,
    #[command(flatten)]
    state: StateArgs,
}

impl CampaignArgs {
    /// Runs `work` against the organisation, with harden's branch there.
    fn run<T>(
        &self,
        store: &Sqlite,
        work: impl AsyncFnOnce(&harden::forge::github::GitHub, &str) -> anyhow::Result<T>,
    ) -> Result<T, (Exit, anyhow::Error)> {
        let auth = self.forge.auth().map_err(usage)?;
        campaign::run(&self.forge.api_url, auth, self.forge.limits(), &self.org, store, work).map_err(failed)
    }
}

/// Where the state lives.
#[derive(clap::Args)]
struct StateArgs {
    /// The state file (SQLite), default `$XDG_STATE_HOME/harden/harden.db` (else
    /// `~/.local/state/harden/harden.db`).
    #[arg(long = "state", env = "HARDEN_STATE")]
    path: Option<PathBuf>,
}

impl StateArgs {
    fn open(&self) -> anyhow::Result<Sqlite> {
        Sqlite::open(&self.path())
    }

    /// A copy of the state in `dir`, for a dry run: it reads what the sweeps before it learnt,
    /// and what it records is thrown away with the copy, so the next real sweep is not misled.
    fn open_copy(&self, dir: &Path) -> anyhow::Result<Sqlite> {
        let copy = dir.join("harden.db");
        if self.path().exists() {
            // Opening checkpoints the write-ahead log into the file that is copied.
            drop(self.open()?);
            std::fs::copy(self.path(), &copy)?;
        }
        Sqlite::open(&copy)
    }

    fn path(&self) -> PathBuf {
        self.path.clone().unwrap_or_else(default_state)
    }
}

/// The user's state directory's `harden/harden.db`, as the XDG base directories put it.
pub fn default_state() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let dir = match std::env::var_os("XDG_STATE_HOME").filter(|d| Path::new(d).is_absolute()) {
        Some(dir) => PathBuf::from(dir),
        None => home.map_or_else(|| PathBuf::from("."), |h| h.join(".local/state")),
    };
    dir.join("harden/harden.db")
}

/// Which repositories: exactly one of these.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct Whom {
    /// Every repository of this organisation.
    #[arg(long)]
    org: Option<String>,
    /// Every repository of the GitHub App's installations (with --app-id and --app-key).
    #[arg(long)]
    installation: bool,
    /// The repositories this file names, one OWNER/NAME a line (`#` starts a comment).
    #[arg(long)]
    repos: Option<PathBuf>,
}

/// The flags of a sweep.
#[derive(clap::Args)]
struct Run {
    #[command(flatten)]
    whom: Whom,
    #[command(flatten)]
    forge: ForgeArgs,
    #[command(flatten)]
    state: StateArgs,
    /// This run's share of the repositories, I/N (a stable hash of each name picks its shard).
    #[arg(long, default_value = "1/1")]
    shard: Shard,
    /// Only repositories whose name (or OWNER/NAME) matches this glob; repeatable.
    #[arg(long)]
    include: Vec<String>,
    /// Leave out repositories whose name (or OWNER/NAME) matches this glob; repeatable.
    #[arg(long)]
    exclude: Vec<String>,
    /// Only repositories with this topic (any of those given); repeatable.
    #[arg(long)]
    topic: Vec<String>,
    /// Only repositories whose main language is this one (any of those given); repeatable.
    #[arg(long)]
    language: Vec<String>,
    /// Take forks too.
    #[arg(long)]
    include_forks: bool,
    /// Pull requests opened per hour across the organisation (a shard takes its share).
    #[arg(long, default_value_t = 10)]
    per_hour: usize,
    /// Harden pull requests open at once across the organisation (a shard takes its share).
    #[arg(long, default_value_t = 50)]
    max_open: usize,
    /// Days new pull requests may open on, in UTC: `mon-fri`, `tue,thu`.
    #[arg(long, value_parser = pace::parse_days)]
    days: Option<Vec<time::Weekday>>,
    /// UTC hours new pull requests may open in, FROM-TO: `9-17` (from 09:00 to 16:59).
    #[arg(long, value_parser = pace::parse_hours)]
    hours: Option<(u8, u8)>,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value = "text")]
    format: SummaryFormat,
    /// Also write one JSON line per repository to this file (a shard's result, for `merge`).
    #[arg(long)]
    results: Option<PathBuf>,
    /// Decide and report, but write nothing to the forge.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    proof: ProofArgs,
}

/// How summaries print.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SummaryFormat {
    /// Lines for a person.
    Text,
    /// One JSON object.
    Json,
    /// A table for a job summary.
    Markdown,
}

/// Whether `harden sweep` logs as JSON lines (no terminal on stderr) rather than drawing a bar.
pub fn logs_json() -> bool {
    !std::io::stderr().is_terminal()
}

/// Runs `harden sweep …`.
pub fn main(args: SweepArgs) -> ExitCode {
    let outcome = match args.command {
        None => sweep(args.run),
        Some(Campaign::Merge { files, state, format }) => merge(&files, &state, format),
        Some(Campaign::Status { target, format }) => status(&target, format),
        Some(Campaign::Close { target, comment, dry_run }) => close(&target, &comment, dry_run),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err((exit, error)) => {
            eprintln!("harden sweep: {error:#}");
            exit.into()
        }
    }
}

type Done = Result<Exit, (Exit, anyhow::Error)>;

fn failed(error: anyhow::Error) -> (Exit, anyhow::Error) {
    (Exit::Failed, error)
}

fn usage(error: anyhow::Error) -> (Exit, anyhow::Error) {
    (Exit::Usage, error)
}

fn sweep(run: Run) -> Done {
    let auth = run.forge.auth().map_err(usage)?;
    let source = match (run.whom.org, run.whom.installation, run.whom.repos) {
        (Some(org), _, _) => Source::Org(org),
        (_, true, _) => Source::Installations,
        (_, _, Some(file)) => Source::Repos(file),
        _ => return Err(usage(anyhow::anyhow!("give --org, --installation or --repos"))),
    };
    let prover = run.proof.prover().map_err(|e| failed(anyhow::anyhow!("--verify true: {e}")))?;
    let share = |total: usize| (total / run.shard.count as usize).max(1);
    let options = sweep::Options {
        api_url: run.forge.api_url.clone(),
        auth,
        source,
        filter: Filter {
            include: run.include,
            exclude: run.exclude,
            topics: run.topic,
            languages: run.language,
            forks: run.include_forks,
        },
        shard: run.shard,
        pace: Pace {
            per_hour: share(run.per_hour),
            max_open: share(run.max_open),
            days: run.days.unwrap_or_default(),
            hours: run.hours,
        },
        limits: run.forge.limits(),
        dry_run: run.dry_run,
        results: run.results,
    };
    let scratch = tempfile::tempdir().map_err(|e| failed(e.into()))?;
    let store = if run.dry_run { run.state.open_copy(scratch.path()) } else { run.state.open() }.map_err(usage)?;
    let progress: Box<dyn Progress> = if logs_json() { Box::new(Log) } else { Box::new(Bar::new()) };
    let mut summary = sweep::run(&options, &store, prover.as_ref(), progress.as_ref()).map_err(|e| {
        // A wrong command line, or a wrong organisation configuration: not the forge's failure.
        if e.is::<harden::config::ConfigError>() || e.is::<sweep::Usage>() { usage(e) } else { failed(e) }
    })?;
    summary.dry_run = run.dry_run;
    drop(progress);
    print_summary(&summary, run.format);
    Ok(if summary.count(Outcome::Failed) > 0 { Exit::Findings } else { Exit::Done })
}

fn merge(files: &[PathBuf], state: &StateArgs, format: SummaryFormat) -> Done {
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| usage(anyhow::anyhow!("{}: {e}", file.display())))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let line: Line = serde_json::from_str(line)
                .map_err(|e| usage(anyhow::anyhow!("{}:{}: not a sweep result line: {e}", file.display(), n + 1)))?;
            lines.push(line);
        }
    }
    let store = state.open().map_err(usage)?;
    let summary = sweep::merge(&lines, &store).map_err(failed)?;
    print_summary(&summary, format);
    Ok(if summary.count(Outcome::Failed) > 0 { Exit::Findings } else { Exit::Done })
}

fn status(target: &CampaignArgs, format: SummaryFormat) -> Done {
    let store = target.state.open().map_err(usage)?;
    let org = target.org.as_str();
    let pulls = target.run(&store, async |gh, branch| campaign::status(gh, &store, org, branch).await)?;
    match format {
        SummaryFormat::Json => println!("{}", serde_json::json!({ "org": org, "pull_requests": pulls })),
        SummaryFormat::Text | SummaryFormat::Markdown => print!("{}", pulls_text(org, &pulls)),
    }
    Ok(Exit::Done)
}

fn close(target: &CampaignArgs, comment: &str, dry_run: bool) -> Done {
    let store = target.state.open().map_err(usage)?;
    let org = target.org.as_str();
    let closed =
        target.run(&store, async |gh, branch| campaign::close(gh, &store, org, branch, comment, dry_run).await)?;
    let verb = if dry_run { "would close" } else { "closed" };
    for pull in &closed {
        println!("{verb} {}#{} {}", pull.repo, pull.number, pull.url);
    }
    println!("harden sweep close: {verb} {} pull request(s) in {org}", closed.len());
    Ok(Exit::Done)
}

fn pulls_text(org: &str, pulls: &[PullRecord]) -> String {
    let mut out = String::new();
    for p in pulls {
        let bytes = match (p.bytes_before, p.bytes_after) {
            (Some(b), Some(a)) => format!(" {b} -> {a} bytes"),
            _ => String::new(),
        };
        out.push_str(&format!("{:<7} {}#{} {}{bytes}\n", p.state, p.repo, p.number, p.url));
    }
    let open = pulls.iter().filter(|p| p.state == "open").count();
    out.push_str(&format!("{org}: {} harden pull request(s), {open} open\n", pulls.len()));
    out
}

fn print_summary(summary: &Summary, format: SummaryFormat) {
    print!(
        "{}",
        match format {
            SummaryFormat::Text => summary.text(),
            SummaryFormat::Json => summary.json(),
            SummaryFormat::Markdown => summary.markdown(),
        }
    );
}

/// The progress bar on a terminal.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}") {
            bar.set_style(style);
        }
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, repositories: usize) {
        self.0.set_length(repositories as u64);
    }

    fn done(&self, result: &RepoResult) {
        self.0.inc(1);
        self.0.set_message(format!("{} {}", result.repo, result.outcome.as_str()));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// JSON log lines, one per repository, where no one watches a terminal.
struct Log;

impl Progress for Log {
    fn start(&self, repositories: usize) {
        tracing::info!(repositories, "sweep started");
    }

    fn done(&self, result: &RepoResult) {
        let outcome = result.outcome.as_str();
        let (repo, detail, requests) = (&result.repo, &result.detail, result.requests);
        tracing::info!(repo, outcome, detail, requests, pull = result.pull, "repository done");
    }
}
