//! The `harden` command line: a thin shell over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use harden::report::github::{Fence, Runner};
use harden::report::{self, Format};
use harden::rules::{self, Severity};
use harden::run;
use harden::verify;
use std::time::Duration;

#[path = "cli/dashboard.rs"]
mod dashboard_cli;
#[path = "cli/pr.rs"]
mod pr_cli;
#[path = "cli/sandbox.rs"]
mod sandbox_cli;
#[path = "cli/serve.rs"]
mod serve_cli;
#[path = "cli/sweep.rs"]
mod sweep_cli;

/// Makes Go container images small and safe.
#[derive(Parser)]
#[command(name = "harden", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report what is wrong with the Go Dockerfiles under PATH (default: the current directory).
    Scan {
        /// Files or directories to scan.
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit with status 1 when findings at this level (or worse) remain.
        #[arg(long, value_enum)]
        fail_on: Option<Severity>,
        #[command(flatten)]
        publish: Publish,
    },
    /// Rewrite the Go Dockerfiles under PATH to the hardened form (prints a diff unless --write).
    Fix {
        /// Files or directories to fix.
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "diff")]
        format: Format,
        /// Write the rewritten files in place.
        #[arg(long)]
        write: bool,
        /// Also pin base images by digest (`image:tag@sha256:…`), asking their registries;
        /// honours `pin_digests: false` in the repository's configuration.
        #[arg(long)]
        pin: bool,
        /// Exit with status 1 when findings at this level (or worse) remain after the fix.
        #[arg(long, value_enum)]
        fail_on: Option<Severity>,
        #[command(flatten)]
        publish: Publish,
    },
    /// Prove the rewrite: build the original and the hardened image of every Go Dockerfile that
    /// `fix` would change, compare their sizes, and run the new one as Kubernetes will.
    Verify {
        /// Files or directories to verify.
        paths: Vec<PathBuf>,
        /// Output format: text, json or markdown (the pull request table).
        #[arg(long, value_enum, default_value = "text")]
        format: VerifyFormat,
        /// The docker command to use (default: $HARDEN_DOCKER, else `docker`).
        #[arg(long)]
        docker: Option<PathBuf>,
        /// How to build: `auto` (docker buildx when the plugin is there, else the Engine API),
        /// `cli` (docker buildx, else DOCKER_BUILDKIT=1 docker build) or `bollard` (the Engine API).
        #[arg(long, value_enum, default_value = "auto")]
        builder: BuilderChoice,
        /// Network for RUN steps while building (default: the configuration's, else none).
        #[arg(long)]
        network: Option<String>,
        /// A build argument, NAME=VALUE (repeatable).
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// A build secret as `docker build --secret` takes it, id=NAME,src=PATH (repeatable).
        #[arg(long = "secret")]
        secrets: Vec<String>,
        /// Build this stage.
        #[arg(long)]
        target: Option<String>,
        /// Build for this platform.
        #[arg(long)]
        platform: Option<String>,
        /// Give up on a build after this many seconds.
        #[arg(long, default_value_t = 900)]
        build_timeout: u64,
        /// How long the new image must stay up in the smoke run, in seconds (default 3).
        #[arg(long)]
        smoke_seconds: Option<u64>,
        /// Keep the images afterwards (they are removed by default).
        #[arg(long)]
        keep_images: bool,
        /// Push both images to this registry (host:port) and report its compressed sizes.
        #[arg(long)]
        registry: Option<String>,
        /// Count both images' CVEs with this scanner and its own database (default: the
        /// configuration's, else `auto`: trivy or grype, whichever is on PATH).
        #[arg(long, value_enum)]
        cve_scanner: Option<verify::cves::ScannerChoice>,
        /// Use this configuration file instead of the repository's own.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Running in GitHub Actions: set the byte outputs and add the table to the job summary.
        #[arg(long)]
        github: bool,
    },
    /// Open or update the one hardening pull request of a repository: clone its base branch,
    /// scan, fix, prove the rewrite, commit through the Git Data API and open the pull request.
    Pr(Box<pr_cli::PrArgs>),
    /// The organisation-wide campaign: look at every repository of an organisation (or of a
    /// GitHub App's installations, or of a list) without cloning it, and run `harden pr` where
    /// harden has something to propose, at the campaign's pace, keeping state between sweeps.
    Sweep(Box<sweep_cli::SweepArgs>),
    /// The GitHub App's webhook server: answers `/harden` comments from people with write
    /// access with a proven pull request, and reacts to closed pull requests, pushes and
    /// installations; every delivery authenticated, recorded once, its work queued in the state.
    Serve(Box<serve_cli::ServeArgs>),
    /// Write the campaign's dashboard (pull requests by state, sizes saved, charts, a page per
    /// repository and per sweep) as static pages, from the state the sweeps and the server keep.
    Dashboard(dashboard_cli::DashboardArgs),
    /// Run a local GitHub-compatible forge (REST under /api/v3, git over smart HTTP) for trying
    /// harden and for the end-to-end tests. Its state survives a restart.
    Sandbox(Box<sandbox_cli::SandboxArgs>),
    /// The whole job on this machine, no GitHub account needed: start the sandbox forge with the
    /// example Go service, run `harden pr` on it (with the build proof when a Docker engine
    /// answers), and print the pull request.
    Demo {
        /// Keep the sandbox serving afterwards, until stopped, to clone the branch or read the API.
        #[arg(long)]
        serve: bool,
        /// The sandbox's address (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// The docker command for the build proof (default: $HARDEN_DOCKER, else `docker`).
        #[arg(long)]
        docker: Option<PathBuf>,
        /// Record the demo's run in this state file (SQLite), for `harden dashboard --state` or
        /// `harden serve --database` to show.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Print the rule catalogue.
    Rules {
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr);
    if matches!(cli.command, Command::Sweep(_) | Command::Serve(_)) && sweep_cli::logs_json() {
        // A scheduled sweep logs each repository, and the server each delivery, as a JSON line.
        let filter = std::env::var("HARDEN_LOG").unwrap_or_else(|_| "harden=info".into());
        logs.json().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).init();
    } else {
        logs.with_env_filter(tracing_subscriber::EnvFilter::from_env("HARDEN_LOG")).init();
    }
    match cli.command {
        Command::Scan { paths, format, fail_on, publish } => {
            if format == Format::Diff {
                eprintln!("harden scan: --format diff is only for `harden fix`");
                return Exit::Usage.into();
            }
            let paths = default_paths(paths);
            finish(
                &paths,
                &run::analyse_with(&paths, publish.config.as_deref(), false),
                format,
                false,
                fail_on,
                &publish,
            )
            .into()
        }
        Command::Fix { paths, format, write, pin, fail_on, publish } => {
            let paths = default_paths(paths);
            let mut reports = run::analyse_with(&paths, publish.config.as_deref(), pin);
            let mut no_registry = false;
            if pin {
                match harden::pin::Registry::for_references(&run::pinnable_references(&reports)) {
                    Ok(registry) => run::pin(&mut reports, &registry),
                    Err(e) => {
                        eprintln!("harden fix --pin: {e}");
                        no_registry = true;
                        // Nothing can be pinned: never replace a pinned image with an unpinned one.
                        reports = run::analyse_with(&paths, publish.config.as_deref(), false);
                    }
                }
            }
            if write {
                run::write_all(&mut reports);
            }
            let exit = finish(&paths, &reports, format, true, fail_on, &publish);
            // Pins asked for and not made: a registry failed, as the forge or the engine may.
            let unpinned = no_registry || reports.iter().any(|r| !r.unpinned.is_empty());
            match exit {
                Exit::Done | Exit::Findings if unpinned => Exit::Failed.into(),
                exit => exit.into(),
            }
        }
        Command::Verify {
            paths,
            format,
            docker,
            builder,
            network,
            build_args,
            secrets,
            target,
            platform,
            build_timeout,
            smoke_seconds,
            keep_images,
            registry,
            cve_scanner,
            config: config_path,
            github,
        } => {
            let paths = default_paths(paths);
            let config = match run::config_for(&paths[0], config_path.as_deref()) {
                Ok(config) => config.verify,
                Err(e) => {
                    eprintln!("harden verify: {e}");
                    return Exit::Usage.into();
                }
            };
            let tools = match verify::tools::Tools::connect(docker, builder.into()) {
                Ok(tools) => tools,
                Err(e) => {
                    eprintln!("harden verify: {e}");
                    return Exit::Failed.into();
                }
            };
            let mut options = verify::Options::from_config(config);
            options.build.network = network.unwrap_or(options.build.network);
            options.build.build_args.extend(build_args);
            options.build.secrets.extend(secrets);
            options.build.target = target.or(options.build.target);
            options.build.platform = platform.or(options.build.platform);
            options.build.timeout = Duration::from_secs(build_timeout);
            options.smoke = smoke_seconds.map_or(options.smoke, Duration::from_secs);
            options.keep_images = keep_images;
            options.registry = registry.or(options.registry);
            options.cve_scanner = cve_scanner.unwrap_or(options.cve_scanner);
            let reports = run::analyse_with(&paths, config_path.as_deref(), false);
            let fence = github.then(Fence::raise);
            let images = verify::verify(&reports, tools.builder(), tools.engine(), &options);
            print!(
                "{}",
                match format {
                    VerifyFormat::Text => verify::report::text(&images),
                    VerifyFormat::Json => verify::report::json(&images),
                    VerifyFormat::Markdown => verify::report::markdown(&images),
                }
            );
            drop(fence);
            if github && let Err(e) = Runner::from_env().proof(&images) {
                eprintln!("harden verify: --github: {e}");
                return Exit::Failed.into();
            }
            if images.iter().any(|i| i.verdict == verify::Verdict::Failed) { Exit::Findings } else { Exit::Done }.into()
        }
        Command::Pr(args) => pr_cli::main(*args),
        Command::Serve(args) => serve_cli::main(*args),
        Command::Sandbox(args) => sandbox_cli::main(*args),
        Command::Sweep(args) => sweep_cli::main(*args),
        Command::Dashboard(args) => dashboard_cli::main(args),
        Command::Demo { serve, listen, docker, state } => pr_cli::demo(serve, listen, docker, state),
        Command::Rules { format } => {
            print!("{}", rules_text(format));
            Exit::Done.into()
        }
    }
}

