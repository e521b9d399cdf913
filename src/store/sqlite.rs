//! The store in one SQLite file (bundled with harden, write-ahead logged), the default for
//! `harden sweep`. Migrations are the numbered `.sql` files beside this one, applied in order
//! once each; `PRAGMA user_version` records the last one.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    Accepted, Delivery, JobRecord, JobState, NewJob, Outcome, PullRecord, RepoRecord, RepoResult, Store, SweepId,
    SweepRecord,
};

/// The migrations, in order.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_deliveries.sql"),
    include_str!("migrations/0003_jobs.sql"),
    include_str!("migrations/0004_dashboard.sql"),
];

/// A job's columns, in the order [`job_row`] reads them.
const JOB_COLUMNS: &str = "id, repo, kind, body, state, attempts, outcome, created_at, finished_at";

mod checkpoint;
use checkpoint::Checkpointer;

/// A SQLite database file.
pub struct Sqlite {
    db: Mutex<Connection>,
    _checkpoints: Checkpointer,
}

impl Sqlite {
    /// Opens (or creates) the database at `path`, in WAL mode, and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let db = Connection::open(path).with_context(|| format!("opening the state {}", path.display()))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        // No commit checkpoints (SQLite's automatic checkpoint runs inside the commit that
        // crosses its threshold, writing and syncing the file while every answer waits): the
        // checkpointer does it beside the commits.
        db.pragma_update(None, "wal_autocheckpoint", 0)?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&db).with_context(|| format!("migrating the state {}", path.display()))?;
        let checkpoints = Checkpointer::start(path)?;
        Ok(Sqlite { db: Mutex::new(db), _checkpoints: checkpoints })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().expect("the state's lock")
    }
}

