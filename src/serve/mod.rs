//! `harden serve`: the GitHub App's webhook server. Deliveries arrive at `POST /webhook`; each
//! is authenticated by its signature before anything reads it ([`signature`]), recorded by its
//! delivery id so a redelivery is dropped ([`crate::store::Store::record_delivery`]), and
//! answered at once. `GET /healthz` says the process is up, `GET /readyz` that its state answers.
//!
//! This version authenticates, bounds and deduplicates deliveries; acting on them (`/harden`
//! comments, pull request and push events) is not built yet.

pub mod signature;
mod webhook;

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
    /// Where deliveries are recorded.
    pub store: Arc<dyn Store + Send + Sync>,
}

/// Serves until the process is stopped (or SIGTERM), printing `serve: listening on http://ADDR`
/// once it accepts connections. Without a non-empty secret every delivery is refused.
pub fn serve(options: Options) -> anyhow::Result<()> {
    let listener =
        std::net::TcpListener::bind(options.listen).with_context(|| format!("listening on {}", options.listen))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        println!("serve: listening on http://{address}");
        tracing::info!(%address, "serving");
        let app = webhook::router(webhook::Hooks { secrets: options.secrets, store: options.store });
        axum::serve(listener, app).with_graceful_shutdown(stopped()).await.context("serving")
    })
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