/// The exit codes, the same for every command (the README's table).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Nothing to report, or done.
    Done = 0,
    /// Findings at the `--fail-on` level remain (a rewrite failed its proof, for `verify`).
    Findings = 1,
    /// The command line or a configuration file is wrong.
    Usage = 2,
    /// The forge or the Docker engine failed.
    Failed = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// What `scan` and `fix` read and write besides the paths and stdout.
#[derive(clap::Args)]
struct Publish {
    /// Use this configuration file instead of the repository's own (.github/harden.yml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also write the results as SARIF 2.1.0 to this file, for code scanning.
    #[arg(long)]
    sarif: Option<PathBuf>,
    /// The SARIF run's category (`runs[].automationDetails.id`), to tell uploads apart.
    #[arg(long, default_value = "harden")]
    sarif_category: String,
    /// Running in GitHub Actions: annotations on stdout, step outputs to $GITHUB_OUTPUT and the
    /// findings table to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    github: bool,
}

/// How `verify` builds (the command line's spelling of [`verify::tools::BuilderChoice`]).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BuilderChoice {
    /// docker buildx when the plugin is there, else the Engine API.
    Auto,
    /// The docker command line.
    Cli,
    /// The Engine API, through bollard.
    Bollard,
}

impl From<BuilderChoice> for verify::tools::BuilderChoice {
    fn from(choice: BuilderChoice) -> Self {
        match choice {
            BuilderChoice::Auto => Self::Auto,
            BuilderChoice::Cli => Self::Cli,
            BuilderChoice::Bollard => Self::Bollard,
        }
    }
}