/// Applies the migrations the database has not had yet.
fn migrate(db: &Connection) -> anyhow::Result<()> {
    let done: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        let tx = db.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", n as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

impl Store for Sqlite {
    fn ready(&self) -> anyhow::Result<()> {
        self.db().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn accept(&self, delivery: &str, event: &str, jobs: &[NewJob], now: i64) -> anyhow::Result<Accepted> {
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let accepted = record(&tx, delivery, event, jobs, now)?;
        tx.commit()?;
        Ok(accepted)
    }

    fn accept_all(&self, deliveries: &[Delivery]) -> Vec<anyhow::Result<Accepted>> {
        if deliveries.len() > 1 {
            let together = (|| {
                let mut db = self.db();
                let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let answers = deliveries
                    .iter()
                    .map(|d| record(&tx, &d.id, &d.event, &d.jobs, d.now))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                tx.commit()?;
                anyhow::Ok(answers)
            })();
            if let Ok(answers) = together {
                return answers.into_iter().map(Ok).collect();
            }
        }
        deliveries.iter().map(|d| self.accept(&d.id, &d.event, &d.jobs, d.now)).collect()
    }

    fn claim_job(&self, worker: &str, now: i64, lease_until: i64) -> anyhow::Result<Option<JobRecord>> {
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM jobs j
                 WHERE ((state = 'queued' AND not_before <= ?1) OR (state = 'running' AND lease_until < ?1))
                   AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.repo = j.repo AND r.id <> j.id
                                   AND r.state = 'running' AND r.lease_until >= ?1)
                 ORDER BY id LIMIT 1",
                params![now],
                |row| row.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        tx.execute(
            "UPDATE jobs SET state = 'running', worker = ?2, lease_until = ?3, attempts = attempts + 1 WHERE id = ?1",
            params![id, worker, lease_until],
        )?;
        let job = tx.query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), params![id], job_row)?;
        tx.commit()?;
        Ok(Some(job))
    }

    fn finish_job(&self, id: i64, state: JobState, outcome: &str, now: i64) -> anyhow::Result<()> {
        self.db().execute(
            "UPDATE jobs SET state = ?2, outcome = ?3, finished_at = ?4, lease_until = NULL WHERE id = ?1",
            params![id, state.as_str(), outcome, now],
        )?;
        Ok(())
    }

    fn requeue_running(&self, worker: Option<&str>) -> anyhow::Result<usize> {
        Ok(self.db().execute(
            "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL
             WHERE state = 'running' AND (?1 IS NULL OR worker = ?1)",
            params![worker],
        )?)
    }

    fn jobs(&self) -> anyhow::Result<Vec<JobRecord>> {
        let db = self.db();
        let mut query = db.prepare(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"))?;
        let rows = query.query_map([], job_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn ignore_path(&self, repo: &str, path: &str, now: i64) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT OR IGNORE INTO ignored_paths (repo, path, at) VALUES (?1, ?2, ?3)",
            params![repo, path, now],
        )?;
        Ok(())
    }

    fn ignored_paths(&self, repo: &str) -> anyhow::Result<Vec<String>> {
        let db = self.db();
        let mut query = db.prepare("SELECT path FROM ignored_paths WHERE repo = ?1 ORDER BY at, path")?;
        let rows = query.query_map(params![repo], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn first_notice(&self, repo: &str, thread: u64, now: i64) -> anyhow::Result<bool> {
        let added = self.db().execute(
            "INSERT OR IGNORE INTO notices (repo, thread, at) VALUES (?1, ?2, ?3)",
            params![repo, thread as i64, now],
        )?;
        Ok(added == 1)
    }

    fn begin_sweep(&self, org: &str, shard: &str, now: i64) -> anyhow::Result<SweepId> {
        let db = self.db();
        let _ = db.execute("INSERT OR IGNORE INTO orgs (login, seen_at) VALUES (?1, ?2)", params![org, now])?;
        let unfinished: Option<i64> = db
            .query_row(
                "SELECT id FROM sweeps WHERE org = ?1 AND shard = ?2 AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
                params![org, shard],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(id) = unfinished {
            return Ok(SweepId(id));
        }
        db.execute("INSERT INTO sweeps (org, shard, started_at) VALUES (?1, ?2, ?3)", params![org, shard, now])?;
        Ok(SweepId(db.last_insert_rowid()))
    }

    fn finish_sweep(&self, sweep: SweepId, now: i64) -> anyhow::Result<()> {
        self.db().execute("UPDATE sweeps SET finished_at = ?1 WHERE id = ?2", params![now, sweep.0])?;
        Ok(())
    }

    fn repo(&self, full_name: &str) -> anyhow::Result<Option<RepoRecord>> {
        let query = format!("SELECT {REPO_COLUMNS} FROM repos WHERE full_name = ?1");
        Ok(self.db().query_row(&query, params![full_name], repo_row).optional()?)
    }

    fn orgs(&self) -> anyhow::Result<Vec<String>> {
        let db = self.db();
        let mut query = db.prepare("SELECT login FROM orgs UNION SELECT org FROM repos ORDER BY 1")?;
        let rows = query.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn repos(&self, org: &str) -> anyhow::Result<Vec<RepoRecord>> {
        let db = self.db();
        let mut query = db.prepare(&format!("SELECT {REPO_COLUMNS} FROM repos WHERE org = ?1 ORDER BY full_name"))?;
        let rows = query.query_map(params![org], repo_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sweeps(&self, org: &str) -> anyhow::Result<Vec<SweepRecord>> {
        let db = self.db();
        let mut query =
            db.prepare("SELECT id, org, shard, started_at, finished_at FROM sweeps WHERE org = ?1 ORDER BY id DESC")?;
        let rows = query.query_map(params![org], |row| {
            Ok(SweepRecord {
                id: SweepId(row.get(0)?),
                org: row.get(1)?,
                shard: row.get(2)?,
                started_at: row.get(3)?,
                finished_at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn save_repo(&self, r: &RepoRecord) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT INTO repos (full_name, org, default_branch, tree_sha, tree_etag, candidates, skipped, has_pull, seen_at,
               waiting, judged_with, private)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (full_name) DO UPDATE SET org = ?2, default_branch = ?3, tree_sha = ?4, tree_etag = ?5,
               candidates = ?6, skipped = ?7, has_pull = ?8, seen_at = ?9, waiting = ?10, judged_with = ?11,
               private = ?12",
            params![
                r.full_name,
                r.org,
                r.default_branch,
                r.tree_sha,
                r.tree_etag,
                r.candidates as i64,
                r.skipped,
                r.has_pull,
                r.seen_at,
                r.waiting,
                r.judged_with,
                r.private
            ],
        )?;
        Ok(())
    }

    fn result(&self, sweep: SweepId, repo: &str) -> anyhow::Result<Option<RepoResult>> {
        Ok(self
            .db()
            .query_row(
                "SELECT repo, outcome, detail, pull, requests, at FROM results WHERE sweep = ?1 AND repo = ?2",
                params![sweep.0, repo],
                result_row,
            )
            .optional()?)
    }

    fn results(&self, sweep: SweepId) -> anyhow::Result<Vec<RepoResult>> {
        let db = self.db();
        let mut query =
            db.prepare("SELECT repo, outcome, detail, pull, requests, at FROM results WHERE sweep = ?1 ORDER BY repo")?;
        let rows = query.query_map(params![sweep.0], result_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn save_result(&self, sweep: SweepId, r: &RepoResult) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO results (sweep, repo, outcome, detail, pull, requests, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![sweep.0, r.repo, r.outcome.as_str(), r.detail, r.pull.map(|n| n as i64), r.requests as i64, r.at],
        )?;
        Ok(())
    }

    fn save_pull(&self, p: &PullRecord) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT INTO pulls (repo, number, url, state, fingerprint, files, bytes_before, bytes_after,
               findings_fixed, findings_remaining, blocked_reason, created_at, updated_at,
               packages_before, packages_after, shells_removed, off_root, restricted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
             ON CONFLICT (repo, number) DO UPDATE SET url = ?3, state = ?4, fingerprint = ?5, files = ?6,
               bytes_before = COALESCE(?7, bytes_before), bytes_after = COALESCE(?8, bytes_after),
               findings_fixed = ?9, findings_remaining = ?10, blocked_reason = ?11, updated_at = ?13,
               packages_before = COALESCE(?14, packages_before), packages_after = COALESCE(?15, packages_after),
               shells_removed = COALESCE(?16, shells_removed), off_root = COALESCE(?17, off_root),
               restricted = COALESCE(?18, restricted)",
            params![
                p.repo,
                p.number as i64,
                p.url,
                p.state,
                p.fingerprint,
                serde_json::to_string(&p.files)?,
                p.bytes_before.map(|b| b as i64),
                p.bytes_after.map(|b| b as i64),
                p.findings_fixed as i64,
                p.findings_remaining as i64,
                p.blocked_reason,
                p.created_at,
                p.updated_at,
                p.packages_before.map(|n| n as i64),
                p.packages_after.map(|n| n as i64),
                p.shells_removed.map(|n| n as i64),
                p.off_root.map(|n| n as i64),
                p.restricted.map(|n| n as i64)
            ],
        )?;
        Ok(())
    }

    fn pulls(&self, org: &str) -> anyhow::Result<Vec<PullRecord>> {
        let db = self.db();
        let mut query = db.prepare(
            "SELECT repo, number, url, state, fingerprint, files, bytes_before, bytes_after, findings_fixed,
               findings_remaining, blocked_reason, created_at, updated_at, packages_before, packages_after,
               shells_removed, off_root, restricted
             FROM pulls WHERE substr(repo, 1, length(?1) + 1) = ?1 || '/' ORDER BY repo, number",
        )?;
        let rows = query.query_map(params![org], |row| {
            let files: String = row.get(5)?;
            Ok(PullRecord {
                repo: row.get(0)?,
                number: row.get::<_, i64>(1)? as u64,
                url: row.get(2)?,
                state: row.get(3)?,
                fingerprint: row.get(4)?,
                files: serde_json::from_str(&files).unwrap_or_default(),
                bytes_before: row.get::<_, Option<i64>>(6)?.map(|b| b as u64),
                bytes_after: row.get::<_, Option<i64>>(7)?.map(|b| b as u64),
                findings_fixed: row.get::<_, i64>(8)? as usize,
                findings_remaining: row.get::<_, i64>(9)? as usize,
                blocked_reason: row.get(10)?,
                created_at: row.get(11)?,
                updated_at: row.get(12)?,
                packages_before: row.get::<_, Option<i64>>(13)?.map(|n| n as u64),
                packages_after: row.get::<_, Option<i64>>(14)?.map(|n| n as u64),
                shells_removed: row.get::<_, Option<i64>>(15)?.map(|n| n as u64),
                off_root: row.get::<_, Option<i64>>(16)?.map(|n| n as u64),
                restricted: row.get::<_, Option<i64>>(17)?.map(|n| n as u64),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn record_opening(&self, org: &str, repo: &str, at: i64) -> anyhow::Result<()> {
        self.db().execute("INSERT INTO openings (org, repo, at) VALUES (?1, ?2, ?3)", params![org, repo, at])?;
        Ok(())
    }

    fn openings_since(&self, org: &str, since: i64) -> anyhow::Result<Vec<i64>> {
        let db = self.db();
        let mut query = db.prepare("SELECT at FROM openings WHERE org = ?1 AND at >= ?2 ORDER BY at")?;
        let rows = query.query_map(params![org, since], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn cached(&self, route: &str) -> anyhow::Result<Option<(String, String)>> {
        Ok(self
            .db()
            .query_row("SELECT etag, body FROM cache WHERE route = ?1", params![route], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?)
    }

    fn save_cached(&self, route: &str, etag: &str, body: &str) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO cache (route, etag, body) VALUES (?1, ?2, ?3)",
            params![route, etag, body],
        )?;
        Ok(())
    }
}

fn job_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let state: String = row.get(4)?;
    Ok(JobRecord {
        id: row.get(0)?,
        repo: row.get(1)?,
        kind: row.get(2)?,
        body: row.get(3)?,
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        attempts: row.get(5)?,
        outcome: row.get(6)?,
        created_at: row.get(7)?,
        finished_at: row.get(8)?,
    })
}

fn result_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RepoResult> {
    let outcome: String = row.get(1)?;
    Ok(RepoResult {
        repo: row.get(0)?,
        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failed),
        detail: row.get(2)?,
        pull: row.get::<_, Option<i64>>(3)?.map(|n| n as u64),
        requests: row.get::<_, i64>(4)? as usize,
        at: row.get(5)?,
    })
}

/// The `repos` columns [`repo_row`] reads, in its order.
const REPO_COLUMNS: &str = "full_name, org, default_branch, tree_sha, tree_etag, candidates, skipped, has_pull, seen_at, waiting, judged_with, private";

/// A repository, in [`REPO_COLUMNS`]' order.
fn repo_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RepoRecord> {
    Ok(RepoRecord {
        full_name: row.get(0)?,
        org: row.get(1)?,
        default_branch: row.get(2)?,
        tree_sha: row.get(3)?,
        tree_etag: row.get(4)?,
        candidates: row.get::<_, i64>(5)? as usize,
        skipped: row.get(6)?,
        has_pull: row.get(7)?,
        seen_at: row.get(8)?,
        waiting: row.get(9)?,
        judged_with: row.get(10)?,
        private: row.get(11)?,
    })
}

/// Records one delivery and queues its jobs inside `tx` (a redelivery records nothing).
fn record(
    tx: &rusqlite::Transaction<'_>,
    delivery: &str,
    event: &str,
    jobs: &[NewJob],
    now: i64,
) -> anyhow::Result<Accepted> {
    let fresh = tx
        .prepare_cached("INSERT OR IGNORE INTO deliveries (id, event, received_at) VALUES (?1, ?2, ?3)")?
        .execute(params![delivery, event, now])?;
    if fresh == 0 {
        return Ok(Accepted::Redelivery);
    }
    let mut queued = 0;
    for job in jobs {
        let waiting = job.debounce
            && tx
                .prepare_cached("SELECT 1 FROM jobs WHERE repo = ?1 AND kind = ?2 AND state = 'queued'")?
                .exists(params![job.repo, job.kind])?;
        if !waiting {
            queued += tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO jobs (repo, kind, body, key, state, not_before, created_at)
                         VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6)",
                )?
                .execute(params![job.repo, job.kind, job.body, job.key, job.not_before, now])?;
        }
    }
    Ok(match (jobs.is_empty(), queued) {
        (true, _) => Accepted::Recorded,
        (false, 0) => Accepted::Duplicate,
        (false, n) => Accepted::Queued(n),
    })
}
