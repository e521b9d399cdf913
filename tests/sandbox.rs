//! `harden sandbox` end to end: the real binary, real git over smart HTTP (clone and push), the
//! REST shapes and status codes, the token, and state that survives a restart.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const TOKEN: &str = "sandbox-test-token";

/// A running sandbox, stopped by its pid when dropped.
struct Sandbox {
    child: Child,
    url: String,
}

impl Sandbox {
    fn start(data: &Path, seeds: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
        command.args(["sandbox", "--listen", "127.0.0.1:0", "--token", TOKEN]).arg("--data").arg(data);
        for seed in seeds {
            command.args(["--seed", seed]);
        }
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("sandbox: listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
        Sandbox { child, url }
    }

    fn git_url(&self, full_name: &str, token: &str) -> String {
        format!("{}/{full_name}.git", self.url.replacen("http://", &format!("http://x-access-token:{token}@"), 1))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("token {token}"));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn git(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("git")
        .args(["-c", "user.name=tester", "-c", "user.email=tester@example.invalid"])
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn examples_naive() -> String {
    format!("acme/naive={}", Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/naive").display())
}

#[tokio::test]
async fn the_rest_api_answers_in_githubs_shapes_behind_the_token() {
    let data = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(data.path(), &[&examples_naive()]);
    let repo_url = format!("{}/api/v3/repos/acme/naive", sandbox.url);

    let (status, body) = get(&repo_url, None).await;
    assert_eq!((status, body["message"].as_str()), (401, Some("Bad credentials")));
    let (status, body) = get(&repo_url, Some("wrong")).await;
    assert_eq!(status, 401, "{body}");

    let (status, repo) = get(&repo_url, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(repo["full_name"], "acme/naive");
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(repo["owner"]["login"], "acme");
    assert_eq!(repo["clone_url"], format!("{}/acme/naive.git", sandbox.url));
    assert!(repo["id"].as_u64().is_some());

    let (status, body) = get(&format!("{}/api/v3/repos/acme/absent", sandbox.url), Some(TOKEN)).await;
    assert_eq!((status, body["message"].as_str(), body["status"].as_str()), (404, Some("Not Found"), Some("404")));
}

#[tokio::test]
async fn git_clones_and_pushes_and_everything_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let first_id;
    {
        let sandbox = Sandbox::start(data.path(), &[&examples_naive()]);
        first_id = get(&format!("{}/api/v3/repos/acme/naive", sandbox.url), Some(TOKEN)).await.1["id"].clone();

        let (ok, log) = git(work.path(), &["clone", &sandbox.git_url("acme/naive", "wrong"), "denied"]);
        assert!(!ok, "a clone with a wrong token must fail: {log}");

        let (ok, log) = git(work.path(), &["clone", &sandbox.git_url("acme/naive", TOKEN), "clone"]);
        assert!(ok, "{log}");
        let clone = work.path().join("clone");
        let seeded = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/naive/Dockerfile"));
        assert_eq!(std::fs::read_to_string(clone.join("Dockerfile")).unwrap(), seeded.unwrap());
        assert_eq!(git(&clone, &["log", "--format=%s"]).1, "Initial commit\n");

        std::fs::write(clone.join("NOTE"), "pushed\n").unwrap();
        assert!(git(&clone, &["add", "NOTE"]).0);
        assert!(git(&clone, &["commit", "-q", "-m", "a pushed commit"]).0);
        let (ok, log) = git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/harden/all"]);
        assert!(ok, "{log}");
    }
    // Restarted without seeds: the repository, its id and the pushed branch are still there.
    let sandbox = Sandbox::start(data.path(), &[]);
    let (status, repo) = get(&format!("{}/api/v3/repos/acme/naive", sandbox.url), Some(TOKEN)).await;
    assert_eq!((status, &repo["id"]), (200, &first_id));
    let (ok, refs) = git(work.path(), &["ls-remote", &sandbox.git_url("acme/naive", TOKEN)]);
    assert!(ok && refs.contains("refs/heads/harden/all") && refs.contains("refs/heads/main"), "{refs}");
}