/// Output formats of `verify`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VerifyFormat {
    /// Human-readable lines.
    Text,
    /// `{"images": [...]}`.
    Json,
    /// The before/after table for a pull request.
    Markdown,
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() { vec![PathBuf::from(".")] } else { paths }
}

/// Prints the reports (and writes the SARIF file and the runner's outputs that `publish` asks
/// for); the exit code says whether a configuration was invalid or findings at `fail_on` remain.
fn finish(
    paths: &[PathBuf],
    reports: &[run::FileReport],
    format: Format,
    fixing: bool,
    fail_on: Option<Severity>,
    publish: &Publish,
) -> Exit {
    let fence = publish.github.then(Fence::raise);
    print!("{}", report::render(format, reports, fixing, &publish.sarif_category));
    if format == Format::Diff {
        eprint!("{}", report::diff_notes(reports, fixing));
    }
    // A project its README says is retired gets no pull request nobody asked for: said here too.
    if matches!(format, Format::Diff | Format::Text) {
        for path in paths {
            let retired = harden::propose::retired::retired_readme(&run::readmes(path, Path::new("")));
            if let Some((at, said)) = retired {
                eprintln!(
                    "harden: {at} says the project is retired (\"{said}\"): `harden pr` opens no pull request for it unless asked (a /harden comment)"
                );
            }
        }
    }
    drop(fence);
    if let Some(path) = &publish.sarif
        && let Err(e) = std::fs::write(path, report::sarif(reports, &publish.sarif_category))
    {
        eprintln!("harden: --sarif {}: {e}", path.display());
        return Exit::Usage;
    }
    if publish.github
        && let Err(e) = Runner::from_env().reports(reports, fixing, publish.sarif.as_deref())
    {
        eprintln!("harden: --github: {e}");
        return Exit::Failed;
    }
    if paths.iter().any(|path| run::config_for(path, publish.config.as_deref()).is_err()) {
        return Exit::Usage;
    }
    let worst = reports.iter().filter_map(|r| r.worst_remaining(fixing)).max();
    match (fail_on, worst) {
        (Some(threshold), Some(worst)) if worst >= threshold => Exit::Findings,
        _ => Exit::Done,
    }
}

fn rules_text(format: Format) -> String {
    if format == Format::Json {
        return serde_json::to_string_pretty(rules::ALL).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for r in rules::ALL {
        let fix = if r.fixable { "fix" } else { "report" };
        out.push_str(&format!("{} {:<26} {:<7} {:<6} {}\n", r.id, r.name, r.severity.as_str(), fix, r.summary));
        if !r.see_also.is_empty() {
            out.push_str(&format!("      see also: {}\n", r.see_also));
        }
    }
    out.push_str(SEVERITIES);
    out
}

/// Where a finding's severity is not its rule's, as the text catalogue ends by saying.
const SEVERITIES: &str = "\nA severity above is the rule's own. A finding nothing in the repository can act on is told at info: in a workload left alone for what it needs of its host (hostNetwork, a privileged container), all but that need; in a repository that builds images, a workload that runs only other projects' images. A misspelt field (HK230) keeps its severity, and HK228 takes that of the worst gap it stands for.\n";
