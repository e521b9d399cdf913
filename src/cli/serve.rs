//! `harden serve`: the webhook server's command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use harden::serve::signin::SignIn;
use harden::serve::{act, event, permission};

use super::pr_cli::{ForgeArgs, ProofArgs};
use super::{Exit, sweep_cli};

/// `harden serve`'s flags.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// The App's webhook secret; repeat the flag to accept an old one too during a rotation.
    #[arg(long = "webhook-secret", env = "HARDEN_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secrets: Vec<String>,
    /// A file holding a webhook secret (a mounted Kubernetes Secret); repeatable, like
    /// --webhook-secret.
    #[arg(long = "webhook-secret-file")]
    webhook_secret_files: Vec<PathBuf>,
    /// The state: a SQLite file (a path or `sqlite://PATH`, by default the one `harden sweep`
    /// keeps; one server per file), or a PostgreSQL database (`postgres://USER@HOST/DB`) that
    /// replicas share.
    #[arg(long, env = "HARDEN_DATABASE", hide_env_values = true, conflicts_with = "database_file")]
    database: Option<String>,
    /// A file holding --database's value (a PostgreSQL URL with its password, from a mounted
    /// Secret).
    #[arg(long)]
    database_file: Option<PathBuf>,
    #[command(flatten)]
    forge: ForgeArgs,
    #[command(flatten)]
    proof: ProofArgs,
    /// How many jobs run at once (each may build two images).
    #[arg(long, env = "HARDEN_WORKERS", default_value_t = 2)]
    workers: usize,
    /// How many requests are answered at once; past it, `503` with `Retry-After` at once.
    #[arg(long, default_value_t = 1024)]
    max_concurrent_requests: usize,
    /// The least permission on the repository a commenter needs to command harden.
    #[arg(long, value_enum, env = "HARDEN_COMMAND_PERMISSION", default_value = "write")]
    command_permission: permission::Required,
    /// Seconds a push to the default branch waits before harden re-checks its pull request, so
    /// that a burst of pushes makes one re-check.
    #[arg(long, default_value_t = 60)]
    push_debounce_seconds: u64,
    /// Seconds between two first looks at repositories the App was just given.
    #[arg(long, default_value_t = 600)]
    first_look_gap_seconds: u64,
    /// Seconds a worker holds a job before another may take it (a worker that died).
    #[arg(long, default_value_t = 3600)]
    job_lease_seconds: u64,
    #[command(flatten)]
    signin: SignInArgs,
}

/// Signing in to the dashboard at `/` with GitHub's OAuth web flow.
#[derive(clap::Args)]
struct SignInArgs {
    /// The OAuth app's client id (the GitHub App's own): with it, members of an organisation
    /// sign in to see its private repositories on the dashboard.
    #[arg(long, env = "HARDEN_OAUTH_CLIENT_ID", requires_all = ["oauth_client_secret", "session_key"])]
    oauth_client_id: Option<String>,
    /// The OAuth app's client secret.
    #[arg(long, env = "HARDEN_OAUTH_CLIENT_SECRET", hide_env_values = true)]
    oauth_client_secret: Option<String>,
    /// The key session cookies are signed with (at least 32 characters; replicas share it).
    #[arg(long, env = "HARDEN_SESSION_KEY", hide_env_values = true)]
    session_key: Option<String>,
    /// GitHub's web address, where people sign in (a GitHub Enterprise Server's, or the sandbox's).
    #[arg(long, default_value = "https://github.com")]
    web_url: String,
    /// The dashboard's address as browsers reach it (GitHub sends them back under it); default
    /// `http://` and the address the server listens on.
    #[arg(long)]
    dashboard_url: Option<String>,
    /// Show public repositories only, and offer no sign-in.
    #[arg(long, conflicts_with = "oauth_client_id")]
    public: bool,
}

