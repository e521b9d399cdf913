//! SQLite's checkpoints, beside the commits: a thread with a connection of its own moves the WAL
//! into the database file, so that no commit waits for a checkpoint's writes and sync.

use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;

use anyhow::Context;
use rusqlite::Connection;

/// How often the checkpointer moves the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Checkpoints the WAL from a connection of its own, every [`CHECKPOINT_EVERY`], without blocking
/// writers (`PASSIVE`); stops when dropped, after a last checkpoint.
pub(super) struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`.
    pub(super) fn start(path: &Path) -> anyhow::Result<Self> {
        let db = Connection::open(path).with_context(|| format!("opening the state {}", path.display()))?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new().name("harden-checkpoint".into()).spawn(move || {
            loop {
                let last = !matches!(stopped.recv_timeout(CHECKPOINT_EVERY), Err(RecvTimeoutError::Timeout));
                if let Err(e) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "the state's checkpoint failed; it is tried again");
                }
                if last {
                    return;
                }
            }
        })?;
        Ok(Checkpointer { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
