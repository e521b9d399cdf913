//! What the end-to-end tests share: the sandbox as a child process, REST calls, and git.

#![allow(dead_code)] // each test crate uses its own part of this module

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The token every test sandbox requires.
pub const TOKEN: &str = "sandbox-test-token";

/// A running sandbox, stopped by its pid when dropped.
pub struct Sandbox {
    child: Child,
    /// Where it answers, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Sandbox {
    /// Starts `harden sandbox` on a free port over `data`, with `seeds`, the test token and extra
    /// `args` (faults).
    pub fn start_with(data: &Path, seeds: &[&str], args: &[&str]) -> Self {
        Self::spawn(data, seeds, &[&["--token", TOKEN], args].concat())
    }

    /// Starts `harden sandbox` on a free port over `data`, with `seeds` and `args` only.
    pub fn spawn(data: &Path, seeds: &[&str], args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
        command.args(["sandbox", "--listen", "127.0.0.1:0"]).arg("--data").arg(data).args(args);
        for seed in seeds {
            command.args(["--seed", seed]);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("sandbox: listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
        Sandbox { child, url }
    }

    /// Starts `harden sandbox` over `data` with `seeds`.
    pub fn start(data: &Path, seeds: &[&str]) -> Self {
        Self::start_with(data, seeds, &[])
    }

    /// The git URL of `full_name`, with `token` as the password.
    pub fn git_url(&self, full_name: &str, token: &str) -> String {
        format!("{}/{full_name}.git", self.url.replacen("http://", &format!("http://x-access-token:{token}@"), 1))
    }

    /// The REST root harden is pointed at.
    pub fn api(&self) -> String {
        format!("{}/api/v3", self.url)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET url`, with `token` when given: the status and the JSON body.
pub async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("token {token}"));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// A request with a JSON body, with the test token.
pub async fn send(method: reqwest::Method, url: &str, body: Value) -> (u16, Value) {
    let request = reqwest::Client::new().request(method, url).header("Authorization", format!("Bearer {TOKEN}"));
    let response = request.json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Runs git in `dir`: whether it succeeded, and what it printed.
pub fn git(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("git")
        .args(["-c", "user.name=tester", "-c", "user.email=tester@example.invalid"])
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// A folder of this repository.
pub fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The seed `acme/naive=…/examples/naive`.
pub fn examples_naive() -> String {
    format!("acme/naive={}", project("examples/naive").display())
}

/// Whether the tests may build on the rig's Docker engine: not when `HARDEN_SKIP_DOCKER` is set
/// (the proof is then skipped, and said so); otherwise the rig's `HARDEN_DOCKER` must be set.
pub fn docker_available() -> bool {
    if std::env::var_os("HARDEN_SKIP_DOCKER").is_some() {
        eprintln!("HARDEN_SKIP_DOCKER is set: the build proof of this test is SKIPPED");
        return false;
    }
    assert!(
        std::env::var_os("HARDEN_DOCKER").is_some(),
        "HARDEN_DOCKER is not set: run tests/rig/up.sh and source its env file (or set HARDEN_SKIP_DOCKER=1)"
    );
    true
}

/// A Go service as a folder to seed from: the example's Dockerfile and program, and a
/// Deployment in `deploy/app.yaml`.
pub fn service() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["Dockerfile", "go.mod", "main.go"] {
        std::fs::copy(project("examples/naive").join(file), dir.path().join(file)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    std::fs::write(
        dir.path().join("deploy/app.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc\nspec:\n  template:\n    spec:\n      containers:\n        - name: svc\n          image: registry.example/svc:1.0\n",
    )
    .unwrap();
    dir
}

/// A database of its own on the tests' PostgreSQL server (`HARDEN_TEST_POSTGRES`, which
/// `tests/rig/postgres.sh up` writes), dropped afterwards.
pub struct TestDatabase {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl TestDatabase {
    /// A fresh database, or `None` when `HARDEN_SKIP_POSTGRES` skips PostgreSQL on purpose.
    pub fn new() -> Option<TestDatabase> {
        if std::env::var_os("HARDEN_SKIP_POSTGRES").is_some() {
            eprintln!("HARDEN_SKIP_POSTGRES is set: the PostgreSQL part of this test is SKIPPED");
            return None;
        }
        let admin = std::env::var("HARDEN_TEST_POSTGRES").expect(
            "HARDEN_TEST_POSTGRES is not set: run tests/rig/postgres.sh up and source its env file (or set HARDEN_SKIP_POSTGRES=1)",
        );
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("harden_test_{}_{n}", std::process::id());
        admin_sql(&admin, format!("CREATE DATABASE {name}"));
        let url = format!("{}/{name}", admin.rsplit_once('/').expect("a postgres:// URL").0);
        Some(TestDatabase { admin, name, url })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin_sql(&self.admin, format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// Runs `sql` on the server at `admin`, on a thread of its own: the synchronous client runs its
/// own runtime, which must not start inside an async test's.
fn admin_sql(admin: &str, sql: String) {
    let admin = admin.to_string();
    std::thread::spawn(move || postgres::Client::connect(&admin, postgres::NoTls)?.batch_execute(&sql))
        .join()
        .unwrap()
        .unwrap()
}

/// A GitHub App's key pair, made by openssl: the folder holding them, the private key (PEM) and
/// the public key.
pub fn app_keys() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = (keys.path().join("key.pem"), keys.path().join("public.pem"));
    let openssl = |args: &[&str]| assert!(Command::new("openssl").args(args).output().unwrap().status.success());
    openssl(&["genrsa", "-traditional", "-out", key.to_str().unwrap(), "2048"]);
    openssl(&["rsa", "-in", key.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    (keys, key, public)
}

/// An organisation to seed: a folder per repository and `sandbox.json` with their listing facts.
pub struct Org {
    dir: tempfile::TempDir,
    facts: BTreeMap<String, Value>,
}

impl Org {
    pub fn new() -> Self {
        Org { dir: tempfile::tempdir().unwrap(), facts: BTreeMap::new() }
    }

    /// A repository with the files of `from` (a folder of this project), and `extra` files.
    pub fn repo(mut self, name: &str, from: Option<&Path>, extra: &[(&str, &str)], facts: Value) -> Self {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(from) = from {
            copy(from, &dir);
        }
        for (path, text) in extra {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        self.facts.insert(name.into(), facts);
        self
    }

    /// `N` copies of the naive Go service, `svc-1`…
    pub fn services(mut self, n: usize) -> Self {
        for i in 1..=n {
            self = self.repo(&format!("svc-{i}"), Some(&project("examples/naive")), &[], json!({}));
        }
        self
    }

    /// The `--seed-org` argument, for organisation `org`.
    pub fn seed(&self, org: &str) -> String {
        std::fs::write(self.dir.path().join("sandbox.json"), serde_json::to_string(&self.facts).unwrap()).unwrap();
        format!("{org}={}", self.dir.path().display())
    }
}

/// Copies the folder `from` into `to`.
pub fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A `harden serve` process and its root URL (`http://127.0.0.1:PORT`), stopped when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it answers.
    pub url: String,
}

impl Server {
    /// `harden serve` on a free port over `database`, with `secrets` and `args`.
    pub fn start_with(database: &Path, secrets: &[&str], args: &[&str]) -> Server {
        Self::start_at("127.0.0.1:0", database, secrets, args)
    }

    /// `harden serve` at `listen` over `database`, with `secrets` and `args`.
    pub fn start_at(listen: &str, database: &Path, secrets: &[&str], args: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
        command.args(["serve", "--listen", listen, "--database"]).arg(database).args(args);
        for secret in secrets {
            command.args(["--webhook-secret", secret]);
        }
        let mut child = command
            .env_remove("HARDEN_WEBHOOK_SECRET")
            .env_remove("GITHUB_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("serve: listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
