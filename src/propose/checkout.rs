//! The repository on disk: a shallow clone of one branch over HTTPS (or HTTP) with a token, made
//! with libgit2, and the file modes of its tree so the commit keeps an executable executable.
//! The token goes to git through a credentials callback, never into a URL or a log line.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use git2::build::RepoBuilder;
use git2::{Cred, FetchOptions, RemoteCallbacks, TreeWalkMode, TreeWalkResult};
use octocrab::secrecy::{ExposeSecret, SecretString};

/// A cloned branch.
pub struct Checkout {
    /// The commit the branch pointed at.
    pub head: String,
    /// That commit's tree.
    pub tree: String,
    /// Every file's mode in that commit's tree (`100644`, `100755`, `120000`), by path.
    pub modes: HashMap<String, String>,
}

/// Clones `branch` of `url` into `dir` at depth 1, authenticating as `x-access-token` with `token`.
pub fn shallow_clone(url: &str, branch: &str, token: &SecretString, dir: &Path) -> anyhow::Result<Checkout> {
    let mut callbacks = RemoteCallbacks::new();
    let mut asked = 0;
    callbacks.credentials(move |_url, _user, _allowed| {
        asked += 1;
        if asked > 1 {
            return Err(git2::Error::from_str("the forge refused the token"));
        }
        Cred::userpass_plaintext("x-access-token", token.expose_secret())
    });
    let mut fetch = FetchOptions::new();
    fetch.remote_callbacks(callbacks).depth(1);
    let repo = RepoBuilder::new()
        .branch(branch)
        .fetch_options(fetch)
        .clone(url, dir)
        .with_context(|| format!("cloning branch {branch} of {url}"))?;
    let commit = repo.head()?.peel_to_commit()?;
    let mut modes = HashMap::new();
    commit.tree()?.walk(TreeWalkMode::PreOrder, |parent, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            modes.insert(format!("{parent}{}", entry.name().unwrap_or_default()), format!("{:o}", entry.filemode()));
        }
        TreeWalkResult::Ok
    })?;
    Ok(Checkout { head: commit.id().to_string(), tree: commit.tree_id().to_string(), modes })
}
