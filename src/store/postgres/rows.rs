//! PostgreSQL's rows read back as the store's records.

use postgres::Row;

use crate::store::{JobRecord, JobState, Outcome, PullRecord, RepoRecord, RepoResult, SweepId, SweepRecord};

/// A job's columns, in the order [`job_row`] reads them.
pub const JOB_COLUMNS: &str = "id, repo, kind, body, state, attempts, outcome, created_at, finished_at";

/// A job, from [`JOB_COLUMNS`].
pub fn job_row(row: &Row) -> JobRecord {
    JobRecord {
        id: row.get(0),
        repo: row.get(1),
        kind: row.get(2),
        body: row.get(3),
        state: JobState::parse(row.get(4)).unwrap_or(JobState::Failed),
        attempts: row.get::<_, i32>(5) as u32,
        outcome: row.get(6),
        created_at: row.get(7),
        finished_at: row.get(8),
    }
}

/// A sweep's result: repo, outcome, detail, pull, requests, at.
pub fn result_row(row: &Row) -> RepoResult {
    RepoResult {
        repo: row.get(0),
        outcome: Outcome::parse(row.get(1)).unwrap_or(Outcome::Failed),
        detail: row.get(2),
        pull: row.get::<_, Option<i64>>(3).map(|n| n as u64),
        requests: row.get::<_, i64>(4) as usize,
        at: row.get(5),
    }
}

/// A pull request, in the `pulls` table's column order.
pub fn pull_row(row: &Row) -> PullRecord {
    PullRecord {
        repo: row.get(0),
        number: row.get::<_, i64>(1) as u64,
        url: row.get(2),
        state: row.get(3),
        fingerprint: row.get(4),
        files: serde_json::from_str(row.get(5)).unwrap_or_default(),
        bytes_before: row.get::<_, Option<i64>>(6).map(|b| b as u64),
        bytes_after: row.get::<_, Option<i64>>(7).map(|b| b as u64),
        findings_fixed: row.get::<_, i64>(8) as usize,
        findings_remaining: row.get::<_, i64>(9) as usize,
        blocked_reason: row.get(10),
        created_at: row.get(11),
        updated_at: row.get(12),
        packages_before: row.get::<_, Option<i64>>(13).map(|n| n as u64),
        packages_after: row.get::<_, Option<i64>>(14).map(|n| n as u64),
        shells_removed: row.get::<_, Option<i64>>(15).map(|n| n as u64),
        off_root: row.get::<_, Option<i64>>(16).map(|n| n as u64),
        restricted: row.get::<_, Option<i64>>(17).map(|n| n as u64),
    }
}

/// The `repos` columns [`repo_row`] reads, in its order.
pub const REPO_COLUMNS: &str = "full_name, org, default_branch, tree_sha, tree_etag, candidates, skipped, has_pull, seen_at, waiting, judged_with, private";

/// A repository, in [`REPO_COLUMNS`]' order.
pub fn repo_row(row: &Row) -> RepoRecord {
    RepoRecord {
        full_name: row.get(0),
        org: row.get(1),
        default_branch: row.get(2),
        tree_sha: row.get(3),
        tree_etag: row.get(4),
        candidates: row.get::<_, i64>(5) as usize,
        skipped: row.get(6),
        has_pull: row.get(7),
        seen_at: row.get(8),
        waiting: row.get(9),
        judged_with: row.get(10),
        private: row.get(11),
    }
}

/// A sweep: id, org, shard, started_at, finished_at.
pub fn sweep_row(row: &Row) -> SweepRecord {
    SweepRecord {
        id: SweepId(row.get(0)),
        org: row.get(1),
        shard: row.get(2),
        started_at: row.get(3),
        finished_at: row.get(4),
    }
}
