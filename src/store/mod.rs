//! The state harden keeps between runs: the repositories a sweep saw (with the ETag that makes
//! the next look free), what each sweep did with each, the pull requests harden opened, and the
//! openings that pace a campaign. One small trait, [`Store`], so the SQLite file a sweep keeps
//! and the PostgreSQL database a server shares are two implementations of the same thing.
//!
//! The forge stays the source of truth: every pull request is found again from its branch and
//! its hidden fingerprint, so deleting the state loses only the cache.

pub mod postgres;
pub mod sqlite;

use serde::{Deserialize, Serialize};

/// A repository as the last sweep saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoRecord {
    /// `owner/name`.
    pub full_name: String,
    /// The organisation (or user) that owns it.
    pub org: String,
    /// The branch harden proposes against.
    pub default_branch: String,
    /// The tree of that branch when last read.
    pub tree_sha: Option<String>,
    /// The tree request's ETag: sent back, an unchanged tree costs a free `304`.
    pub tree_etag: Option<String>,
    /// How many files could be hardened (Dockerfiles and manifests by name).
    pub candidates: usize,
    /// Why the sweep passes it over (archived, a fork, opted out…), when it does.
    pub skipped: Option<String>,
    /// True when harden has (or had) a pull request from its branch there.
    pub has_pull: bool,
    /// True when a new pull request waits there for the campaign's pace.
    pub waiting: bool,
    /// What the last look depended on besides the tree (the rules, the organisation's
    /// configuration): when it changes, the tree's ETag no longer stands for "nothing new".
    pub judged_with: Option<String>,
    /// When it was last seen (seconds since the epoch).
    pub seen_at: i64,
    /// Private: the dashboard shows it only to signed-in members of the organisation.
    pub private: bool,
}

/// One sweep of an organisation (or of one shard of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Its id.
    pub id: SweepId,
    /// The organisation.
    pub org: String,
    /// The shard (`1/1` for a whole organisation).
    pub shard: String,
    /// When it started (seconds since the epoch).
    pub started_at: i64,
    /// When it finished, unless it did not (yet).
    pub finished_at: Option<i64>,
}

/// What one sweep did with one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoResult {
    /// `owner/name`.
    pub repo: String,
    /// What happened.
    pub outcome: Outcome,
    /// In words: the reason, the pull request's address, the error.
    pub detail: String,
    /// The pull request it concerns, when there is one.
    pub pull: Option<u64>,
    /// API requests it cost.
    pub requests: usize,
    /// When (seconds since the epoch).
    pub at: i64,
}

/// What a sweep did with a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Passed over: archived, disabled, empty, a fork, opted out, filtered.
    Skipped,
    /// Its tree did not change since the last sweep (a free `304`).
    Unchanged,
    /// No Dockerfile or manifest to harden.
    NoCandidates,
    /// Looked at; nothing to propose.
    NothingToDo,
    /// A pull request was opened.
    Opened,
    /// harden's pull request was brought up to date.
    Updated,
    /// harden's pull request was up to date already.
    UpToDate,
    /// harden's pull request was closed: nothing is left to change.
    Closed,
    /// harden said once what it will not do again (a decline, a human's commit).
    Commented,
    /// A pull request waits for the campaign's pace.
    Scheduled,
    /// Something went wrong; the sweep went on.
    Failed,
}

impl Outcome {
    /// The name every output uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Unchanged => "unchanged",
            Outcome::NoCandidates => "no_candidates",
            Outcome::NothingToDo => "nothing_to_do",
            Outcome::Opened => "opened",
            Outcome::Updated => "updated",
            Outcome::UpToDate => "up_to_date",
            Outcome::Closed => "closed",
            Outcome::Commented => "commented",
            Outcome::Scheduled => "scheduled",
            Outcome::Failed => "failed",
        }
    }

    /// Reads [`Outcome::as_str`]'s name back.
    pub fn parse(name: &str) -> Option<Self> {
        ALL_OUTCOMES.iter().copied().find(|o| o.as_str() == name)
    }
}

/// Every outcome, in the order summaries list them.
pub const ALL_OUTCOMES: &[Outcome] = &[
    Outcome::Opened,
    Outcome::Updated,
    Outcome::Closed,
    Outcome::Commented,
    Outcome::Scheduled,
    Outcome::Failed,
    Outcome::UpToDate,
    Outcome::NothingToDo,
    Outcome::NoCandidates,
    Outcome::Unchanged,
    Outcome::Skipped,
];

