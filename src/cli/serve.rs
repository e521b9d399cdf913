//! `harden serve`: the webhook server's command line.

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// The state: a SQLite file (a path or `sqlite://PATH`), by default the one `harden sweep`
    /// keeps.
    #[arg(long, env = "HARDEN_DATABASE")]
    database: Option<String>,
}

/// `harden serve`: opens the state, then serves webhooks until stopped.
pub fn main(args: ServeArgs) -> ExitCode {
    let ServeArgs { listen, webhook_secrets: secrets, database } = args;
    if secrets.iter().all(String::is_empty) {
        eprintln!("harden serve: give the App's webhook secret (--webhook-secret or HARDEN_WEBHOOK_SECRET)");
        return Exit::Usage.into();
    }
    let path = match database.as_deref() {
        None => sweep_cli::default_state(),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            eprintln!(
                "harden serve: --database {url}: PostgreSQL is not supported in this version; give a SQLite path"
            );
            return Exit::Usage.into();
        }
        Some(url) => PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)),
    };
    let store = match harden::store::sqlite::Sqlite::open(&path) {
        Ok(store) => std::sync::Arc::new(store),
        Err(e) => {
            eprintln!("harden serve: {e:#}");
            return Exit::Usage.into();
        }
    };
    match harden::serve::serve(harden::serve::Options { listen, secrets, store }) {
        Ok(()) => Exit::Done.into(),
        Err(e) => {
            eprintln!("harden serve: {e:#}");
            Exit::Failed.into()
        }
    }
}
