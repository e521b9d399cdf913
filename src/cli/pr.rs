//! `harden pr` and `harden demo`, and the flags every command that writes to a forge shares
//! (`sweep` takes them too): how to reach the forge and how to prove a rewrite.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use harden::forge::governor::Limits;
use harden::propose::pr;
use harden::report::github::{Fence, Runner};
use harden::verify;

use super::Exit;

/// `harden pr`'s flags.
#[derive(clap::Args)]
pub struct PrArgs {
    /// The repository, OWNER/NAME.
    #[arg(long)]
    repo: String,
    #[command(flatten)]
    forge: ForgeArgs,
    /// The branch to propose against (default: the repository's default branch).
    #[arg(long)]
    base: Option<String>,
    /// Decide and print the pull request, but write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    proof: ProofArgs,
    /// Use this configuration file instead of the repository's own.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Running in GitHub Actions: set the pull request's outputs and write the job summary.
    #[arg(long)]
    github: bool,
    /// Record the run in this state (a SQLite file, or a PostgreSQL URL), as `harden sweep
    /// --state` and `harden serve --database` keep it, for the dashboard.
    #[arg(long)]
    state: Option<String>,
}

/// Runs `harden pr`.
pub fn main(args: PrArgs) -> ExitCode {
    let PrArgs { repo, forge, base, dry_run, proof, config, github, state } = args;
    let auth = match forge.auth() {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("harden pr: {e}");
            return Exit::Usage.into();
        }
    };
    let Some((owner, name)) = repo.split_once('/') else {
        eprintln!("harden pr: --repo must be OWNER/NAME");
        return Exit::Usage.into();
    };
    let prover = match proof.prover() {
        Ok(prover) => prover,
        Err(e) => {
            eprintln!("harden pr: --verify true: {e}");
            return Exit::Failed.into();
        }
    };
    let config = match config.as_deref().map(harden::config::Config::load_file).transpose() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("harden pr: {e}");
            return Exit::Usage.into();
        }
    };
    let target = pr::Target { base, dry_run, config, ..pr::Target::new(owner, name) };
    let fence = github.then(Fence::raise);
    match pr::run(&forge.api_url, auth, &target, forge.limits(), prover.as_ref()) {
        Ok(report) => {
            let recorded = match (&state, dry_run) {
                (Some(state), false) => super::serve_cli::open_store(Some(state))
                    .and_then(|(store, _)| report.record(store.as_ref(), &repo, harden::store::epoch())),
                _ => Ok(()),
            };
            let line = report.summary(dry_run);
            print!("{line}");
            // The pull request is there either way: its outputs are still given, and the
            // command fails at the end.
            if let Err(e) = &recorded {
                eprintln!("\nharden pr: --state: the run is not recorded: {e:#}");
            }
            if let (true, Some(body)) = (dry_run, &report.body) {
                println!("\n{body}");
            }
            drop(fence);
            match github.then(|| Runner::from_env().pull(&report, &line)) {
                Some(Err(e)) => {
                    eprintln!("harden pr: --github: {e}");
                    Exit::Failed.into()
                }
                _ if recorded.is_err() => Exit::Failed.into(),
                _ => Exit::Done.into(),
            }
        }
        Err(error) => {
            eprintln!("harden pr: {error:#}");
            if error.is::<pr::InvalidConfig>() { Exit::Usage } else { Exit::Failed }.into()
        }
    }
}