/// One of harden's pull requests, as the forge last showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRecord {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: u64,
    /// Its web address.
    pub url: String,
    /// `open`, `merged` or `closed`.
    pub state: String,
    /// The fingerprint of the inputs it was made from.
    pub fingerprint: Option<String>,
    /// The files it changes.
    pub files: Vec<String>,
    /// The proven images' bytes before and after, when the proof ran.
    pub bytes_before: Option<u64>,
    /// Likewise, after.
    pub bytes_after: Option<u64>,
    /// Findings it fixes.
    pub findings_fixed: usize,
    /// Findings it leaves, with their reasons in its body.
    pub findings_remaining: usize,
    /// Why harden will not touch it again (a human's commit, a decline), when so.
    pub blocked_reason: Option<String>,
    /// When it was opened and last changed (seconds since the epoch).
    pub created_at: i64,
    /// Likewise, last changed.
    pub updated_at: i64,
    /// OS packages in the proven images before, summed, when the proof read them.
    pub packages_before: Option<u64>,
    /// Likewise, after.
    pub packages_after: Option<u64>,
    /// How many proven images lose their shell, when the proof read them.
    pub shells_removed: Option<u64>,
    /// Images its changes move off root (HD106 fixed) and containers given a non-root user
    /// (HK202 fixed).
    pub off_root: Option<u64>,
    /// Workloads its changes make run as non-root under the restricted profile (HK201 fixed).
    pub restricted: Option<u64>,
}

/// Work `harden serve` queues: what to do in which repository. The store keeps it opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// `owner/name`: never two jobs of one repository run at once.
    pub repo: String,
    /// What kind of work (the server's name for it).
    pub kind: String,
    /// What the server needs to do it (JSON).
    pub body: String,
    /// A job with the same key is queued once, ever (the same comment through two hooks).
    pub key: Option<String>,
    /// Not queued when a job of the same kind already waits for the same repository (a burst of
    /// pushes makes one look).
    pub debounce: bool,
    /// Not run before this time (seconds since the epoch).
    pub not_before: i64,
}

/// A webhook delivery to record, with the jobs it queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// GitHub's delivery id (`X-GitHub-Delivery`).
    pub id: String,
    /// The event (`X-GitHub-Event`).
    pub event: String,
    /// The jobs it queues.
    pub jobs: Vec<NewJob>,
    /// When it arrived (seconds since the epoch).
    pub now: i64,
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Its delivery id was seen before: nothing new was recorded.
    Redelivery,
    /// New, but each of its jobs is queued already (by key, or debounced).
    Duplicate,
    /// New, and this many of its jobs were queued (the others were queued already).
    Queued(usize),
    /// New, with no job to queue.
    Recorded,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it (until its lease runs out).
    Running,
    /// Done.
    Done,
    /// Given up, for the reason in its outcome.
    Failed,
}

impl JobState {
    /// The name the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Reads [`JobState::as_str`]'s name back.
    pub fn parse(name: &str) -> Option<Self> {
        [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed].into_iter().find(|s| s.as_str() == name)
    }
}

/// A job as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Its id.
    pub id: i64,
    /// `owner/name`.
    pub repo: String,
    /// What kind of work.
    pub kind: String,
    /// What the server needs to do it (JSON).
    pub body: String,
    /// Where it stands.
    pub state: JobState,
    /// How many times a worker took it (more than once: a worker died or stopped holding it).
    pub attempts: u32,
    /// What came of it, in words.
    pub outcome: Option<String>,
    /// When it was queued and finished (seconds since the epoch).
    pub created_at: i64,
    /// Likewise, finished.
    pub finished_at: Option<i64>,
}

impl PullRecord {
    /// A pull request known only from the forge's listing or an event: its number, address and
    /// state (the rest is learnt when harden next works on it).
    pub fn seen(repo: &str, number: u64, url: &str, state: &str, now: i64) -> Self {
        PullRecord {
            repo: repo.into(),
            number,
            url: url.into(),
            state: state.into(),
            fingerprint: None,
            files: Vec::new(),
            bytes_before: None,
            bytes_after: None,
            findings_fixed: 0,
            findings_remaining: 0,
            blocked_reason: None,
            created_at: now,
            updated_at: now,
            packages_before: None,
            packages_after: None,
            shells_removed: None,
            off_root: None,
            restricted: None,
        }
    }
}

/// A sweep, by its number in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SweepId(pub i64);

