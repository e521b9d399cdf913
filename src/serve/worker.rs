//! The workers: threads that take jobs from the store one at a time (the store never hands out
//! two jobs of one repository at once), each job in a runtime of its own, and record what came
//! of it. A job is held under a lease: when its worker dies, another takes it once the lease
//! runs out; a job that failed to finish three times is given up, with the reason kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store::{JobRecord, JobState, epoch};

use super::act::Jobs;
use super::event::Job;

/// A job taken more often than this (its workers died holding it) is given up.
const MAX_ATTEMPTS: u32 = 3;

/// How long an idle worker waits before it looks at the queue again.
const IDLE: Duration = Duration::from_millis(200);

/// The running workers.
pub struct Workers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Starts `count` workers named `{name}-{n}`, each holding a job for at most `lease`.
pub fn start(jobs: Arc<Jobs>, count: usize, name: &str, lease: Duration) -> Workers {
    let stop = Arc::new(AtomicBool::new(false));
    let threads = (1..=count.max(1))
        .map(|n| {
            let (jobs, stop, id) = (jobs.clone(), stop.clone(), format!("{name}-{n}"));
            std::thread::spawn(move || work(&jobs, &stop, &id, lease))
        })
        .collect();
    Workers { stop, threads }
}

impl Workers {
    /// Lets each worker finish the job it holds, then stops them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

fn work(jobs: &Jobs, stop: &AtomicBool, id: &str, lease: Duration) {
    while !stop.load(Ordering::Relaxed) {
        let now = epoch();
        match jobs.store.claim_job(id, now, now + lease.as_secs() as i64) {
            Ok(Some(job)) => finish(jobs, job),
            Ok(None) => std::thread::sleep(IDLE),
            Err(error) => {
                tracing::error!(worker = id, error = %format!("{error:#}"), "the queue does not answer");
                std::thread::sleep(IDLE * 10);
            }
        }
    }
}

fn finish(jobs: &Jobs, record: JobRecord) {
    let (state, outcome) = if record.attempts > MAX_ATTEMPTS {
        (JobState::Failed, format!("given up: taken {} times without finishing", record.attempts - 1))
    } else {
        tracing::info!(
            job = record.id,
            repo = record.repo,
            kind = record.kind,
            attempt = record.attempts,
            "job started"
        );
        match run(jobs, &record) {
            Ok(outcome) => (JobState::Done, outcome),
            Err(error) => (JobState::Failed, format!("{error:#}")),
        }
    };
    tracing::info!(job = record.id, repo = record.repo, state = state.as_str(), outcome, "job finished");
    if let Err(error) = jobs.store.finish_job(record.id, state, &outcome, epoch()) {
        tracing::error!(job = record.id, error = %format!("{error:#}"), "the job's outcome could not be recorded");
    }
}

fn run(jobs: &Jobs, record: &JobRecord) -> anyhow::Result<String> {
    let job: Job = serde_json::from_str(&record.body)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(jobs.run(job))
}
