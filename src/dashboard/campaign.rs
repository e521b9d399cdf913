//! The campaign as the dashboard shows it, worked out from a [`Snapshot`] of the store: the
//! organisation's summary, one row per repository harden has something to say about, each
//! repository's and each sweep's page, and the series behind the charts. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Snapshot, Visibility};
use crate::store::{Outcome, PullRecord, RepoRecord, RepoResult, SweepRecord};

/// A repository's place in the campaign, as the table's state column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// A pull request waits for the campaign's pace.
    Scheduled,
    /// harden's pull request is open.
    Open,
    /// It was merged.
    Merged,
    /// It was closed without merging.
    Closed,
    /// The rewrite failed its build proof, so nothing was proposed.
    FailedProof,
    /// Someone committed to harden's branch (or declined it): harden does not push again.
    BlockedHumanEdit,
    /// People asked harden to leave paths of it alone.
    Ignored,
    /// Its configuration opts out.
    OptedOut,
}

impl State {
    /// Every state, in the order the filter lists them.
    pub const ALL: [State; 8] = [
        State::Scheduled,
        State::Open,
        State::Merged,
        State::Closed,
        State::FailedProof,
        State::BlockedHumanEdit,
        State::Ignored,
        State::OptedOut,
    ];

    /// The slug pages and filters use (`failed-proof`).
    pub fn slug(self) -> &'static str {
        match self {
            State::Scheduled => "scheduled",
            State::Open => "open",
            State::Merged => "merged",
            State::Closed => "closed",
            State::FailedProof => "failed-proof",
            State::BlockedHumanEdit => "blocked-human-edit",
            State::Ignored => "ignored",
            State::OptedOut => "opted-out",
        }
    }

    /// The words the table shows (`failed proof`).
    pub fn label(self) -> &'static str {
        match self {
            State::BlockedHumanEdit => "blocked: human edit",
            State::FailedProof => "failed proof",
            State::OptedOut => "opted out",
            other => other.slug(),
        }
    }
}

/// One row of the pull-request table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `owner/name`.
    pub repo: String,
    /// Its state's slug.
    pub state: &'static str,
    /// Its state in words.
    pub label: &'static str,
    /// The pull request, when there is one.
    pub pull: Option<PullRecord>,
    /// Bytes the proven images lose (0 when unknown).
    pub saved: u64,
    /// Findings the pull request fixes, and leaves.
    pub fixed: usize,
    /// Findings it leaves (their reasons are in its body).
    pub left: usize,
    /// Days since it was opened (or since the last sweep said so, without a pull request).
    pub age_days: i64,
    /// What the last sweep said, when no pull request speaks for it.
    pub note: Option<String>,
    /// True for a private repository.
    pub private: bool,
}

/// The organisation's numbers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Repositories the sweeps saw.
    pub repos_seen: usize,
    /// Of those, with files harden could harden.
    pub with_candidates: usize,
    /// Rows by state slug.
    pub by_state: BTreeMap<&'static str, usize>,
    /// Pull requests whose images were proven.
    pub images_proven: usize,
    /// Their bytes before and after, summed.
    pub bytes_before: u64,
    /// Likewise, after.
    pub bytes_after: u64,
    /// OS packages removed from the proven images.
    pub packages_removed: u64,
    /// Proven images that lose their shell.
    pub shells_removed: u64,
    /// Images moved off root and containers given a non-root user.
    pub off_root: u64,
    /// Workloads made to run as non-root under the restricted profile.
    pub restricted: u64,
    /// Findings fixed by merged pull requests.
    pub findings_fixed: usize,
    /// Mean days from opening to merge, when any was merged.
    pub mean_days_to_merge: Option<f64>,
    /// Merged among merged and closed, in percent, when any was decided.
    pub merge_rate: Option<f64>,
}

/// One point of a chart: a time (seconds since the epoch) and a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// When.
    pub at: i64,
    /// How much.
    pub value: u64,
}

/// Everything the pages show.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    /// The organisations covered.
    pub orgs: Vec<String>,
    /// The numbers.
    pub summary: Summary,
    /// The table, repositories by name.
    pub rows: Vec<Row>,
    /// Findings in harden's open pull requests over time.
    pub open_findings: Vec<Point>,
    /// Bytes saved by merged pull requests, cumulated over time.
    pub bytes_saved: Vec<Point>,
    /// The sweeps, the latest first.
    pub sweeps: Vec<SweepRecord>,
}

