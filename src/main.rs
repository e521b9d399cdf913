//! The `harden` command line: a thin shell over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use harden::report::{self, Format};
use harden::rules::{self, Severity};
use harden::run;
use harden::verify;
use std::time::Duration;

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
    },
    /// Run a local GitHub-compatible forge (REST under /api/v3, git over smart HTTP) for trying
    /// harden and for the end-to-end tests. Its state survives a restart.
    Sandbox {
        /// The address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Where the state and the repositories live.
        #[arg(long, default_value = "harden-sandbox")]
        data: PathBuf,
        /// A repository to create from a folder, OWNER/NAME=PATH (one commit on main); repeatable.
        /// An existing repository is kept as it is.
        #[arg(long = "seed")]
        seeds: Vec<harden::sandbox::Seed>,
        /// The token clients must present (REST: `Authorization: token T`; git: the password).
        #[arg(long, env = "HARDEN_SANDBOX_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Print the rule catalogue.
    Rules {
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("HARDEN_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Scan { paths, format, fail_on } => {
            if format == Format::Diff {
                eprintln!("harden scan: --format diff is only for `harden fix`");
                return ExitCode::from(2);
            }
            finish(&run::run(&default_paths(paths), false), format, false, fail_on)
        }
        Command::Fix { paths, format, write, pin, fail_on } => {
            let mut reports = run::analyse(&default_paths(paths));
            if pin {
                match harden::pin::Registry::for_references(&run::pinnable_references(&reports)) {
                    Ok(registry) => run::pin(&mut reports, &registry),
                    Err(e) => eprintln!("harden fix --pin: {e}"),
                }
            }
            if write {
                run::write_all(&mut reports);
            }
            finish(&reports, format, true, fail_on)
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
        } => {
            let paths = default_paths(paths);
            let config = match harden::config::Config::load(&run::repo_root(&paths[0])) {
                Ok(config) => config.verify,
                Err(e) => {
                    eprintln!("harden verify: {e}");
                    return ExitCode::from(2);
                }
            };
            let engine = match verify::engine::DockerCli::connect(docker.or_else(verify::docker_bin)) {
                Ok(engine) => engine,
                Err(e) => {
                    eprintln!("harden verify: {e}");
                    return ExitCode::from(2);
                }
            };
            let options = verify::Options {
                build: verify::engine::BuildOptions {
                    network: network.or(config.network).unwrap_or_else(|| "none".into()),
                    build_args: config.build_args.into_iter().chain(build_args).collect(),
                    secrets: config.secrets.into_iter().chain(secrets).collect(),
                    target: target.or(config.target),
                    platform: platform.or(config.platform),
                    timeout: Duration::from_secs(build_timeout),
                },
                smoke: Duration::from_secs(smoke_seconds.or(config.smoke_seconds).unwrap_or(3)),
                keep_images,
                registry: registry.or(config.registry),
            };
            let bollard;
            let builder: &dyn verify::engine::Builder = match (builder, engine.has_buildx()) {
                (BuilderChoice::Cli, _) | (BuilderChoice::Auto, true) => &engine,
                (BuilderChoice::Bollard, _) | (BuilderChoice::Auto, false) => {
                    match verify::bollard::BollardBuilder::connect() {
                        Ok(b) => {
                            bollard = b;
                            &bollard
                        }
                        Err(e) => {
                            eprintln!("harden verify: {e}");
                            return ExitCode::from(2);
                        }
                    }
                }
            };
            let images = verify::verify(&run::run(&paths, false), builder, &engine, &options);
            print!(
                "{}",
                match format {
                    VerifyFormat::Text => verify::report::text(&images),
                    VerifyFormat::Json => verify::report::json(&images),
                    VerifyFormat::Markdown => verify::report::markdown(&images),
                }
            );
            if images.iter().any(|i| i.verdict == verify::Verdict::Failed) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Sandbox { listen, data, seeds, token } => {
            match harden::sandbox::serve(harden::sandbox::Options { listen, data, seeds, token }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("harden sandbox: {error:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Rules { format } => {
            print!("{}", rules_text(format));
            ExitCode::SUCCESS
        }
    }
}

/// How `verify` builds.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BuilderChoice {
    /// docker buildx when the plugin is there, else the Engine API.
    Auto,
    /// The docker command line.
    Cli,
    /// The Engine API, through bollard.
    Bollard,
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

fn finish(reports: &[run::FileReport], format: Format, fixing: bool, fail_on: Option<Severity>) -> ExitCode {
    print!("{}", report::render(format, reports, fixing));
    let worst = reports.iter().filter_map(|r| r.worst_remaining(fixing)).max();
    match (fail_on, worst) {
        (Some(threshold), Some(worst)) if worst >= threshold => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
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
    out
}
