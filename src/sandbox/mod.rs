//! `harden sandbox`: a local GitHub-compatible forge that ships in the binary, for trying harden
//! without a GitHub account and for the end-to-end tests. It keeps real state in a data
//! directory, serves real git over smart HTTP, and answers GitHub's REST shapes.

pub mod api;
pub mod app;
pub mod collaborators;
pub mod conditional;
pub mod contents;
pub mod extract;
pub mod faults;
pub mod git;
pub mod gitdata;
pub mod hooks;
pub mod issues;
pub mod journal;
pub mod merge;
pub mod oauth;
pub mod pulls;
pub mod reactions;
pub mod reviews;
pub mod shapes;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};

use app::App;
use faults::Fault;
use state::State;

/// A repository to seed: `OWNER/NAME=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The owning organisation.
    pub owner: String,
    /// The repository's name.
    pub name: String,
    /// The folder whose files become its first commit.
    pub folder: PathBuf,
}

impl std::str::FromStr for Seed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (full_name, folder) = text.split_once('=').ok_or("expected OWNER/NAME=PATH")?;
        let (owner, name) = full_name.split_once('/').ok_or("expected OWNER/NAME=PATH")?;
        let valid = |part: &str| {
            !part.is_empty()
                && !part.starts_with('.')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !valid(owner) || !valid(name) || name.ends_with(".git") {
            return Err(format!("`{full_name}` is not a repository name"));
        }
        Ok(Seed { owner: owner.into(), name: name.into(), folder: folder.into() })
    }
}

/// How to run the sandbox.
pub struct Options {
    /// The address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Where the state and the repositories live.
    pub data: PathBuf,
    /// Repositories to create when they do not exist yet.
    pub seeds: Vec<Seed>,
    /// The token clients must present, if any.
    pub token: Option<String>,
    /// Faults to inject, each once.
    pub faults: Vec<Fault>,
    /// A GitHub App to accept, if any.
    pub app: Option<App>,
    /// Users' permissions on every repository: `LOGIN=PERMISSION`.
    pub collaborators: Vec<Collaborator>,
    /// People's tokens: `LOGIN=TOKEN`; what they write (issues, comments) is theirs.
    pub users: Vec<UserToken>,
    /// Where the App's webhooks go (people's comments are delivered there), if anywhere.
    pub webhook: Option<hooks::Webhook>,
    /// Whether the Git Data API can create blobs, trees and commits (false: it answers 404, as a
    /// forge without them, and clients must push with git).
    pub git_data_writes: bool,
    /// Organisations of many repositories to create: seeded from a folder of folders, or
    /// generated.
    pub orgs: Vec<OrgSeed>,
    /// The most entries a recursive tree lists before it says `truncated`.
    pub tree_limit: Option<usize>,
    /// The OAuth app whose web flow the sandbox runs (the dashboard's sign-in), if any.
    pub oauth: Option<oauth::OAuthApp>,
    /// The person signed in at the forge, who approves it at once (one of `users`).
    pub oauth_user: Option<String>,
    /// Organisation members, for `GET /user/memberships/orgs/{org}`.
    pub members: Vec<oauth::Member>,
}

/// An organisation of repositories to create when it does not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgSeed {
    /// `ORG=DIR`: each folder in DIR is a repository; `DIR/sandbox.json` may give each its
    /// listing facts (`{"name": {"archived": true, "fork": true, "private": true, "empty": true, "topics": […],
    /// "language": "Go"}}`).
    Folders(String, PathBuf),
    /// `ORG=N`: N generated repositories, every twentieth a Go service with a Dockerfile to
    /// harden, the others Go code without one.
    Generated(String, usize),
}

impl std::str::FromStr for OrgSeed {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (org, what) = text.split_once('=').ok_or("expected ORG=DIR or ORG=N")?;
        if org.is_empty() || !org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("`{org}` is not an organisation name"));
        }
        Ok(match what.parse() {
            Ok(n) => OrgSeed::Generated(org.into(), n),
            Err(_) => OrgSeed::Folders(org.into(), what.into()),
        })
    }
}

/// A user's permission on every repository of the sandbox: `LOGIN=PERMISSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collaborator {
    /// The user's login.
    pub login: String,
    /// One of admin, maintain, write, triage, read.
    pub permission: String,
}

impl std::str::FromStr for Collaborator {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (login, permission) = text.split_once('=').ok_or("expected LOGIN=PERMISSION")?;
        if !collaborators::PERMISSIONS.contains(&permission) {
            return Err(format!("`{permission}` is not one of {}", collaborators::PERMISSIONS.join(", ")));
        }
        Ok(Collaborator { login: login.into(), permission: permission.into() })
    }
}

/// A person's token: requests that present it act as that login (`LOGIN=TOKEN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    /// The person's login.
    pub login: String,
    /// The token they present.
    pub token: String,
}

impl std::str::FromStr for UserToken {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (login, token) = pair(text, "LOGIN=TOKEN")?;
        Ok(UserToken { login, token })
    }
}

/// `A=B` with neither side empty; the error names the `expected` form.
pub fn pair(text: &str, expected: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.into(), b.into())),
        _ => Err(format!("expected {expected}")),
    }
}