impl Campaign {
    /// The campaign in `snapshot`, as of `now`, with the private repositories `visibility` allows.
    pub fn new(snapshot: &Snapshot, visibility: &Visibility, now: i64) -> Self {
        let shown = |repo: &str| visibility.shows(snapshot, repo);
        let repos: Vec<&RepoRecord> = snapshot.repos.iter().filter(|r| shown(&r.full_name)).collect();
        let pulls: Vec<&PullRecord> = snapshot.pulls.iter().filter(|p| shown(&p.repo)).collect();
        let mut names: Vec<&str> = repos.iter().map(|r| r.full_name.as_str()).collect();
        names.extend(pulls.iter().map(|p| p.repo.as_str()));
        names.sort_unstable();
        names.dedup();
        let rows: Vec<Row> = names.iter().filter_map(|name| row(snapshot, name, now)).collect();
        let mut summary = summarise(&rows, &pulls);
        summary.repos_seen = repos.len();
        summary.with_candidates = repos.iter().filter(|r| r.candidates > 0).count();
        let orgs = visibility.orgs(snapshot);
        Campaign {
            sweeps: snapshot
                .sweeps
                .iter()
                .filter(|(s, _)| orgs.iter().any(|o| o.eq_ignore_ascii_case(&s.org)))
                .map(|(s, _)| s.clone())
                .collect(),
            orgs,
            summary,
            rows,
            open_findings: open_findings(&pulls),
            bytes_saved: bytes_saved(&pulls),
        }
    }
}

/// The row of a repository, when harden has something to say about it.
fn row(snapshot: &Snapshot, name: &str, now: i64) -> Option<Row> {
    let pull = snapshot.pulls.iter().filter(|p| p.repo == name).max_by_key(|p| p.number);
    let result = snapshot.latest_result(name);
    let record = snapshot.repos.iter().find(|r| r.full_name == name);
    let state = match (pull, result) {
        (Some(p), _) if p.state == "open" && p.blocked_reason.is_some() => State::BlockedHumanEdit,
        (Some(p), _) if p.state == "merged" => State::Merged,
        (Some(p), _) if p.state == "closed" => State::Closed,
        (Some(_), _) => State::Open,
        (None, Some(r)) if r.outcome == Outcome::Scheduled => State::Scheduled,
        (None, Some(r)) if r.outcome == Outcome::Failed && r.detail.starts_with("the build proof failed") => {
            State::FailedProof
        }
        (None, Some(r)) if r.outcome == Outcome::Skipped && r.detail.starts_with("opted out") => State::OptedOut,
        _ if record.is_some_and(|r| r.waiting) => State::Scheduled,
        _ if snapshot.ignored.get(name).is_some_and(|paths| !paths.is_empty()) => State::Ignored,
        _ => return None,
    };
    let since = pull.map(|p| p.created_at).or(result.map(|r| r.at)).unwrap_or(now);
    Some(Row {
        repo: name.to_string(),
        state: state.slug(),
        label: state.label(),
        saved: pull.and_then(|p| Some(p.bytes_before?.saturating_sub(p.bytes_after?))).unwrap_or(0),
        fixed: pull.map_or(0, |p| p.findings_fixed),
        left: pull.map_or(0, |p| p.findings_remaining),
        age_days: (now - since).max(0) / 86_400,
        note: if pull.is_none() {
            result.map(|r| r.detail.clone())
        } else {
            pull.and_then(|p| p.blocked_reason.clone())
        },
        private: snapshot.is_private(name),
        pull: pull.cloned(),
    })
}

