//! The dashboard of the campaign: the pull requests harden opened, what each repository is
//! waiting for, and what the campaign took out of the images. One set of pages, rendered from a
//! [`Snapshot`] of the store with the `minijinja` templates in `templates/dashboard/`: written
//! to a directory by `harden dashboard --out` (for GitHub Pages) and served live by `harden
//! serve` at `/`. Everything but [`Snapshot::read`] is pure.

pub mod campaign;
pub mod charts;
pub mod pages;

use std::collections::BTreeMap;

use crate::store::{PullRecord, RepoRecord, RepoResult, Store, SweepRecord};

/// Who is looking, and so which private repositories the pages may show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visibility {
    /// Every private repository (`harden dashboard --include-private`).
    pub all: bool,
    /// The signed-in person, when someone signed in.
    pub login: Option<String>,
    /// The organisations whose private repositories that person may see (a member of each).
    pub orgs: Vec<String>,
    /// Whether the pages offer to sign in (the server has GitHub's OAuth set up).
    pub can_sign_in: bool,
}

impl Visibility {
    /// Whether `repo` may be shown, private or not.
    pub fn shows(&self, snapshot: &Snapshot, repo: &str) -> bool {
        let org = repo.split('/').next().unwrap_or_default();
        self.all || self.orgs.iter().any(|o| o.eq_ignore_ascii_case(org)) || !snapshot.is_private(repo)
    }

    /// The organisations that may be named: those with a repository that may be shown (an
    /// organisation whose repositories are all private is not even named to an outsider).
    pub fn orgs(&self, snapshot: &Snapshot) -> Vec<String> {
        let names =
            snapshot.repos.iter().map(|r| r.full_name.as_str()).chain(snapshot.pulls.iter().map(|p| p.repo.as_str()));
        let shown: Vec<&str> = names.filter(|n| self.shows(snapshot, n)).collect();
        let owns = |org: &str| shown.iter().any(|n| n.split('/').next().is_some_and(|o| o.eq_ignore_ascii_case(org)));
        snapshot.orgs.iter().filter(|o| self.all || owns(o)).cloned().collect()
    }
}

/// What the store holds about the organisations shown, read at once.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The organisations.
    pub orgs: Vec<String>,
    /// Their repositories, as the sweeps saw them.
    pub repos: Vec<RepoRecord>,
    /// harden's pull requests in them.
    pub pulls: Vec<PullRecord>,
    /// Their sweeps, the latest first, each with what it did per repository.
    pub sweeps: Vec<(SweepRecord, Vec<RepoResult>)>,
    /// Paths people asked harden to leave alone, by repository.
    pub ignored: BTreeMap<String, Vec<String>>,
}

impl Snapshot {
    /// Reads the organisations `orgs` (every one the store knows when empty).
    pub fn read(store: &dyn Store, orgs: &[String]) -> anyhow::Result<Self> {
        let orgs = if orgs.is_empty() { store.orgs()? } else { orgs.to_vec() };
        let mut snapshot = Snapshot { orgs: orgs.clone(), ..Snapshot::default() };
        for org in &orgs {
            snapshot.repos.extend(store.repos(org)?);
            snapshot.pulls.extend(store.pulls(org)?);
            for sweep in store.sweeps(org)? {
                let results = store.results(sweep.id)?;
                snapshot.sweeps.push((sweep, results));
            }
        }
        snapshot.sweeps.sort_by_key(|(s, _)| std::cmp::Reverse(s.started_at));
        let mut names: Vec<&str> = snapshot.repos.iter().map(|r| r.full_name.as_str()).collect();
        names.extend(snapshot.pulls.iter().map(|p| p.repo.as_str()));
        names.sort_unstable();
        names.dedup();
        for name in names {
            let paths = store.ignored_paths(name)?;
            if !paths.is_empty() {
                snapshot.ignored.insert(name.to_string(), paths);
            }
        }
        Ok(snapshot)
    }

    /// True when `repo` is private, or not known to be public (a repository no sweep listed).
    pub fn is_private(&self, repo: &str) -> bool {
        self.repos.iter().find(|r| r.full_name == repo).is_none_or(|r| r.private)
    }

    /// What the latest sweep that looked at `repo` did with it.
    pub fn latest_result(&self, repo: &str) -> Option<&RepoResult> {
        self.sweeps.iter().find_map(|(_, results)| results.iter().find(|r| r.repo == repo))
    }
}