/// A sandbox serving on a thread of its own.
pub struct Running {
    /// Where it answers, such as `http://127.0.0.1:8080`.
    pub url: String,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Serves until the process is stopped.
    pub fn wait(self) -> anyhow::Result<()> {
        self.thread.join().map_err(|_| anyhow::anyhow!("the sandbox panicked"))?
    }
}

/// Seeds the repositories, binds the address, and serves on a new thread.
pub fn start(options: Options) -> anyhow::Result<Running> {
    let git_root = options.data.join("git");
    std::fs::create_dir_all(&git_root).with_context(|| format!("creating {}", git_root.display()))?;
    let state_path = options.data.join("state.json");
    let mut state = State::load(&state_path)?;
    for seed in &options.seeds {
        if !seed.folder.is_dir() {
            bail!("--seed {}/{}: {} is not a folder", seed.owner, seed.name, seed.folder.display());
        }
        let repo = state.add_repo(&seed.owner, &seed.name).clone();
        git::seed(&git::bare_path(&git_root, &repo.owner, &repo.name), &repo.default_branch, &seed.folder)?;
    }
    for org in &options.orgs {
        seed_org(&mut state, &git_root, org)?;
    }
    state.save(&state_path)?;
    let listener =
        std::net::TcpListener::bind(options.listen).with_context(|| format!("listening on {}", options.listen))?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let forge = api::Forge {
        git_root,
        base_url: url.clone(),
        token: options.token,
        state: Mutex::new(state),
        state_path,
        faults: Mutex::new(options.faults),
        journal: options.data.join("requests.log"),
        rate_used: 0.into(),
        rate_reset: now + 3600,
        app: options.app,
        installation_tokens: Mutex::new(Default::default()),
        minted: 0.into(),
        collaborators: options.collaborators.into_iter().map(|c| (c.login, c.permission)).collect(),
        users: options.users.into_iter().map(|u| (u.token, u.login)).collect(),
        webhook: options.webhook,
        tree_limit: options.tree_limit,
        oauth: options.oauth,
        oauth_user: options.oauth_user,
        members: options.members,
        oauth_codes: Mutex::new(Default::default()),
    };
    if !forge.faults.lock().expect("faults lock").is_empty() {
        faults::quiet_dropped_connections();
    }
    let git_data_writes = options.git_data_writes;
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, api::router(Arc::new(forge), git_data_writes)).await.context("serving")
        })
    });
    Ok(Running { url, thread })
}

/// Creates an organisation's repositories that do not exist yet.
fn seed_org(state: &mut State, git_root: &std::path::Path, org: &OrgSeed) -> anyhow::Result<()> {
    match org {
        OrgSeed::Folders(owner, dir) => {
            let metas: std::collections::BTreeMap<String, state::RepoMeta> =
                match std::fs::read_to_string(dir.join("sandbox.json")) {
                    Ok(text) => {
                        serde_json::from_str(&text).with_context(|| format!("{}/sandbox.json", dir.display()))?
                    }
                    Err(_) => Default::default(),
                };
            let mut folders: Vec<PathBuf> =
                std::fs::read_dir(dir)?.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
            folders.sort();
            for folder in folders {
                let name = folder.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                let meta = metas.get(&name).cloned().unwrap_or_default();
                let repo = state.add_repo_with(owner, &name, meta.clone()).clone();
                let bare = git::bare_path(git_root, &repo.owner, &repo.name);
                if meta.empty {
                    git::init_empty(&bare, &repo.default_branch)?;
                } else {
                    git::seed(&bare, &repo.default_branch, &folder)?;
                }
            }
        }
        OrgSeed::Generated(owner, count) => {
            for i in 0..*count {
                let name = format!("svc-{i:04}");
                let repo = state.add_repo_with(owner, &name, state::RepoMeta::default()).clone();
                git::generate(
                    &git::bare_path(git_root, &repo.owner, &repo.name),
                    &repo.default_branch,
                    &generated_files(&name, i % 20 == 0),
                )?;
            }
        }
    }
    Ok(())
}

/// The files of a generated repository: a Go module, and for a service a naive Dockerfile.
fn generated_files(name: &str, service: bool) -> Vec<(String, String)> {
    let mut files = vec![
        ("go.mod".to_string(), format!("module example.com/{name}\n\ngo 1.22\n")),
        ("main.go".to_string(), "package main\n\nfunc main() {}\n".to_string()),
        ("README.md".to_string(), format!("# {name}\n")),
    ];
    if service {
        files.push((
            "Dockerfile".to_string(),
            "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/server .\nCMD [\"/app/server\"]\n"
                .to_string(),
        ));
    }
    files
}

/// Seeds the repositories, then serves until the process is stopped. Prints
/// `sandbox: listening on http://ADDR` once it accepts connections.
pub fn serve(options: Options) -> anyhow::Result<()> {
    let running = start(options)?;
    println!("sandbox: listening on {}", running.url);
    running.wait()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_owner_name_equals_path() {
        let seed: Seed = "acme/api=examples/naive".parse().unwrap();
        assert_eq!((seed.owner.as_str(), seed.name.as_str()), ("acme", "api"));
        assert_eq!(seed.folder, PathBuf::from("examples/naive"));
        assert!("acme=examples".parse::<Seed>().is_err());
        assert!("acme/../x=examples".parse::<Seed>().is_err());
        assert!("acme/api.git=examples".parse::<Seed>().is_err());
        assert!("acme/..=examples".parse::<Seed>().is_err());
    }
}