fn summarise(rows: &[Row], pulls: &[&PullRecord]) -> Summary {
    let mut summary = Summary::default();
    for row in rows {
        *summary.by_state.entry(row.state).or_insert(0) += 1;
    }
    let proven: Vec<&&PullRecord> =
        pulls.iter().filter(|p| p.bytes_before.is_some() && p.bytes_after.is_some()).collect();
    summary.images_proven = proven.len();
    summary.bytes_before = proven.iter().filter_map(|p| p.bytes_before).sum();
    summary.bytes_after = proven.iter().filter_map(|p| p.bytes_after).sum();
    summary.packages_removed =
        pulls.iter().filter_map(|p| Some(p.packages_before?.saturating_sub(p.packages_after?))).sum();
    summary.shells_removed = pulls.iter().filter_map(|p| p.shells_removed).sum();
    // What merged pull requests did (an open one has not changed anything yet).
    let merged_sum = |field: fn(&PullRecord) -> Option<u64>| -> u64 {
        pulls.iter().filter(|p| p.state == "merged").filter_map(|p| field(p)).sum()
    };
    summary.off_root = merged_sum(|p| p.off_root);
    summary.restricted = merged_sum(|p| p.restricted);
    let merged: Vec<&&PullRecord> = pulls.iter().filter(|p| p.state == "merged").collect();
    let closed = pulls.iter().filter(|p| p.state == "closed").count();
    summary.findings_fixed = merged.iter().map(|p| p.findings_fixed).sum();
    if !merged.is_empty() {
        let days: f64 = merged.iter().map(|p| (p.updated_at - p.created_at).max(0) as f64 / 86_400.0).sum();
        summary.mean_days_to_merge = Some(days / merged.len() as f64);
        summary.merge_rate = Some(100.0 * merged.len() as f64 / (merged.len() + closed) as f64);
    } else if closed > 0 {
        summary.merge_rate = Some(0.0);
    }
    summary
}

/// Findings in open pull requests over time: each pull request adds its findings when opened
/// and takes them away when merged or closed (its last change).
fn open_findings(pulls: &[&PullRecord]) -> Vec<Point> {
    let mut events: Vec<(i64, i64)> = Vec::new();
    for p in pulls {
        events.push((p.created_at, p.findings_fixed as i64));
        if p.state != "open" {
            events.push((p.updated_at, -(p.findings_fixed as i64)));
        }
    }
    cumulate(events)
}

/// Bytes saved by merged pull requests, cumulated at their merge.
fn bytes_saved(pulls: &[&PullRecord]) -> Vec<Point> {
    let events = pulls
        .iter()
        .filter(|p| p.state == "merged")
        .filter_map(|p| Some((p.updated_at, p.bytes_before?.saturating_sub(p.bytes_after?) as i64)))
        .collect();
    cumulate(events)
}

fn cumulate(mut events: Vec<(i64, i64)>) -> Vec<Point> {
    events.sort_unstable();
    let mut total = 0i64;
    let mut points: Vec<Point> = Vec::new();
    for (at, delta) in events {
        total += delta;
        match points.last_mut() {
            Some(last) if last.at == at => last.value = total.max(0) as u64,
            _ => points.push(Point { at, value: total.max(0) as u64 }),
        }
    }
    points
}

/// What a repository's page shows.
#[derive(Debug, Clone, Serialize)]
pub struct RepoPage<'a> {
    /// The repository as the last sweep saw it, when one did.
    pub record: Option<&'a RepoRecord>,
    /// `owner/name`.
    pub name: &'a str,
    /// Its row, when it has one.
    pub row: Option<Row>,
    /// harden's pull requests there, the latest first.
    pub pulls: Vec<&'a PullRecord>,
    /// What each sweep did there, the latest first, with the sweep's id.
    pub results: Vec<(i64, &'a RepoResult)>,
    /// Paths people asked harden to leave alone.
    pub ignored: Vec<String>,
}

