//! What a sweep did, for people and for tools: one JSON line per repository (the result file a
//! shard writes, `schema/sweep-result.schema.json`), and the summary of them all as text, JSON or
//! Markdown (for a job summary). `harden sweep merge` reads result files back into one summary.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::store::{ALL_OUTCOMES, Outcome, RepoResult};

/// The totals of a sweep (or of the shards merged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The organisation or installation swept.
    pub org: String,
    /// Repositories seen.
    pub repositories: usize,
    /// Repositories by outcome (`opened`, `skipped`…).
    pub outcomes: BTreeMap<String, usize>,
    /// Why repositories were passed over, with how many.
    pub skipped: BTreeMap<String, usize>,
    /// Repositories with a Dockerfile or manifest by name (candidates), whether or not harden changes them.
    pub candidates: usize,
    /// API requests sent.
    pub requests: usize,
    /// Of those, the ones that spent rate limit (all but `304 Not Modified`).
    pub rate_limit_spent: usize,
    /// The repositories that failed, with why.
    pub failures: Vec<(String, String)>,
    /// The pull requests this sweep opened, updated or closed: repository, outcome, address.
    pub pull_requests: Vec<(String, String, String)>,
    /// True when nothing was written (`--dry-run`).
    pub dry_run: bool,
}

/// One line of a result file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The organisation.
    pub org: String,
    /// The shard that swept it (`I/N`).
    pub shard: String,
    /// What happened.
    #[serde(flatten)]
    pub result: RepoResult,
    /// How many files could be hardened there.
    pub candidates: usize,
}

impl Summary {
    /// Adds one repository's result.
    pub fn add(&mut self, result: &RepoResult, candidates: usize) {
        self.repositories += 1;
        *self.outcomes.entry(result.outcome.as_str().to_string()).or_default() += 1;
        if result.outcome == Outcome::Skipped {
            *self.skipped.entry(result.detail.clone()).or_default() += 1;
        }
        if candidates > 0 {
            self.candidates += 1;
        }
        if result.outcome == Outcome::Failed {
            self.failures.push((result.repo.clone(), result.detail.clone()));
        }
        if matches!(result.outcome, Outcome::Opened | Outcome::Updated | Outcome::Closed) {
            self.pull_requests.push((result.repo.clone(), result.outcome.as_str().into(), result.detail.clone()));
        }
    }

    /// Joins the lines of result files (shards) into one summary; the request counts are their
    /// sums.
    pub fn merge(lines: &[Line]) -> Summary {
        let mut summary =
            Summary { org: lines.first().map(|l| l.org.clone()).unwrap_or_default(), ..Summary::default() };
        for line in lines {
            summary.add(&line.result, line.candidates);
            summary.requests += line.result.requests;
        }
        summary
    }

    /// How many repositories had `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.get(outcome.as_str()).copied().unwrap_or(0)
    }

    /// The summary as text.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}: {} repositories, {} with a Dockerfile or manifest to look at\n",
            self.org, self.repositories, self.candidates
        );
        if self.dry_run {
            out.push_str("  (dry run: nothing was written; the outcomes say what a sweep would do)\n");
        }
        for outcome in ALL_OUTCOMES {
            let n = self.count(*outcome);
            if n > 0 {
                let _ = writeln!(out, "  {:<14} {n}", outcome.as_str());
            }
        }
        for (why, n) in &self.skipped {
            let _ = writeln!(out, "  skipped: {why}: {n}");
        }
        for (repo, why) in &self.failures {
            let _ = writeln!(out, "  failed: {repo}: {why}");
        }
        let _ = writeln!(out, "{} API requests, {} of them spent rate limit", self.requests, self.rate_limit_spent);
        out
    }

    /// The summary as Markdown, for a job summary.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "### harden sweep: {}\n\n{} repositories, {} with a Dockerfile or manifest to look at; {} API requests ({} spent rate limit).\n\n| outcome | repositories |\n|---|---|\n",
            self.org, self.repositories, self.candidates, self.requests, self.rate_limit_spent
        );
        for outcome in ALL_OUTCOMES {
            let n = self.count(*outcome);
            if n > 0 {
                let _ = writeln!(out, "| {} | {n} |", outcome.as_str());
            }
        }
        if self.dry_run {
            out.push_str("\nA dry run: nothing was written; the outcomes say what a sweep would do.\n");
        }
        if !self.pull_requests.is_empty() {
            out.push_str("\nPull requests:\n");
            for (repo, outcome, url) in &self.pull_requests {
                let _ = writeln!(out, "- `{repo}`: {outcome} {url}");
            }
        }
        if !self.failures.is_empty() {
            out.push_str("\nFailed:\n");
            for (repo, why) in &self.failures {
                let _ = writeln!(out, "- `{repo}`: {why}");
            }
        }
        out
    }

    /// The summary as JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(repo: &str, outcome: Outcome, requests: usize) -> Line {
        Line {
            org: "acme".into(),
            shard: "1/2".into(),
            result: RepoResult { repo: repo.into(), outcome, detail: "archived".into(), pull: None, requests, at: 1 },
            candidates: usize::from(outcome == Outcome::Opened),
        }
    }

    #[test]
    fn merging_shards_adds_them_up() {
        let lines = [
            line("acme/a", Outcome::Opened, 5),
            line("acme/b", Outcome::Skipped, 0),
            line("acme/c", Outcome::Unchanged, 1),
        ];
        let summary = Summary::merge(&lines);
        assert_eq!((summary.repositories, summary.candidates, summary.requests), (3, 1, 6));
        assert_eq!(summary.count(Outcome::Opened), 1);
        assert_eq!(summary.skipped.get("archived"), Some(&1));
        assert!(summary.text().contains("  opened         1\n"));
        assert!(summary.markdown().contains("| unchanged | 1 |"));
        let round: Line = serde_json::from_str(&serde_json::to_string(&lines[0]).unwrap()).unwrap();
        assert_eq!(round, lines[0]);
    }
}
