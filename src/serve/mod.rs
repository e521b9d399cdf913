//! `harden serve`: the GitHub App's webhook server. Deliveries arrive at `POST /webhook`; each
//! is authenticated by its signature before anything reads it ([`signature`]), turned into jobs
//! ([`event`], [`command`]) that are recorded with its delivery id in one transaction (so a
//! redelivery is dropped, and a job survives a restart; deliveries that arrive together share
//! it, [`recorder`]), and answered at once. Workers
//! ([`worker`]) take the jobs one repository at a time and do them ([`act`]): `/harden`
//! commands, closed pull requests, pushes to the default branch, new installations.
//! `GET /healthz` says the process is up, `GET /readyz` that its state answers.

pub mod act;
pub mod command;
mod dashboard;
pub mod event;
pub mod payload;
pub mod permission;
pub mod recorder;
pub mod redeliver;
pub mod reply;
pub mod signature;
pub mod signin;
mod webhook;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use crate::store::Store;

/// GitHub's largest webhook payload: 25 MB. A larger body is refused (413) unread.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// What `harden serve` needs.
pub struct Options {
    /// The address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The webhook secrets: the App's, and during a rotation the old one too.
    pub secrets: Vec<String>,
    /// Where deliveries and jobs are recorded.
    pub store: Arc<dyn Store + Send + Sync>,
    /// What the workers need.
    pub jobs: act::Jobs,
    /// How many jobs run at once (builds are heavy).
    pub workers: usize,
    /// How many requests are answered at once; past it, `503` at once.
    pub concurrent: usize,
    /// Whether other servers share the store (PostgreSQL): then a job left running is theirs
    /// until its lease runs out; otherwise it was this server's, and runs again at start.
    pub shared: bool,
    /// How long a worker holds a job before another may take it.
    pub lease: std::time::Duration,
    /// How events become jobs.
    pub pacing: event::Pacing,
    /// Signing in to the dashboard, when GitHub's OAuth app is set up.
    pub signin: Option<signin::SignIn>,
}

/// Serves until the process is stopped (or SIGTERM), printing `serve: listening on http://ADDR`
/// once it accepts connections. Without a non-empty secret every delivery is refused.
pub fn serve(options: Options) -> anyhow::Result<()> {
    let listener =
        std::net::TcpListener::bind(options.listen).with_context(|| format!("listening on {}", options.listen))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let mut options = options;
    if let Some(signin) = options.signin.as_mut().filter(|s| s.dashboard_url.is_empty()) {
        // GitHub sends people back to this address: it must be one their browser can reach.
        anyhow::ensure!(
            !address.ip().is_unspecified(),
            "listening on {address}, the dashboard's address is unknown: give --dashboard-url for the sign-in"
        );
        signin.dashboard_url = format!("http://{address}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // A server alone on its store: what was running when it stopped runs again.
    if !options.shared {
        let requeued = options.store.requeue_running(None)?;
        if requeued > 0 {
            tracing::info!(jobs = requeued, "jobs that were running when the server stopped are queued again");
        }
    }
    let name = format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "harden".into()), std::process::id());
    let app = match &options.jobs.auth {
        crate::forge::github::Auth::App { id, key } => Some((options.jobs.api_url.clone(), *id, key.clone())),
        crate::forge::github::Auth::Token(_) => None,
    };
    let workers = worker::start(Arc::new(options.jobs), options.workers, &name, options.lease);
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        println!("serve: listening on http://{address}");
        tracing::info!(%address, "serving");
        if let Some((api_url, id, key)) = app {
            // Once the server answers, then every hour: what GitHub could not deliver (while it
            // was down, or answered 503).
            let app = crate::forge::github::AppClient::new(&api_url, id, &key)?;
            tokio::spawn(async move {
                loop {
                    match redeliver::failed_deliveries(&app, crate::store::epoch()).await {
                        Ok(n) => tracing::info!(deliveries = n, "asked GitHub again for the deliveries that failed"),
                        Err(e) => {
                            tracing::warn!(error = %format!("{e:#}"), "the failed deliveries could not be asked for")
                        }
                    }
                    tokio::time::sleep(redeliver::EVERY).await;
                }
            });
        }
        let hooks = webhook::Hooks {
            secrets: options.secrets,
            recorder: recorder::Recorder::start(options.store.clone()),
            store: options.store,
            pacing: options.pacing,
            signin: options.signin,
        };
        axum::serve(listener, webhook::router(hooks, options.concurrent))
            .with_graceful_shutdown(stopped())
            .await
            .context("serving")
    });
    tracing::info!("letting the workers finish the jobs they hold");
    workers.stop();
    served
}

/// Resolves on SIGTERM or Ctrl-C: the server stops taking connections and finishes the answers
/// under way.
async fn stopped() {
    let terminated = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
    tracing::info!("stopping");
}