/// The page of repository `name`, unless `visibility` does not allow it.
pub fn repo_page<'a>(snapshot: &'a Snapshot, name: &'a str, visibility: &Visibility, now: i64) -> Option<RepoPage<'a>> {
    if !visibility.shows(snapshot, name) {
        return None;
    }
    let record = snapshot.repos.iter().find(|r| r.full_name == name);
    let mut pulls: Vec<&PullRecord> = snapshot.pulls.iter().filter(|p| p.repo == name).collect();
    if record.is_none() && pulls.is_empty() {
        return None;
    }
    pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
    let results = snapshot
        .sweeps
        .iter()
        .flat_map(|(sweep, results)| results.iter().filter(|r| r.repo == name).map(|r| (sweep.id.0, r)))
        .collect();
    Some(RepoPage {
        record,
        name,
        row: row(snapshot, name, now),
        pulls,
        results,
        ignored: snapshot.ignored.get(name).cloned().unwrap_or_default(),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::{PullRecord, RepoRecord, RepoResult, SweepId, SweepRecord};

    /// A repository as a sweep records it.
    pub(in crate::dashboard) fn repo(name: &str, private: bool, waiting: bool) -> RepoRecord {
        RepoRecord {
            full_name: name.into(),
            org: name.split('/').next().unwrap_or_default().into(),
            default_branch: "main".into(),
            tree_sha: None,
            tree_etag: None,
            candidates: 1,
            skipped: None,
            has_pull: false,
            waiting,
            judged_with: None,
            seen_at: 0,
            private,
        }
    }

    fn pull(name: &str, state: &str, blocked: bool, bytes: (u64, u64), days: i64) -> PullRecord {
        PullRecord {
            bytes_before: Some(bytes.0),
            bytes_after: Some(bytes.1),
            findings_fixed: 4,
            blocked_reason: blocked.then(|| "someone committed to harden/all".into()),
            updated_at: days * 86_400,
            off_root: Some(2),
            restricted: Some(1),
            ..PullRecord::seen(name, 1, "http://forge/pull/1", state, 0)
        }
    }

    fn result(name: &str, outcome: Outcome, detail: &str) -> RepoResult {
        RepoResult { repo: name.into(), outcome, detail: detail.into(), pull: None, requests: 1, at: 0 }
    }

    #[test]
    fn each_repository_gets_the_state_its_records_say() {
        let names = [
            "a/open",
            "a/edited",
            "a/merged",
            "a/closed",
            "a/waits",
            "a/broke",
            "a/quiet",
            "a/ignored",
            "a/none",
            "a/secret",
        ];
        let mut snapshot = Snapshot {
            orgs: vec!["a".into()],
            repos: names.iter().map(|n| repo(n, *n == "a/secret", *n == "a/waits")).collect(),
            pulls: vec![
                pull("a/open", "open", false, (900, 9), 1),
                pull("a/edited", "open", true, (900, 9), 1),
                pull("a/merged", "merged", false, (800, 100), 3),
                pull("a/closed", "closed", false, (500, 400), 2),
                pull("a/secret", "open", false, (900, 9), 1),
            ],
            ..Snapshot::default()
        };
        let sweep =
            SweepRecord { id: SweepId(1), org: "a".into(), shard: "1/1".into(), started_at: 0, finished_at: Some(1) };
        let results = vec![
            result("a/broke", Outcome::Failed, "the build proof failed: the rewritten Dockerfile does not build"),
            result("a/quiet", Outcome::Skipped, "opted out by its configuration"),
            result("a/none", Outcome::NothingToDo, "nothing to change"),
        ];
        snapshot.sweeps.push((sweep, results));
        snapshot.ignored.insert("a/ignored".into(), vec!["Dockerfile".into()]);
        let campaign = Campaign::new(&snapshot, &Visibility::default(), 10 * 86_400);
        let states: Vec<(&str, &str)> = campaign.rows.iter().map(|r| (r.repo.as_str(), r.state)).collect();
        assert_eq!(
            states,
            [
                ("a/broke", "failed-proof"),
                ("a/closed", "closed"),
                ("a/edited", "blocked-human-edit"),
                ("a/ignored", "ignored"),
                ("a/merged", "merged"),
                ("a/open", "open"),
                ("a/quiet", "opted-out"),
                ("a/waits", "scheduled"),
            ]
        );
        let s = &campaign.summary;
        assert_eq!((s.repos_seen, s.images_proven, s.bytes_before, s.bytes_after), (9, 4, 3100, 518));
        assert_eq!((s.merge_rate, s.mean_days_to_merge, s.findings_fixed), (Some(50.0), Some(3.0), 4));
        assert_eq!((s.off_root, s.restricted), (2, 1), "what the one merged pull request did");
        assert_eq!(campaign.bytes_saved, [Point { at: 3 * 86_400, value: 700 }]);
        // Opened at 0 (four pull requests of 4 findings), the closed one gone on day 2, the merged one on day 3.
        let burndown: Vec<(i64, u64)> = campaign.open_findings.iter().map(|p| (p.at / 86_400, p.value)).collect();
        assert_eq!(burndown, [(0, 16), (2, 12), (3, 8)]);
        let all = Visibility { all: true, ..Visibility::default() };
        assert!(Campaign::new(&snapshot, &all, 0).rows.iter().any(|r| r.repo == "a/secret" && r.private));
        let member = Visibility { login: Some("ann".into()), orgs: vec!["a".into()], ..Visibility::default() };
        assert!(repo_page(&snapshot, "a/secret", &member, 0).is_some());
        let outsider = Visibility { login: Some("bob".into()), orgs: vec!["b".into()], ..Visibility::default() };
        assert!(repo_page(&snapshot, "a/secret", &outsider, 0).is_none());
        assert!(repo_page(&snapshot, "a/secret", &Visibility::default(), 0).is_none());
    }
}
