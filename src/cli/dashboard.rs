//! `harden dashboard`: the campaign's pages written to a directory, from the state the sweeps,
//! `harden pr` and `harden serve` keep.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Exit;
use harden::dashboard::{Snapshot, Visibility, pages::Site};

/// `harden dashboard`'s flags.
#[derive(clap::Args)]
pub struct DashboardArgs {
    /// The directory to write the site to (created when missing; its pages are replaced).
    #[arg(long)]
    out: PathBuf,
    /// The state file the sweeps keep (SQLite), as `harden sweep --state` takes it.
    #[arg(long = "state", env = "HARDEN_STATE", conflicts_with = "database")]
    state: Option<PathBuf>,
    /// The database `harden serve` keeps: a SQLite path or a PostgreSQL URL.
    #[arg(long, env = "HARDEN_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Only these organisations (repeatable; default every one the state knows).
    #[arg(long = "org")]
    orgs: Vec<String>,
    /// Include private repositories. The written pages are static: whoever can read the
    /// directory can read them, so private repositories are left out unless asked for.
    #[arg(long)]
    include_private: bool,
}

/// Runs `harden dashboard`.
pub fn main(args: DashboardArgs) -> ExitCode {
    let database = args.database.or_else(|| args.state.map(|p| p.display().to_string()));
    let store = match super::serve_cli::open_store(database.as_deref()) {
        Ok((store, _)) => store,
        Err(e) => {
            eprintln!("harden dashboard: {e:#}");
            return Exit::Usage.into();
        }
    };
    let written = Snapshot::read(store.as_ref(), &args.orgs).and_then(|snapshot| {
        let visibility = Visibility { all: args.include_private, ..Visibility::default() };
        let site = Site { snapshot: &snapshot, visibility: &visibility, now: harden::store::epoch() };
        let pages = site.pages()?;
        // Pages of an earlier run (a repository since made private, a run with
        // --include-private) must not stay behind in a directory that may be published.
        for dir in ["repo", "sweep"] {
            match std::fs::remove_dir_all(args.out.join(dir)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        for page in &pages {
            let path = args.out.join(&page.path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, &page.body)?;
        }
        Ok(pages.len())
    });
    match written {
        Ok(n) => {
            println!("wrote {n} files to {}", args.out.display());
            Exit::Done.into()
        }
        Err(e) => {
            eprintln!("harden dashboard: {e:#}");
            Exit::Failed.into()
        }
    }
}