impl SignInArgs {
    /// The sign-in the flags set up, if any.
    fn signin(self, api_url: &str) -> Result<Option<SignIn>, String> {
        let (Some(client_id), Some(client_secret), Some(key)) =
            (self.oauth_client_id, self.oauth_client_secret, self.session_key)
        else {
            return Ok(None);
        };
        if key.len() < 32 {
            return Err("--session-key must be at least 32 characters".into());
        }
        Ok(Some(SignIn {
            client_id,
            client_secret,
            web_url: self.web_url,
            api_url: api_url.to_string(),
            dashboard_url: self.dashboard_url.unwrap_or_default(),
            key: key.into_bytes(),
        }))
    }
}

/// `harden serve`: opens the state, then serves webhooks and runs their jobs until stopped.
pub fn main(args: ServeArgs) -> ExitCode {
    let ServeArgs {
        listen,
        webhook_secrets: mut secrets,
        webhook_secret_files,
        database,
        database_file,
        forge,
        proof,
        workers,
        max_concurrent_requests,
        command_permission,
        push_debounce_seconds,
        first_look_gap_seconds,
        job_lease_seconds,
        signin,
    } = args;
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path)
            .map(|text| text.trim().to_string())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let files: Result<Vec<String>, String> = webhook_secret_files.iter().map(read).collect();
    let database = match (files, database_file.as_ref().map(read).transpose()) {
        (Ok(files), Ok(from_file)) => {
            secrets.extend(files);
            from_file.or(database)
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("harden serve: {e}");
            return Exit::Usage.into();
        }
    };
    if secrets.iter().all(String::is_empty) {
        eprintln!(
            "harden serve: give the App's webhook secret (--webhook-secret, --webhook-secret-file or HARDEN_WEBHOOK_SECRET)"
        );
        return Exit::Usage.into();
    }
    let auth = match forge.auth() {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("harden serve: {e}");
            return Exit::Usage.into();
        }
    };
    let signin = match signin.signin(&forge.api_url) {
        Ok(signin) => signin,
        Err(e) => {
            eprintln!("harden serve: {e}");
            return Exit::Usage.into();
        }
    };
    let (store, shared) = match open_store(database.as_deref()) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("harden serve: {e:#}");
            return Exit::Usage.into();
        }
    };
    let prover = match proof.prover() {
        Ok(prover) => prover,
        Err(e) => {
            eprintln!("harden serve: --verify true: {e}");
            return Exit::Failed.into();
        }
    };
    let jobs = act::Jobs {
        store: store.clone(),
        api_url: forge.api_url.clone(),
        auth,
        limits: forge.limits(),
        prover,
        required: command_permission,
    };
    let pacing =
        event::Pacing { push_debounce: push_debounce_seconds as i64, first_look_gap: first_look_gap_seconds as i64 };
    let options = harden::serve::Options {
        listen,
        secrets,
        store,
        jobs,
        workers,
        concurrent: max_concurrent_requests,
        shared,
        lease: Duration::from_secs(job_lease_seconds),
        pacing,
        signin,
    };
    match harden::serve::serve(options) {
        Ok(()) => Exit::Done.into(),
        Err(e) => {
            eprintln!("harden serve: {e:#}");
            Exit::Failed.into()
        }
    }
}

/// The store `--database` names: a PostgreSQL URL (shared by replicas: `true`), or a SQLite file
/// (`sqlite://PATH` or a path; default the sweep's state file), which belongs to one process.
pub fn open_store(database: Option<&str>) -> anyhow::Result<(Arc<dyn harden::store::Store + Send + Sync>, bool)> {
    match database {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok((Arc::new(harden::store::postgres::Postgres::connect(url)?), true))
        }
        database => {
            let path = database
                .map_or_else(sweep_cli::default_state, |d| PathBuf::from(d.strip_prefix("sqlite://").unwrap_or(d)));
            Ok((Arc::new(harden::store::sqlite::Sqlite::open(&path)?), false))
        }
    }
}
