//! The sandbox forge's state: the repositories it hosts, kept as JSON in the data directory so
//! it survives a restart. Pure data; reading and writing the file are the two I/O functions.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// A repository the sandbox hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    /// Its numeric id, unique in this sandbox.
    pub id: u64,
    /// The owning organisation's login.
    pub owner: String,
    /// The repository's name.
    pub name: String,
    /// The branch clones start from.
    pub default_branch: String,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Its pull requests, numbered from 1.
    #[serde(default)]
    pub pulls: Vec<Pull>,
    /// The comments on its pull requests and issues.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Its issues, numbered with its pull requests as GitHub numbers them.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// Its labels, made on first use as GitHub does.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// What a listing says of it beyond its name: archived, a fork, empty, topics, language.
    #[serde(default)]
    pub meta: RepoMeta,
}

/// A repository's listing facts, as GitHub shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepoMeta {
    /// Archived: read-only.
    pub archived: bool,
    /// Disabled by the forge.
    pub disabled: bool,
    /// A fork of another repository.
    pub fork: bool,
    /// Private: seen only by those it is shared with.
    pub private: bool,
    /// Without a single commit.
    pub empty: bool,
    /// Its topics.
    pub topics: Vec<String>,
    /// Its main language (`Go` when not given).
    pub language: Option<String>,
}

/// A repository's label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Its id, unique in the sandbox.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// Now, as GitHub writes times.
pub fn now() -> String {
    timestamp(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// Seconds since the epoch as GitHub writes times: RFC 3339, whole seconds, UTC.
pub fn timestamp(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pull {
    /// Its id, unique in the sandbox.
    pub id: u64,
    /// Its number in the repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body (Markdown).
    pub body: Option<String>,
    /// The branch it proposes.
    pub head: String,
    /// The branch it targets.
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    /// When it was opened, updated and closed (RFC 3339).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// When it was closed, if it is.
    pub closed_at: Option<String>,
    /// The names of its labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The logins asked to review it.
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// The team slugs asked to review it.
    #[serde(default)]
    pub teams: Vec<String>,
    /// When it was merged, if it was.
    #[serde(default)]
    pub merged_at: Option<String>,
    /// The commit the merge made.
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    /// The head's last commit, kept when its branch is deleted.
    #[serde(default)]
    pub head_sha: Option<String>,
}

/// An issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Its id, unique in the sandbox.
    pub id: u64,
    /// Its number in the repository (shared with pull requests).
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body (Markdown).
    pub body: Option<String>,
    /// Who opened it (a `--user` login; `None`: the sandbox's bot).
    pub user: Option<String>,
    /// When it was opened (RFC 3339).
    pub created_at: String,
    /// Closed (`false`: open).
    #[serde(default)]
    pub closed: bool,
    /// When it last changed (RFC 3339; empty: when it was opened).
    #[serde(default)]
    pub updated_at: String,
}

/// A comment on a pull request or an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Its id, unique in the sandbox.
    pub id: u64,
    /// The number of the pull request or issue it is on.
    pub number: u64,
    /// The text.
    pub body: String,
    /// Who wrote it (a `--user` login; `None`: the sandbox's bot).
    #[serde(default)]
    pub user: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The reactions on it.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
}

/// A reaction on a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// Its id, unique in the sandbox.
    pub id: u64,
    /// Who reacted (a `--user` login; `None`: the sandbox's bot).
    #[serde(default)]
    pub user: Option<String>,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket` or `eyes`.
    pub content: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

impl Repo {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// The number the next pull request or issue gets: they share one sequence, as on GitHub.
    pub fn next_number(&self) -> u64 {
        (self.pulls.len() + self.issues.len()) as u64 + 1
    }

    /// Whether `number` (as a path spells it) is one of its pull requests or issues.
    pub fn has_thread(&self, number: &str) -> Option<u64> {
        let numbers = self.pulls.iter().map(|p| p.number).chain(self.issues.iter().map(|i| i.number));
        numbers.into_iter().find(|n| n.to_string() == number)
    }
}

/// Everything the sandbox remembers.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The repositories by `owner/name`.
    pub repos: BTreeMap<String, Repo>,
    /// The last id handed out (repositories, and later pulls and comments, share the counter).
    pub last_id: u64,
    /// The webhook deliveries made to the App, oldest first.
    #[serde(default)]
    pub hook_deliveries: Vec<HookDelivery>,
}

/// One attempt to deliver a webhook, as GitHub lists them for an App.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookDelivery {
    /// Its id.
    pub id: u64,
    /// The delivery's id (`X-GitHub-Delivery`), kept by a redelivery.
    pub guid: String,
    /// When it was attempted (seconds since the epoch).
    pub at: i64,
    /// Whether it was a redelivery.
    pub redelivery: bool,
    /// The HTTP status the App's server answered (0: no answer).
    pub status_code: u16,
    /// In words: `OK`, or what went wrong.
    pub status: String,
    /// The event.
    pub event: String,
    /// The event's action.
    pub action: String,
    /// The repository it concerns.
    pub repository_id: u64,
    /// The payload, kept for a redelivery.
    pub payload: String,
}

impl State {
    /// Reads the state from `path`, or starts empty when the file does not exist yet.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("{}: not a sandbox state", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the state to `path` atomically (a temporary file, then a rename).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, serde_json::to_string_pretty(self)?)?;
        std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
    }

    /// The next id for anything the sandbox creates.
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// The repository `owner/name`, added with the next id when it is new.
    pub fn add_repo(&mut self, owner: &str, name: &str) -> &Repo {
        self.add_repo_with(owner, name, RepoMeta::default())
    }

    /// Adds a repository with its listing facts, unless it exists (then it is kept as it is).
    pub fn add_repo_with(&mut self, owner: &str, name: &str, meta: RepoMeta) -> &Repo {
        let key = format!("{owner}/{name}");
        if !self.repos.contains_key(&key) {
            self.last_id += 1;
            let repo = Repo {
                id: self.last_id,
                owner: owner.into(),
                name: name.into(),
                default_branch: "main".into(),
                created_at: now(),
                pulls: Vec::new(),
                comments: Vec::new(),
                issues: Vec::new(),
                labels: Vec::new(),
                meta,
            };
            self.repos.insert(key.clone(), repo);
        }
        &self.repos[&key]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_keep_their_ids_across_a_save_and_a_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(State::load(&path).unwrap(), State::default());
        let mut state = State::default();
        let first = state.add_repo("acme", "api").id;
        let second = state.add_repo("acme", "web").id;
        assert_eq!(state.add_repo("acme", "api").id, first, "adding again keeps the repository");
        assert_ne!(first, second);
        state.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), state);
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(State::load(&path).unwrap_err().to_string().contains("state.json"));
    }
}
