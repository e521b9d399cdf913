//! `harden demo`: the whole job on one machine, with no GitHub account. It starts the sandbox
//! forge with the example Go service that ships in the binary (`examples/naive`), runs
//! `harden pr` against it (with the build proof when a Docker engine answers), and returns what
//! a user would see on GitHub: the pull request's address and its body.

use std::path::Path;

use anyhow::Context;

use crate::forge::governor::Limits;
use crate::propose::pr::{self, Auth, Prover, Report, Target};
use crate::sandbox::{self, Seed};

/// The example service, as the binary carries it: path and text.
pub const EXAMPLE: [(&str, &str); 4] = [
    ("Dockerfile", include_str!("../examples/naive/Dockerfile")),
    ("go.mod", include_str!("../examples/naive/go.mod")),
    ("main.go", include_str!("../examples/naive/main.go")),
    ("deploy/hello.yaml", include_str!("../examples/naive/deploy/hello.yaml")),
];

/// The repository the demo creates.
pub const REPO: (&str, &str) = ("acme", "hello");

/// What the demo did.
pub struct Demo {
    /// What `harden pr` did.
    pub report: Report,
    /// The sandbox, still serving (it stops with the process).
    pub sandbox: sandbox::Running,
    /// The token the sandbox takes (REST: `Authorization: token T`; git: the password).
    pub token: String,
}

/// Writes the example into `dir/example`, starts the sandbox over `dir/forge` on `listen`, and runs
/// `harden pr` on it with `prover`.
pub fn run(dir: &Path, listen: std::net::SocketAddr, prover: &dyn Prover) -> anyhow::Result<Demo> {
    let folder = dir.join("example");
    for (path, text) in EXAMPLE {
        let file = folder.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&folder))?;
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    }
    let token = format!("demo-{}", std::process::id());
    let seed = Seed { owner: REPO.0.into(), name: REPO.1.into(), folder };
    let running = sandbox::start(sandbox::Options {
        listen,
        data: dir.join("forge"),
        seeds: vec![seed],
        token: Some(token.clone()),
        faults: Vec::new(),
        app: None,
        collaborators: Vec::new(),
        users: Vec::new(),
        webhook: None,
        git_data_writes: true,
        orgs: Vec::new(),
        tree_limit: None,
        oauth: None,
        oauth_user: None,
        members: Vec::new(),
    })?;
    let target = Target::new(REPO.0, REPO.1);
    // The forge is this process: GitHub's one-second gap between writes would only slow the demo.
    let limits = Limits { mutation_gap: std::time::Duration::from_millis(50), ..Limits::default() };
    let auth = Auth::Token(token.clone().into());
    let report = pr::run(&format!("{}/api/v3", running.url), auth, &target, limits, prover)?;
    Ok(Demo { report, sandbox: running, token })
}
