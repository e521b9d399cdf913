//! The repository on disk: a shallow clone of one branch over HTTPS (or HTTP) with a token, made
//! with libgit2, and the file modes of its tree so the commit keeps an executable executable; and,
//! for forges without the Git Data API, the commit made here and force-pushed.
//! The token goes to git through a credentials callback, never into a URL or a log line.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use git2::build::{RepoBuilder, TreeUpdateBuilder};
use git2::{
    Cred, FetchOptions, FileMode, PushOptions, RemoteCallbacks, Repository, Signature, TreeWalkMode, TreeWalkResult,
};
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

/// Git's callbacks that answer with `token` once (a second ask means the forge refused it).
fn credentials(token: &SecretString) -> RemoteCallbacks<'_> {
    let mut callbacks = RemoteCallbacks::new();
    let mut asked = 0;
    callbacks.credentials(move |_url, _user, _allowed| {
        asked += 1;
        if asked > 1 {
            return Err(git2::Error::from_str("the forge refused the token"));
        }
        Cred::userpass_plaintext("x-access-token", token.expose_secret())
    });
    callbacks
}

/// Clones `branch` of `url` into `dir` at depth 1, authenticating as `x-access-token` with `token`.
pub fn shallow_clone(url: &str, branch: &str, token: &SecretString, dir: &Path) -> anyhow::Result<Checkout> {
    let mut fetch = FetchOptions::new();
    fetch.remote_callbacks(credentials(token)).depth(1);
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

/// Commits `files` (path, mode, text) over the clone's head in `dir` with `message`, and
/// force-pushes the commit to `branch` of the clone's origin: the path for forges without the
/// Git Data API. Returns the commit's id.
pub fn commit_and_push(
    dir: &Path,
    files: &[(&str, &str, &str)],
    message: &str,
    branch: &str,
    token: &SecretString,
) -> anyhow::Result<String> {
    let repo = Repository::open(dir)?;
    let head = repo.head()?.peel_to_commit()?;
    let mut update = TreeUpdateBuilder::new();
    for (path, mode, text) in files {
        let mode = if *mode == "100755" { FileMode::BlobExecutable } else { FileMode::Blob };
        update.upsert(*path, repo.blob(text.as_bytes())?, mode);
    }
    let tree = repo.find_tree(update.create_updated(&repo, &head.tree()?)?)?;
    let signature = Signature::now("harden", "harden@users.noreply.github.com")?;
    let commit = repo.commit(None, &signature, &signature, message, &tree, &[&head])?;
    repo.reference("refs/heads/harden-push", commit, true, "harden: the commit to push")?;
    let mut callbacks = credentials(token);
    callbacks.push_update_reference(|name, refused| match refused {
        Some(why) => Err(git2::Error::from_str(&format!("the forge refused {name}: {why}"))),
        None => Ok(()),
    });
    let mut push = PushOptions::new();
    push.remote_callbacks(callbacks);
    repo.find_remote("origin")?
        .push(&[format!("+refs/heads/harden-push:refs/heads/{branch}")], Some(&mut push))
        .with_context(|| format!("pushing to {branch}"))?;
    Ok(commit.to_string())
}
