//! The store in one SQLite file (bundled with harden, write-ahead logged), the default for
//! `harden sweep`. Migrations are the numbered `.sql` files beside this one, applied in order
//! once each; `PRAGMA user_version` records the last one.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Outcome, PullRecord, RepoRecord, RepoResult, Store, SweepId};

/// The migrations, in order.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_init.sql"), include_str!("migrations/0002_deliveries.sql")];

/// A SQLite database file.
pub struct Sqlite {
    db: Mutex<Connection>,
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
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&db).with_context(|| format!("migrating the state {}", path.display()))?;
        Ok(Sqlite { db: Mutex::new(db) })
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

    fn record_delivery(&self, id: &str, event: &str, now: i64) -> anyhow::Result<bool> {
        let added = self.db().execute(
            "INSERT OR IGNORE INTO deliveries (id, event, received_at) VALUES (?1, ?2, ?3)",
            params![id, event, now],
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
        Ok(self
            .db()
            .query_row(
                "SELECT full_name, org, default_branch, tree_sha, tree_etag, candidates, skipped, has_pull, seen_at, waiting,
                   judged_with
                 FROM repos WHERE full_name = ?1",
                params![full_name],
                |row| {
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
                    })
                },
            )
            .optional()?)
    }

    fn save_repo(&self, r: &RepoRecord) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT INTO repos (full_name, org, default_branch, tree_sha, tree_etag, candidates, skipped, has_pull, seen_at,
               waiting, judged_with)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (full_name) DO UPDATE SET org = ?2, default_branch = ?3, tree_sha = ?4, tree_etag = ?5,
               candidates = ?6, skipped = ?7, has_pull = ?8, seen_at = ?9, waiting = ?10, judged_with = ?11",
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
                r.judged_with
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
               findings_fixed, findings_remaining, blocked_reason, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (repo, number) DO UPDATE SET url = ?3, state = ?4, fingerprint = ?5, files = ?6,
               bytes_before = COALESCE(?7, bytes_before), bytes_after = COALESCE(?8, bytes_after),
               findings_fixed = ?9, findings_remaining = ?10, blocked_reason = ?11, updated_at = ?13",
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
                p.updated_at
            ],
        )?;
        Ok(())
    }

    fn pulls(&self, org: &str) -> anyhow::Result<Vec<PullRecord>> {
        let db = self.db();
        let mut query = db.prepare(
            "SELECT repo, number, url, state, fingerprint, files, bytes_before, bytes_after, findings_fixed,
               findings_remaining, blocked_reason, created_at, updated_at
             FROM pulls WHERE repo LIKE ?1 || '/%' ORDER BY repo, number",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn result(repo: &str, outcome: Outcome) -> RepoResult {
        RepoResult { repo: repo.into(), outcome, detail: String::new(), pull: None, requests: 1, at: 5 }
    }

    #[test]
    fn a_sweep_resumes_until_it_finishes_and_keeps_what_it_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/harden.db");
        let store = Sqlite::open(&path).unwrap();
        let sweep = store.begin_sweep("acme", "1/1", 10).unwrap();
        store.save_result(sweep, &result("acme/api", Outcome::Opened)).unwrap();
        drop(store);
        // Opened again (a new process after a kill): the same sweep, with what it had done.
        let store = Sqlite::open(&path).unwrap();
        assert_eq!(store.begin_sweep("acme", "1/1", 20).unwrap(), sweep);
        assert_eq!(store.result(sweep, "acme/api").unwrap().unwrap().outcome, Outcome::Opened);
        assert_ne!(store.begin_sweep("acme", "2/2", 20).unwrap(), sweep, "another shard, another sweep");
        store.finish_sweep(sweep, 30).unwrap();
        assert_ne!(store.begin_sweep("acme", "1/1", 40).unwrap(), sweep, "a finished sweep is not resumed");
    }

    #[test]
    fn repositories_pulls_and_openings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("h.db")).unwrap();
        let repo = RepoRecord {
            full_name: "acme/api".into(),
            org: "acme".into(),
            default_branch: "main".into(),
            tree_sha: Some("abc".into()),
            tree_etag: Some("\"abc\"".into()),
            candidates: 2,
            skipped: None,
            has_pull: true,
            waiting: false,
            judged_with: Some("rules".into()),
            seen_at: 7,
        };
        store.save_repo(&repo).unwrap();
        store.save_repo(&RepoRecord { candidates: 3, ..repo.clone() }).unwrap();
        assert_eq!(store.repo("acme/api").unwrap().unwrap().candidates, 3);
        let pull = PullRecord {
            repo: "acme/api".into(),
            number: 1,
            url: "http://forge/acme/api/pull/1".into(),
            state: "open".into(),
            fingerprint: Some("f".into()),
            files: vec!["Dockerfile".into()],
            bytes_before: Some(900),
            bytes_after: Some(9),
            findings_fixed: 5,
            findings_remaining: 1,
            blocked_reason: None,
            created_at: 1,
            updated_at: 1,
        };
        store.save_pull(&pull).unwrap();
        // A refresh without a proof keeps the sizes the proof measured.
        store
            .save_pull(&PullRecord { state: "merged".into(), bytes_before: None, updated_at: 2, ..pull.clone() })
            .unwrap();
        let saved = store.pulls("acme").unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!((saved[0].state.as_str(), saved[0].bytes_before, saved[0].updated_at), ("merged", Some(900), 2));
        assert!(store.pulls("acm").unwrap().is_empty(), "an org's pulls are its own");
        for at in [100, 200, 300] {
            store.record_opening("acme", "acme/api", at).unwrap();
        }
        assert_eq!(store.openings_since("acme", 150).unwrap(), [200, 300]);
    }
}