/// `harden demo`: the sandbox, the example service, `harden pr`, the pull request printed.
pub fn demo(serve: bool, listen: std::net::SocketAddr, docker: Option<PathBuf>, state: Option<PathBuf>) -> ExitCode {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("harden demo: {e}");
            return Exit::Failed.into();
        }
    };
    let prover = prover(docker);
    let demo = match harden::demo::run(dir.path(), listen, prover.as_ref()) {
        Ok(demo) => demo,
        Err(error) => {
            eprintln!("harden demo: {error:#}");
            return Exit::Failed.into();
        }
    };
    let (owner, name) = harden::demo::REPO;
    println!("harden demo: the sandbox forge at {} holds {owner}/{name}, the example Go service", demo.sandbox.url);
    print!("harden demo: {}", demo.report.summary(false));
    if let Some(body) = &demo.report.body {
        println!("\n{body}");
    }
    if let Some(state) = state {
        let recorded = harden::store::sqlite::Sqlite::open(&state)
            .and_then(|store| demo.report.record(&store, &format!("{owner}/{name}"), harden::store::epoch()));
        match recorded {
            Ok(()) => println!(
                "harden demo: recorded in {} (harden dashboard --state {} --out site)",
                state.display(),
                state.display()
            ),
            Err(e) => {
                eprintln!("harden demo: --state: {e:#}");
                return Exit::Failed.into();
            }
        }
    }
    if !serve {
        return Exit::Done.into();
    }
    println!(
        "harden demo: serving until stopped (Ctrl-C). Token: {}. Clone the branch with\n  git clone -b harden/all {}",
        demo.token,
        demo.sandbox.url.replacen("http://", &format!("http://x-access-token:{}@", demo.token), 1)
            + &format!("/{owner}/{name}.git"),
    );
    match demo.sandbox.wait() {
        Ok(()) => Exit::Done.into(),
        Err(error) => {
            eprintln!("harden demo: {error:#}");
            Exit::Failed.into()
        }
    }
}

/// The build proof: a Docker engine when one answers, else a note that says why there is none.
fn prover(docker: Option<PathBuf>) -> Box<dyn pr::Prover> {
    match verify::tools::Tools::connect(docker, verify::tools::BuilderChoice::Auto) {
        Ok(tools) => Box::new(tools),
        Err(e) => Box::new(pr::NoEngine(e)),
    }
}

/// How `pr` and `sweep` prove a rewrite.
#[derive(clap::Args)]
pub struct ProofArgs {
    /// The docker command for the build proof (default: $HARDEN_DOCKER, else `docker`).
    #[arg(long)]
    docker: Option<PathBuf>,
    /// The build proof: `auto` when a Docker engine answers, `true` to require one, `false` to skip it.
    #[arg(long, value_enum, default_value = "auto")]
    verify: Verify,
}

impl ProofArgs {
    /// The prover chosen; `Err` when `--verify true` finds no engine.
    pub fn prover(self) -> Result<Box<dyn pr::Prover>, String> {
        match self.verify {
            Verify::Auto => Ok(prover(self.docker)),
            Verify::True => {
                Ok(Box::new(verify::tools::Tools::connect(self.docker, verify::tools::BuilderChoice::Auto)?))
            }
            Verify::False => Ok(Box::new(pr::NoEngine("it was turned off (--verify false)".into()))),
        }
    }
}

/// How to reach the forge (`pr` and `sweep`).
#[derive(clap::Args)]
pub struct ForgeArgs {
    /// The REST API's root: GitHub Enterprise Server's `https://HOST/api/v3`, or the sandbox's.
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub api_url: String,
    /// A token (GITHUB_TOKEN or a personal access token).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A GitHub App's id, to authenticate as its installation (with --app-key).
    #[arg(long, env = "HARDEN_APP_ID")]
    app_id: Option<u64>,
    /// The GitHub App's private key (the PEM file GitHub gave you).
    #[arg(long, env = "HARDEN_APP_KEY")]
    app_key: Option<PathBuf>,
    /// The least time between two mutating requests, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    mutation_gap_ms: u64,
}

impl ForgeArgs {
    /// The authentication the flags give: an App when its id and key are given, else the token.
    pub fn auth(&self) -> anyhow::Result<pr::Auth> {
        match (&self.token, self.app_id, &self.app_key) {
            (_, Some(id), Some(key)) => match std::fs::read(key) {
                Ok(key) => Ok(pr::Auth::App { id, key }),
                Err(e) => anyhow::bail!("--app-key {}: {e}", key.display()),
            },
            (Some(token), None, None) => Ok(pr::Auth::Token(token.clone().into())),
            _ => anyhow::bail!("give a token (--token or GITHUB_TOKEN), or an App (--app-id and --app-key)"),
        }
    }

    /// GitHub's limits, with the flags' gap between writes.
    pub fn limits(&self) -> Limits {
        Limits { mutation_gap: Duration::from_millis(self.mutation_gap_ms), ..Limits::default() }
    }
}

/// Whether `pr` proves the rewrite on a Docker engine.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Verify {
    /// When an engine answers; otherwise the body says why the proof was skipped.
    Auto,
    /// Always: without an engine the run fails (exit 3).
    True,
    /// Never.
    False,
}