/// The store's clock: seconds since the epoch, as every record keeps time.
pub fn epoch() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Where harden keeps its state. Each call is one transaction: a sweep killed between two calls
/// loses nothing it recorded.
pub trait Store {
    /// Whether the store answers (a server's readiness).
    fn ready(&self) -> anyhow::Result<()>;
    /// Records a webhook delivery by its id and queues its jobs, in one transaction (`harden
    /// serve` answers only after this): a redelivery records and queues nothing.
    fn accept(&self, delivery: &str, event: &str, jobs: &[NewJob], now: i64) -> anyhow::Result<Accepted>;
    /// Records deliveries that arrived together, each as [`Store::accept`] would, in order (a
    /// later one sees an earlier one): a store that can does it in one transaction, so a burst
    /// costs one commit; should that fail, each is recorded on its own and gets its own answer.
    fn accept_all(&self, deliveries: &[Delivery]) -> Vec<anyhow::Result<Accepted>> {
        deliveries.iter().map(|d| self.accept(&d.id, &d.event, &d.jobs, d.now)).collect()
    }
    /// Takes the oldest job that may run now for `worker`, holding it until `lease_until`: a
    /// queued one whose time has come, or a running one whose holder's lease ran out; never one
    /// of a repository that has a job running.
    fn claim_job(&self, worker: &str, now: i64, lease_until: i64) -> anyhow::Result<Option<JobRecord>>;
    /// Marks a job done (or failed), with what came of it.
    fn finish_job(&self, id: i64, state: JobState, outcome: &str, now: i64) -> anyhow::Result<()>;
    /// Puts running jobs back in the queue: those of `worker` (a server stopping), or every one
    /// (`None`: a server that alone uses this store starting after a crash). Returns how many.
    fn requeue_running(&self, worker: Option<&str>) -> anyhow::Result<usize>;
    /// Every job, oldest first.
    fn jobs(&self) -> anyhow::Result<Vec<JobRecord>>;
    /// Records that harden must leave `path` of `repo` alone (`/harden ignore PATH`).
    fn ignore_path(&self, repo: &str, path: &str, now: i64) -> anyhow::Result<()>;
    /// The paths of `repo` harden was told to leave alone, in order.
    fn ignored_paths(&self, repo: &str) -> anyhow::Result<Vec<String>>;
    /// Records that thread `thread` of `repo` was told why a command was refused; false when it
    /// was told before (a reason is given once per thread).
    fn first_notice(&self, repo: &str, thread: u64, now: i64) -> anyhow::Result<bool>;
    /// Starts a sweep of `org`'s shard `shard` (`1/1` for all), or resumes the one that did not
    /// finish (so a killed sweep goes on where it stopped).
    fn begin_sweep(&self, org: &str, shard: &str, now: i64) -> anyhow::Result<SweepId>;
    /// Marks a sweep finished.
    fn finish_sweep(&self, sweep: SweepId, now: i64) -> anyhow::Result<()>;
    /// A repository as the last sweep saw it.
    fn repo(&self, full_name: &str) -> anyhow::Result<Option<RepoRecord>>;
    /// The organisations the store knows: swept, or owning a repository it recorded.
    fn orgs(&self) -> anyhow::Result<Vec<String>>;
    /// Every repository of an organisation the sweeps saw, by name.
    fn repos(&self, org: &str) -> anyhow::Result<Vec<RepoRecord>>;
    /// An organisation's sweeps, the latest first.
    fn sweeps(&self, org: &str) -> anyhow::Result<Vec<SweepRecord>>;
    /// Records a repository.
    fn save_repo(&self, repo: &RepoRecord) -> anyhow::Result<()>;
    /// What sweep `sweep` did with `repo`, when it did.
    fn result(&self, sweep: SweepId, repo: &str) -> anyhow::Result<Option<RepoResult>>;
    /// Every result of sweep `sweep`.
    fn results(&self, sweep: SweepId) -> anyhow::Result<Vec<RepoResult>>;
    /// Records what sweep `sweep` did with a repository.
    fn save_result(&self, sweep: SweepId, result: &RepoResult) -> anyhow::Result<()>;
    /// Records (or refreshes) a pull request.
    fn save_pull(&self, pull: &PullRecord) -> anyhow::Result<()>;
    /// Every pull request harden made in `org`.
    fn pulls(&self, org: &str) -> anyhow::Result<Vec<PullRecord>>;
    /// Records that a pull request was opened in `repo` at `at`, for the campaign's pace.
    fn record_opening(&self, org: &str, repo: &str, at: i64) -> anyhow::Result<()>;
    /// When pull requests were opened in `org` since `since`, oldest first.
    fn openings_since(&self, org: &str, since: i64) -> anyhow::Result<Vec<i64>>;
    /// The answer kept for a route's conditional read: its ETag and body.
    fn cached(&self, route: &str) -> anyhow::Result<Option<(String, String)>>;
    /// Keeps a route's answer for the next conditional read.
    fn save_cached(&self, route: &str, etag: &str, body: &str) -> anyhow::Result<()>;
}
