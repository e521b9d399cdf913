//! The store in PostgreSQL (`--database postgres://…`), so that several `harden serve` replicas
//! behind a load balancer share one queue and one record of deliveries. A few connections per
//! process, each owned by a thread of its own that takes the next call: the store is called from
//! async handlers and from workers alike, and the synchronous client must not block a runtime's
//! thread. Jobs are claimed under a transaction-scoped advisory lock with `FOR UPDATE SKIP
//! LOCKED`, so two replicas never take the same job, nor two jobs of one repository.
//!
//! Migrations are the numbered `.sql` files in `migrations/postgres/`, applied once each under a
//! session advisory lock (replicas may start together); `harden_migrations` records them.

use std::sync::mpsc::{Sender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use postgres::{Client, NoTls, Transaction};

mod rows;

use super::{
    Accepted, Delivery, JobRecord, JobState, NewJob, PullRecord, RepoRecord, RepoResult, Store, SweepId, SweepRecord,
};
mod accept;
use rows::{JOB_COLUMNS, REPO_COLUMNS, job_row, pull_row, repo_row, result_row, sweep_row};

/// The migrations, in order.
const MIGRATIONS: &[&str] =
    &[include_str!("../migrations/postgres/0001_init.sql"), include_str!("../migrations/postgres/0002_dashboard.sql")];

/// Connections per process: calls run on them side by side (a commit waits for its WAL flush;
/// several commits share one).
const CONNECTIONS: usize = 4;

/// The advisory lock that serialises claims (and debounced enqueues) across replicas.
const QUEUE_LOCK: i64 = 0x6861_7264_656e; // "harden"

type Call = Box<dyn FnOnce(&mut Client) + Send>;

/// A PostgreSQL database.
pub struct Postgres {
    calls: Mutex<Sender<Call>>,
}

impl Postgres {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`) and brings the schema up to
    /// date. The password is never printed.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let (calls, queue) = channel::<Call>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..CONNECTIONS {
            let (ready, connected) = sync_channel(1);
            let (url, queue) = (url.to_string(), queue.clone());
            std::thread::Builder::new().name(format!("harden-postgres-{n}")).spawn(move || {
                let mut client = match open(&url) {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                loop {
                    let next = queue.lock().expect("the queue's lock").recv();
                    let Ok(call) = next else { return };
                    // A connection the server dropped is made again before the next call.
                    if client.is_closed()
                        && let Ok(again) = open(&url)
                    {
                        client = again;
                    }
                    call(&mut client);
                }
            })?;
            connected.recv().context("the PostgreSQL thread stopped")??;
        }
        Ok(Postgres { calls: Mutex::new(calls) })
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (answer, answered) = sync_channel(1);
        let call: Call = Box::new(move |client| {
            let _ = answer.send(f(client));
        });
        let sent = self.calls.lock().expect("the calls' lock").send(call);
        anyhow::ensure!(sent.is_ok(), "the PostgreSQL thread stopped");
        answered.recv().context("the PostgreSQL thread stopped")?
    }

    /// Runs `f` in a transaction on the connection's thread.
    fn transaction<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.with(move |client| {
            let mut tx = client.transaction()?;
            let answer = f(&mut tx)?;
            tx.commit()?;
            Ok(answer)
        })
    }
}

/// Connects and migrates.
fn open(url: &str) -> anyhow::Result<Client> {
    let mut client = Client::connect(url, NoTls).map_err(|e| anyhow::anyhow!("connecting to PostgreSQL: {e}"))?;
    migrate(&mut client).context("migrating the PostgreSQL state")?;
    Ok(client)
}

/// Applies the migrations the database has not had yet, one replica at a time.
fn migrate(client: &mut Client) -> anyhow::Result<()> {
    client.execute("SELECT pg_advisory_lock($1)", &[&QUEUE_LOCK])?;
    let applied = (|| -> anyhow::Result<()> {
        client.batch_execute("CREATE TABLE IF NOT EXISTS harden_migrations (version INTEGER PRIMARY KEY)")?;
        let done: i32 = client.query_one("SELECT COALESCE(MAX(version), 0) FROM harden_migrations", &[])?.get(0);
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
            let mut tx = client.transaction()?;
            tx.batch_execute(sql)?;
            tx.execute("INSERT INTO harden_migrations (version) VALUES ($1)", &[&(n as i32 + 1)])?;
            tx.commit()?;
        }
        Ok(())
    })();
    client.execute("SELECT pg_advisory_unlock($1)", &[&QUEUE_LOCK])?;
    applied
}

impl Store for Postgres {
    fn ready(&self) -> anyhow::Result<()> {
        self.with(|client| {
            client.query_one("SELECT 1", &[])?;
            Ok(())
        })
    }

    fn accept(&self, delivery: &str, event: &str, jobs: &[NewJob], now: i64) -> anyhow::Result<Accepted> {
        let (delivery, event, jobs) = (delivery.to_string(), event.to_string(), jobs.to_vec());
        self.transaction(move |tx| accept::record(tx, &delivery, &event, &jobs, now))
    }

    fn accept_all(&self, deliveries: &[Delivery]) -> Vec<anyhow::Result<Accepted>> {
        if deliveries.len() > 1 {
            let batch = deliveries.to_vec();
            let together = self.transaction(move |tx| accept::record_all(tx, &batch));
            if let Ok(answers) = together {
                return answers.into_iter().map(Ok).collect();
            }
        }
        deliveries.iter().map(|d| self.accept(&d.id, &d.event, &d.jobs, d.now)).collect()
    }

    fn claim_job(&self, worker: &str, now: i64, lease_until: i64) -> anyhow::Result<Option<JobRecord>> {
        let worker = worker.to_string();
        self.transaction(move |tx| {
            // Claims are taken one at a time across replicas, so the check that no job of the
            // same repository is running sees every claim made before.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&QUEUE_LOCK])?;
            let Some(row) = tx
                .query(
                    "SELECT id FROM jobs j
                     WHERE ((state = 'queued' AND not_before <= $1) OR (state = 'running' AND lease_until < $1))
                       AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.repo = j.repo AND r.id <> j.id
                                       AND r.state = 'running' AND r.lease_until >= $1)
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    &[&now],
                )?
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            let id: i64 = row.get(0);
            let row = tx.query_one(
                &format!(
                    "UPDATE jobs SET state = 'running', worker = $2, lease_until = $3, attempts = attempts + 1
                     WHERE id = $1 RETURNING {JOB_COLUMNS}"
                ),
                &[&id, &worker, &lease_until],
            )?;
            Ok(Some(job_row(&row)))
        })
    }

    fn finish_job(&self, id: i64, state: JobState, outcome: &str, now: i64) -> anyhow::Result<()> {
        let outcome = outcome.to_string();
        self.with(move |client| {
            client.execute(
                "UPDATE jobs SET state = $2, outcome = $3, finished_at = $4, lease_until = NULL WHERE id = $1",
                &[&id, &state.as_str(), &outcome, &now],
            )?;
            Ok(())
        })
    }

    fn requeue_running(&self, worker: Option<&str>) -> anyhow::Result<usize> {
        let worker = worker.map(str::to_string);
        self.with(move |client| {
            Ok(client.execute(
                "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL
                 WHERE state = 'running' AND ($1::TEXT IS NULL OR worker = $1)",
                &[&worker],
            )? as usize)
        })
    }

    fn jobs(&self) -> anyhow::Result<Vec<JobRecord>> {
        self.with(|client| {
            Ok(client.query(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"), &[])?.iter().map(job_row).collect())
        })
    }

    fn ignore_path(&self, repo: &str, path: &str, now: i64) -> anyhow::Result<()> {
        let (repo, path) = (repo.to_string(), path.to_string());
        self.with(move |client| {
            client.execute(
                "INSERT INTO ignored_paths (repo, path, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&repo, &path, &now],
            )?;
            Ok(())
        })
    }

    fn ignored_paths(&self, repo: &str) -> anyhow::Result<Vec<String>> {
        let repo = repo.to_string();
        self.with(move |client| {
            let rows = client.query("SELECT path FROM ignored_paths WHERE repo = $1 ORDER BY at, path", &[&repo])?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    fn first_notice(&self, repo: &str, thread: u64, now: i64) -> anyhow::Result<bool> {
        let repo = repo.to_string();
        self.with(move |client| {
            let added = client.execute(
                "INSERT INTO notices (repo, thread, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&repo, &(thread as i64), &now],
            )?;
            Ok(added == 1)
        })
    }

    fn begin_sweep(&self, org: &str, shard: &str, now: i64) -> anyhow::Result<SweepId> {
        let (org, shard) = (org.to_string(), shard.to_string());
        self.transaction(move |tx| {
            tx.execute("INSERT INTO orgs (login, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&org, &now])?;
            let unfinished = tx.query(
                "SELECT id FROM sweeps WHERE org = $1 AND shard = $2 AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
                &[&org, &shard],
            )?;
            if let Some(row) = unfinished.first() {
                return Ok(SweepId(row.get(0)));
            }
            let row = tx.query_one(
                "INSERT INTO sweeps (org, shard, started_at) VALUES ($1, $2, $3) RETURNING id",
                &[&org, &shard, &now],
            )?;
            Ok(SweepId(row.get(0)))
        })
    }

    fn finish_sweep(&self, sweep: SweepId, now: i64) -> anyhow::Result<()> {
        self.with(move |client| {
            client.execute("UPDATE sweeps SET finished_at = $1 WHERE id = $2", &[&now, &sweep.0])?;
            Ok(())
        })
    }

    fn repo(&self, full_name: &str) -> anyhow::Result<Option<RepoRecord>> {
        let full_name = full_name.to_string();
        self.with(move |client| {
            let query = format!("SELECT {REPO_COLUMNS} FROM repos WHERE full_name = $1");
            Ok(client.query(&query, &[&full_name])?.first().map(repo_row))
        })
    }

    fn orgs(&self) -> anyhow::Result<Vec<String>> {
        self.with(|client| {
            let rows = client.query("SELECT login FROM orgs UNION SELECT org FROM repos ORDER BY 1", &[])?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    fn repos(&self, org: &str) -> anyhow::Result<Vec<RepoRecord>> {
        let org = org.to_string();
        self.with(move |client| {
            let query = format!("SELECT {REPO_COLUMNS} FROM repos WHERE org = $1 ORDER BY full_name");
            Ok(client.query(&query, &[&org])?.iter().map(repo_row).collect())
        })
    }

    fn sweeps(&self, org: &str) -> anyhow::Result<Vec<SweepRecord>> {
        let org = org.to_string();
        self.with(move |client| {
            let rows = client.query(
                "SELECT id, org, shard, started_at, finished_at FROM sweeps WHERE org = $1 ORDER BY id DESC",
                &[&org],
            )?;
            Ok(rows.iter().map(sweep_row).collect())
        })
    }

    fn save_repo(&self, r: &RepoRecord) -> anyhow::Result<()> {
        let r = r.clone();
        self.with(move |client| {
            client.execute(
                "INSERT INTO repos (full_name, org, default_branch, tree_sha, tree_etag, candidates, skipped, has_pull,
                   seen_at, waiting, judged_with, private)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (full_name) DO UPDATE SET org = $2, default_branch = $3, tree_sha = $4, tree_etag = $5,
                   candidates = $6, skipped = $7, has_pull = $8, seen_at = $9, waiting = $10, judged_with = $11,
                   private = $12",
                &[
                    &r.full_name,
                    &r.org,
                    &r.default_branch,
                    &r.tree_sha,
                    &r.tree_etag,
                    &(r.candidates as i64),
                    &r.skipped,
                    &r.has_pull,
                    &r.seen_at,
                    &r.waiting,
                    &r.judged_with,
                    &r.private,
                ],
            )?;
            Ok(())
        })
    }

    fn result(&self, sweep: SweepId, repo: &str) -> anyhow::Result<Option<RepoResult>> {
        let repo = repo.to_string();
        self.with(move |client| {
            let rows = client.query(
                "SELECT repo, outcome, detail, pull, requests, at FROM results WHERE sweep = $1 AND repo = $2",
                &[&sweep.0, &repo],
            )?;
            Ok(rows.first().map(result_row))
        })
    }

    fn results(&self, sweep: SweepId) -> anyhow::Result<Vec<RepoResult>> {
        self.with(move |client| {
            let rows = client.query(
                "SELECT repo, outcome, detail, pull, requests, at FROM results WHERE sweep = $1 ORDER BY repo",
                &[&sweep.0],
            )?;
            Ok(rows.iter().map(result_row).collect())
        })
    }

    fn save_result(&self, sweep: SweepId, r: &RepoResult) -> anyhow::Result<()> {
        let r = r.clone();
        self.with(move |client| {
            client.execute(
                "INSERT INTO results (sweep, repo, outcome, detail, pull, requests, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (sweep, repo) DO UPDATE SET outcome = $3, detail = $4, pull = $5, requests = $6, at = $7",
                &[
                    &sweep.0,
                    &r.repo,
                    &r.outcome.as_str(),
                    &r.detail,
                    &r.pull.map(|n| n as i64),
                    &(r.requests as i64),
                    &r.at,
                ],
            )?;
            Ok(())
        })
    }

    fn save_pull(&self, p: &PullRecord) -> anyhow::Result<()> {
        let p = p.clone();
        self.with(move |client| {
            client.execute(
                "INSERT INTO pulls (repo, number, url, state, fingerprint, files, bytes_before, bytes_after,
                   findings_fixed, findings_remaining, blocked_reason, created_at, updated_at,
                   packages_before, packages_after, shells_removed, off_root, restricted)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                 ON CONFLICT (repo, number) DO UPDATE SET url = $3, state = $4, fingerprint = $5, files = $6,
                   bytes_before = COALESCE($7, pulls.bytes_before), bytes_after = COALESCE($8, pulls.bytes_after),
                   findings_fixed = $9, findings_remaining = $10, blocked_reason = $11, updated_at = $13,
                   packages_before = COALESCE($14, pulls.packages_before),
                   packages_after = COALESCE($15, pulls.packages_after),
                   shells_removed = COALESCE($16, pulls.shells_removed),
                   off_root = COALESCE($17, pulls.off_root), restricted = COALESCE($18, pulls.restricted)",
                &[
                    &p.repo,
                    &(p.number as i64),
                    &p.url,
                    &p.state,
                    &p.fingerprint,
                    &serde_json::to_string(&p.files)?,
                    &p.bytes_before.map(|b| b as i64),
                    &p.bytes_after.map(|b| b as i64),
                    &(p.findings_fixed as i64),
                    &(p.findings_remaining as i64),
                    &p.blocked_reason,
                    &p.created_at,
                    &p.updated_at,
                    &p.packages_before.map(|n| n as i64),
                    &p.packages_after.map(|n| n as i64),
                    &p.shells_removed.map(|n| n as i64),
                    &p.off_root.map(|n| n as i64),
                    &p.restricted.map(|n| n as i64),
                ],
            )?;
            Ok(())
        })
    }

    fn pulls(&self, org: &str) -> anyhow::Result<Vec<PullRecord>> {
        let org = org.to_string();
        self.with(move |client| {
            let rows = client.query(
                "SELECT repo, number, url, state, fingerprint, files, bytes_before, bytes_after, findings_fixed,
                   findings_remaining, blocked_reason, created_at, updated_at, packages_before, packages_after,
                   shells_removed, off_root, restricted
                 FROM pulls WHERE starts_with(repo, $1 || '/') ORDER BY repo, number",
                &[&org],
            )?;
            Ok(rows.iter().map(pull_row).collect())
        })
    }

    fn record_opening(&self, org: &str, repo: &str, at: i64) -> anyhow::Result<()> {
        let (org, repo) = (org.to_string(), repo.to_string());
        self.with(move |client| {
            client.execute("INSERT INTO openings (org, repo, at) VALUES ($1, $2, $3)", &[&org, &repo, &at])?;
            Ok(())
        })
    }

    fn openings_since(&self, org: &str, since: i64) -> anyhow::Result<Vec<i64>> {
        let org = org.to_string();
        self.with(move |client| {
            let rows =
                client.query("SELECT at FROM openings WHERE org = $1 AND at >= $2 ORDER BY at", &[&org, &since])?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    fn cached(&self, route: &str) -> anyhow::Result<Option<(String, String)>> {
        let route = route.to_string();
        self.with(move |client| {
            let rows = client.query("SELECT etag, body FROM cache WHERE route = $1", &[&route])?;
            Ok(rows.first().map(|row| (row.get(0), row.get(1))))
        })
    }

    fn save_cached(&self, route: &str, etag: &str, body: &str) -> anyhow::Result<()> {
        let (route, etag, body) = (route.to_string(), etag.to_string(), body.to_string());
        self.with(move |client| {
            client.execute(
                "INSERT INTO cache (route, etag, body) VALUES ($1, $2, $3)
                 ON CONFLICT (route) DO UPDATE SET etag = $2, body = $3",
                &[&route, &etag, &body],
            )?;
            Ok(())
        })
    }
}
