//! The part of a webhook payload harden reads, and nothing more: the rest of GitHub's large
//! payloads is skipped unread by the parser, which keeps the answer fast. Every field may be
//! absent or `null` (events differ; GitHub adds fields). Pure.

use serde::Deserialize;

/// A delivery's payload.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Payload {
    /// What happened (`created`, `edited`, `closed`…).
    pub action: Option<String>,
    /// The comment of an `issue_comment` event.
    pub comment: Option<Comment>,
    /// The issue (or pull request) a comment is on.
    pub issue: Option<Numbered>,
    /// The repository.
    pub repository: Option<Repository>,
    /// The pull request of a `pull_request` event.
    pub pull_request: Option<Pull>,
    /// The ref a `push` moved.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Whether a `push` deleted its ref.
    pub deleted: Option<bool>,
    /// The App installation.
    pub installation: Option<Installation>,
    /// The repositories of a new installation.
    pub repositories: Option<Vec<Named>>,
    /// The repositories added to an installation.
    pub repositories_added: Option<Vec<Named>>,
}

/// A comment.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Comment {
    /// Its id.
    pub id: Option<u64>,
    /// Its text.
    pub body: Option<String>,
    /// When it last changed.
    pub updated_at: Option<String>,
    /// How its author relates to the repository.
    pub author_association: Option<String>,
    /// Its author.
    pub user: Option<User>,
}

/// A user or bot.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct User {
    /// The login.
    pub login: Option<String>,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Something with a number (an issue).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Numbered {
    /// Its number.
    pub number: Option<u64>,
}

/// A repository.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: Option<String>,
    /// Whether it is a fork.
    pub fork: Option<bool>,
    /// Its default branch.
    pub default_branch: Option<String>,
}

/// A pull request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pull {
    /// Its id.
    pub id: Option<u64>,
    /// Its number.
    pub number: Option<u64>,
    /// Whether it was merged.
    pub merged: Option<bool>,
    /// Its body.
    pub body: Option<String>,
    /// Its web address.
    pub html_url: Option<String>,
    /// When it was closed.
    pub closed_at: Option<String>,
}

/// An installation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Installation {
    /// Its id.
    pub id: Option<u64>,
}

/// A repository named in an installation event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Named {
    /// `owner/name`.
    pub full_name: Option<String>,
}
