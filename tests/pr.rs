//! `harden pr` end to end: the real binary against the real sandbox (real git over smart HTTP,
//! real state), and for the first run a real build proof on the Docker engine of the test rig.
//! The sandbox's request log (`DATA/requests.log`) shows every API write harden made.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Sandbox, TOKEN, docker_available, get, git, project, send};
use serde_json::{Value, json};

const REPO: &str = "acme/svc";

/// [`common::service`] with CODEOWNERS.
fn service() -> tempfile::TempDir {
    let dir = common::service();
    std::fs::create_dir_all(dir.path().join(".github")).unwrap();
    std::fs::write(dir.path().join(".github/CODEOWNERS"), "* @acme/platform\ndeploy/ @alice\n").unwrap();
    dir
}

/// One `harden pr` run: whether it succeeded, and everything it printed (with trace logging on,
/// so the test can look for the token in every log line). Without `proof`, the docker command is
/// one that does not exist, so the build proof is skipped and says so.
fn harden_pr(sandbox: &Sandbox, proof: bool) -> (bool, String) {
    let (code, printed) = harden_pr_exit(sandbox, proof);
    (code == Some(0), printed)
}

/// [`harden_pr`] with the exit code.
fn harden_pr_exit(sandbox: &Sandbox, proof: bool) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
    command.args(["pr", "--repo", REPO, "--api-url", &sandbox.api(), "--mutation-gap-ms", "20"]);
    if !proof {
        command.args(["--docker", "/nonexistent/docker"]);
    }
    let out = command.env("GITHUB_TOKEN", TOKEN).env("HARDEN_LOG", "trace").env("NO_COLOR", "1").output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!printed.contains(TOKEN), "the token appears in harden's output:\n{printed}");
    (out.status.code(), printed)
}

/// The API writes in the sandbox's request log so far.
fn writes(data: &Path) -> Vec<String> {
    let log = std::fs::read_to_string(data.join("requests.log")).unwrap_or_default();
    assert!(!log.contains(TOKEN), "the token appears in the sandbox's request log");
    log.lines().filter(|l| l.contains(" /api/v3/") && !l.starts_with("GET ")).map(str::to_string).collect()
}

async fn pulls(sandbox: &Sandbox) -> Vec<Value> {
    let (status, list) = get(&format!("{}/repos/{REPO}/pulls?state=all", sandbox.api()), Some(TOKEN)).await;
    assert_eq!(status, 200);
    list.as_array().unwrap().clone()
}

async fn branch_head(sandbox: &Sandbox, branch: &str) -> Option<String> {
    let (status, reference) = get(&format!("{}/repos/{REPO}/git/ref/heads/{branch}", sandbox.api()), Some(TOKEN)).await;
    (status == 200).then(|| reference["object"]["sha"].as_str().unwrap().to_string())
}

/// Clones `branch` of the repository into `dir`.
fn clone(sandbox: &Sandbox, branch: &str, dir: &Path) -> std::path::PathBuf {
    let target = dir.join(branch.replace('/', "-"));
    let (ok, log) = git(dir, &["clone", "-q", "-b", branch, &sandbox.git_url(REPO, TOKEN), target.to_str().unwrap()]);
    assert!(ok, "{log}");
    target
}

/// Commits a change to `file` on main, as a human would, and pushes it.
fn push_to_main(sandbox: &Sandbox, dir: &Path, file: &str, text: &str) {
    let main = clone(sandbox, "main", dir);
    std::fs::write(main.join(file), text).unwrap();
    assert!(git(&main, &["commit", "-qam", "a human change"]).0);
    let (ok, log) = git(&main, &["push", "-q", "origin", "main"]);
    assert!(ok, "{log}");
    std::fs::remove_dir_all(main).unwrap();
}

#[tokio::test]
async fn the_first_run_opens_one_proven_pull_request_and_the_second_writes_nothing() {
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let proof = docker_available();

    let (ok, printed) = harden_pr(&sandbox, proof);
    assert!(ok, "{printed}");
    assert!(printed.contains("opened pull request #1"), "{printed}");
    let all = pulls(&sandbox).await;
    assert_eq!(all.len(), 1, "exactly one pull request");
    let pull = &all[0];
    assert_eq!((pull["head"]["ref"].as_str(), pull["base"]["ref"].as_str()), (Some("harden/all"), Some("main")));
    let body = pull["body"].as_str().unwrap();
    let meta = harden::propose::fingerprint::Meta::from_body(body).expect("the hidden metadata");
    assert_eq!(meta.files, ["Dockerfile", "deploy/app.yaml"]);
    if proof {
        assert!(body.contains("### Build proof") && body.contains("| `Dockerfile` |"), "the size table:\n{body}");
        assert!(body.contains("proven"), "{body}");
        // What the images carry: the shell and the package manager gone, the packages removed listed.
        assert!(body.contains("| packages | shell | package manager |") && body.contains("→ none"), "{body}");
        assert!(body.contains("packages removed from <code>Dockerfile</code>'s image"), "{body}");
    } else {
        assert!(body.contains("The build proof was skipped"), "{body}");
    }
    let labels: Vec<&str> = pull["labels"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(labels, ["security", "harden"]);
    assert_eq!(pull["requested_reviewers"][0]["login"], "alice", "the owner of deploy/ (CODEOWNERS)");
    assert_eq!(pull["requested_teams"][0]["slug"], "platform", "the owner of the Dockerfile (CODEOWNERS)");

    // The branch holds exactly what `harden fix` writes, in one commit on main.
    let branch = clone(&sandbox, "harden/all", work.path());
    let fixed = Command::new(env!("CARGO_BIN_EXE_harden")).args(["fix", "--write"]).arg(seed.path()).output().unwrap();
    assert!(fixed.status.success());
    for file in ["Dockerfile", "deploy/app.yaml"] {
        let ours = std::fs::read_to_string(seed.path().join(file)).unwrap();
        assert_eq!(std::fs::read_to_string(branch.join(file)).unwrap(), ours, "{file}");
    }
    assert!(std::fs::read_to_string(branch.join("Dockerfile")).unwrap().contains("USER 65532:65532"));
    let (_, log) = git(&branch, &["log", "--format=%s%n%b"]);
    assert!(log.starts_with("harden: 1 Dockerfile and 1 manifest\n"), "{log}");
    assert!(log.contains(&format!("Harden-Fingerprint: {}", meta.fingerprint)), "{log}");
    assert_eq!(git(&branch, &["rev-list", "--count", "HEAD"]).1.trim(), "2", "one commit on top of main");

    let before = writes(data.path());
    let (ok, printed) = harden_pr(&sandbox, proof);
    assert!(ok, "{printed}");
    assert!(printed.contains("nothing written: pull request #1 is up to date (0 API writes)"), "{printed}");
    assert_eq!(writes(data.path()), before, "the second run wrote nothing");
}

#[tokio::test]
async fn a_changed_input_updates_the_same_pull_request_from_the_new_base() {
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let dry = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["pr", "--repo", REPO, "--api-url", &sandbox.api(), "--docker", "/nonexistent/docker", "--dry-run"])
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&dry.stdout);
    assert!(printed.starts_with("dry run, nothing written: harden would have opened a pull request"), "{printed}");
    assert!(printed.contains("<!-- harden:meta "), "the body it would write: {printed}");
    assert!(writes(data.path()).is_empty() && pulls(&sandbox).await.is_empty(), "a dry run writes nothing");
    assert!(harden_pr(&sandbox, false).0);
    let first = pulls(&sandbox).await[0]["body"].as_str().unwrap().to_string();

    let manifest = std::fs::read_to_string(seed.path().join("deploy/app.yaml")).unwrap().replace("svc:1.0", "svc:1.1");
    push_to_main(&sandbox, work.path(), "deploy/app.yaml", &manifest);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("updated pull request #1"), "{printed}");
    let all = pulls(&sandbox).await;
    assert_eq!(all.len(), 1, "the same pull request, not a new one");
    let body = all[0]["body"].as_str().unwrap();
    let (old, new) =
        (harden::propose::fingerprint::Meta::from_body(&first), harden::propose::fingerprint::Meta::from_body(body));
    assert_ne!(old.unwrap().fingerprint, new.unwrap().fingerprint);
    let branch = clone(&sandbox, "harden/all", work.path());
    assert!(std::fs::read_to_string(branch.join("deploy/app.yaml")).unwrap().contains("svc:1.1"));
    let main_head = branch_head(&sandbox, "main").await.unwrap();
    assert_eq!(git(&branch, &["rev-parse", "HEAD^"]).1.trim(), main_head, "regenerated on the new base");
}

#[tokio::test]
async fn a_pull_request_closed_without_merging_is_never_recreated_and_told_once() {
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    assert!(harden_pr(&sandbox, false).0);
    // A long discussion, so harden's notice lands on the second page of comments; then a "no".
    for i in 0..120 {
        let url = format!("{}/repos/{REPO}/issues/1/comments", sandbox.api());
        assert_eq!(send(reqwest::Method::POST, &url, json!({"body": format!("review {i}")})).await.0, 201);
    }
    let (status, _) =
        send(reqwest::Method::PATCH, &format!("{}/repos/{REPO}/pulls/1", sandbox.api()), json!({"state": "closed"}))
            .await;
    assert_eq!(status, 200);
    drop(sandbox);
    // Restarted on the same state: the notice's first POST is done but answered 502, where a
    // blind retry would post it twice.
    let sandbox = Sandbox::start_with(data.path(), &[], &["--fault", "502-after:POST:/comments"]);

    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("commented on pull request #1"), "{printed}");
    let log = std::fs::read_to_string(data.path().join("requests.log")).unwrap();
    assert!(log.contains("POST /api/v3/repos/acme/svc/issues/1/comments 502"), "the fault fired:\n{log}");
    let before = writes(data.path());
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("nothing written"), "{printed}");
    assert_eq!(writes(data.path()), before, "told once, then silent");
    let all = pulls(&sandbox).await;
    assert_eq!((all.len(), all[0]["state"].as_str()), (1, Some("closed")), "never reopened or recreated");
    let page_two = format!("{}/repos/{REPO}/issues/1/comments?per_page=100&page=2", sandbox.api());
    let (_, comments) = get(&page_two, Some(TOKEN)).await;
    let comments = comments.as_array().unwrap();
    let notices = comments.iter().filter(|c| c["body"].as_str().unwrap().contains("/harden recreate")).count();
    assert_eq!((comments.len(), notices), (21, 1), "120 reviews and one notice, found on the second page");
}

#[tokio::test]
async fn a_human_commit_on_the_branch_stops_every_push() {
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    assert!(harden_pr(&sandbox, false).0);
    let branch = clone(&sandbox, "harden/all", work.path());
    std::fs::write(branch.join("NOTES.md"), "a reviewer's fix\n").unwrap();
    assert!(git(&branch, &["add", "NOTES.md"]).0 && git(&branch, &["commit", "-qm", "reviewer fix"]).0);
    assert!(git(&branch, &["push", "-q", "origin", "harden/all"]).0);
    let human = branch_head(&sandbox, "harden/all").await.unwrap();
    // New inputs on main would otherwise make harden regenerate the branch.
    let dockerfile = std::fs::read_to_string(seed.path().join("Dockerfile")).unwrap() + "# changed\n";
    push_to_main(&sandbox, work.path(), "Dockerfile", &dockerfile);

    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("commented on pull request #1"), "{printed}");
    assert_eq!(branch_head(&sandbox, "harden/all").await.unwrap(), human, "the human's commit stays on top");
    let before = writes(data.path());
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("nothing written"), "{printed}");
    assert_eq!(writes(data.path()), before);
    assert_eq!(branch_head(&sandbox, "harden/all").await.unwrap(), human);
}

#[tokio::test]
async fn with_faults_the_run_completes_with_one_pull_request_and_no_orphan_branch() {
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    let seeds = [format!("{REPO}={}", seed.path().display())];
    let faults = [
        "--fault",
        "secondary:POST:/git/trees",
        "--fault",
        "drop-after:POST:/git/refs",
        "--fault",
        "502-after:POST:/pulls",
        "--fault",
        "500:POST:/labels",
        "--fault",
        "slow:GET:/pulls/1",
    ];
    {
        let sandbox = Sandbox::start_with(data.path(), &[&seeds[0]], &faults);
        let (ok, printed) = harden_pr(&sandbox, false);
        assert!(ok, "{printed}");
        let all = pulls(&sandbox).await;
        assert_eq!(all.len(), 1, "no duplicate pull request: {all:?}");
        assert_eq!(all[0]["head"]["sha"].as_str(), branch_head(&sandbox, "harden/all").await.as_deref());
        let log = std::fs::read_to_string(data.path().join("requests.log")).unwrap();
        for fault in ["POST /api/v3/repos/acme/svc/git/trees 403", "dropped", "pulls 502", "labels 500"] {
            assert!(log.contains(fault), "the fault `{fault}` fired:\n{log}");
        }
    }
    // When the pull request cannot be opened at all, the branch this run made is removed.
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    let refused = ["--fault", "500:POST:/pulls"].repeat(5);
    let sandbox = Sandbox::start_with(data.path(), &[&format!("{REPO}={}", seed.path().display())], &refused);
    let (code, printed) = harden_pr_exit(&sandbox, false);
    assert_eq!(code, Some(3), "the forge failed: {printed}");
    assert!(printed.contains("500"), "the failure is explained: {printed}");
    assert!(pulls(&sandbox).await.is_empty());
    assert_eq!(branch_head(&sandbox, "harden/all").await, None, "no orphan branch");
}

#[test]
fn the_demo_opens_a_pull_request_on_its_own_sandbox_and_says_when_the_proof_was_skipped() {
    let state = tempfile::tempdir().unwrap();
    let db = state.path().join("demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["demo", "--docker", "/nonexistent/docker", "--state"])
        .arg(&db)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("holds acme/hello, the example Go service"), "{printed}");
    assert!(printed.contains("opened pull request #1 http://127.0.0.1:"), "{printed}");
    assert!(printed.contains("The build proof was skipped: cannot run /nonexistent/docker"), "{printed}");
    assert!(printed.contains("#### `Dockerfile`") && printed.contains("#### `deploy/hello.yaml`"), "{printed}");
    assert!(printed.contains("<!-- harden:meta "), "{printed}");
    // Recorded for the dashboard: the pull request and its (public) repository.
    let store = harden::store::sqlite::Sqlite::open(&db).unwrap();
    use harden::store::Store;
    assert_eq!(
        store.pulls("acme").unwrap().iter().map(|p| (p.number, p.state.as_str())).collect::<Vec<_>>(),
        [(1, "open")]
    );
    assert!(!store.repo("acme/hello").unwrap().expect("the demo's repository").private);
}

#[tokio::test]
async fn a_github_app_gets_an_installation_token_and_opens_the_pull_request_with_it() {
    let (_keys, key, public) = common::app_keys();
    // Through the Git Data API, and on a forge without it (git pushes with the installation token).
    for forge in [&[][..], &["--no-git-data-writes"][..]] {
        let (data, seed) = (tempfile::tempdir().unwrap(), service());
        let app = [&["--app-id", "42", "--app-public-key", public.to_str().unwrap()][..], forge].concat();
        let sandbox = Sandbox::spawn(data.path(), &[&format!("{REPO}={}", seed.path().display())], &app);
        let run = |app_id: &str| {
            let out = Command::new(env!("CARGO_BIN_EXE_harden"))
                .args(["pr", "--repo", REPO, "--api-url", &sandbox.api(), "--docker", "/nonexistent/docker"])
                .args(["--app-id", app_id, "--app-key", key.to_str().unwrap(), "--mutation-gap-ms", "20"])
                .env_remove("GITHUB_TOKEN")
                .output()
                .unwrap();
            let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            (out.status.success(), printed)
        };
        let (ok, printed) = run("41");
        assert!(!ok && printed.contains("'Issuer' claim"), "another App's key is refused: {printed}");
        let (ok, printed) = run("42");
        assert!(ok && printed.contains("opened pull request #1"), "{forge:?}: {printed}");
        let log = std::fs::read_to_string(data.path().join("requests.log")).unwrap();
        assert!(log.contains("POST /api/v3/app/installations/1/access_tokens 201"), "{log}");
        if !forge.is_empty() {
            assert!(log.contains("POST /acme/svc.git/git-receive-pack 200"), "pushed with the App's token:\n{log}");
        }
        // The sandbox has no other token: only the minted installation token opened the API and git.
        assert_eq!(get(&format!("{}/repos/{REPO}", sandbox.api()), Some(TOKEN)).await.0, 401);
    }
}

#[tokio::test]
async fn after_a_merge_there_is_nothing_to_do_and_a_revert_is_taken_as_a_no() {
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    assert!(harden_pr(&sandbox, false).0);
    let (status, merged) =
        send(reqwest::Method::PUT, &format!("{}/repos/{REPO}/pulls/1/merge", sandbox.api()), json!({})).await;
    assert_eq!((status, &merged["merged"]), (200, &json!(true)), "{merged}");
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("nothing written: nothing to change"), "{printed}");

    // A human reverts the merge: the same inputs as the merged pull request come back.
    let main = clone(&sandbox, "main", work.path());
    assert!(git(&main, &["revert", "--no-edit", "-m", "1", "HEAD"]).0);
    assert!(git(&main, &["push", "-q", "origin", "main"]).0);
    let before = writes(data.path());
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("reverted"), "{printed}");
    assert_eq!(writes(data.path()), before, "a revert is a no: nothing is proposed again");
    assert_eq!(pulls(&sandbox).await.len(), 1);
}

#[tokio::test]
async fn on_a_forge_without_the_git_data_api_harden_pushes_the_commit_with_git() {
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let seeds = [format!("{REPO}={}", seed.path().display())];
    let sandbox = Sandbox::start_with(data.path(), &[&seeds[0]], &["--no-git-data-writes"]);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("opened pull request #1"), "{printed}");
    let log = std::fs::read_to_string(data.path().join("requests.log")).unwrap();
    assert!(log.contains("POST /api/v3/repos/acme/svc/git/blobs 404"), "the API was tried first:\n{log}");
    assert!(log.contains("POST /acme/svc.git/git-receive-pack 200"), "then git pushed:\n{log}");
    let branch = clone(&sandbox, "harden/all", work.path());
    assert!(std::fs::read_to_string(branch.join("Dockerfile")).unwrap().contains("USER 65532:65532"));
    assert!(git(&branch, &["log", "-1", "--format=%B"]).1.contains("Harden-Fingerprint: "));
    let before = writes(data.path());
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("is up to date"), "its own pushed commit is recognised: {printed}");
    assert_eq!(writes(data.path()), before);

    // When the forge already holds every blob (someone pushed the same files elsewhere), creating
    // the tree is what answers 404: harden pushes then too.
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox =
        Sandbox::start_with(data.path(), &[&format!("{REPO}={}", seed.path().display())], &["--no-git-data-writes"]);
    let main = clone(&sandbox, "main", work.path());
    let fixed = Command::new(env!("CARGO_BIN_EXE_harden")).args(["fix", "--write"]).arg(&main).output().unwrap();
    assert!(fixed.status.success());
    assert!(git(&main, &["commit", "-qam", "hardened elsewhere"]).0);
    assert!(git(&main, &["push", "-q", "origin", "HEAD:refs/heads/elsewhere"]).0);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("opened pull request #1"), "{printed}");
    let log = std::fs::read_to_string(data.path().join("requests.log")).unwrap();
    assert!(log.contains("POST /api/v3/repos/acme/svc/git/trees 404"), "{log}");
    assert!(!log.contains("POST /api/v3/repos/acme/svc/git/blobs "), "no blob needed creating:\n{log}");
}

#[tokio::test]
async fn a_pull_request_made_obsolete_by_hand_is_closed_and_its_branch_removed() {
    let (data, seed, work) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    assert!(harden_pr(&sandbox, false).0);
    // The team hardens the files by hand, exactly as harden would have.
    let branch = clone(&sandbox, "harden/all", work.path());
    for file in ["Dockerfile", "deploy/app.yaml"] {
        push_to_main(&sandbox, work.path(), file, &std::fs::read_to_string(branch.join(file)).unwrap());
    }
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(
        ok && printed.contains("closed pull request #1 ") && printed.contains("nothing is left to change"),
        "{printed}"
    );
    assert_eq!(branch_head(&sandbox, "harden/all").await, None, "the branch is removed");
    let all = pulls(&sandbox).await;
    assert_eq!((all.len(), all[0]["state"].as_str()), (1, Some("closed")));
    assert!(all[0]["head"]["sha"].is_string(), "a closed pull request keeps its head commit");
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("nothing written: nothing to change"), "{printed}");

    // The hand-made hardening is reverted: harden's own close was no "no", so it proposes again.
    let main = clone(&sandbox, "main", work.path());
    assert!(git(&main, &["revert", "--no-edit", "HEAD~2..HEAD"]).0);
    assert!(git(&main, &["push", "-q", "origin", "main"]).0);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("opened pull request #2"), "{printed}");
}

#[tokio::test]
async fn a_malformed_file_is_named_with_its_line_and_the_rest_is_still_proposed() {
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    std::fs::write(seed.path().join("deploy/broken.yaml"), "apiVersion: v1\nkind: Pod\nspec: [unclosed\n").unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("opened pull request #1"), "{printed}");
    assert!(printed.contains("harden pr: deploy/broken.yaml: line "), "{printed}");
    let meta = harden::propose::fingerprint::Meta::from_body(pulls(&sandbox).await[0]["body"].as_str().unwrap());
    assert_eq!(meta.unwrap().files, ["Dockerfile", "deploy/app.yaml"]);
}

#[tokio::test]
async fn a_rewrite_whose_proof_fails_is_not_proposed_and_the_reason_is_said() {
    if !docker_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let seed = format!("{REPO}={}", project("tests/verify/needs-shell").display());
    let sandbox = Sandbox::start(data.path(), &[&seed]);
    let (ok, printed) = harden_pr(&sandbox, true);
    assert!(ok, "{printed}");
    assert!(
        printed.contains("nothing written: the build proof failed, so nothing is proposed: Dockerfile:"),
        "{printed}"
    );
    assert!(pulls(&sandbox).await.is_empty());
    assert_eq!(branch_head(&sandbox, "harden/all").await, None);
    assert!(writes(data.path()).is_empty(), "not a single write");
}

#[tokio::test]
async fn an_invalid_configuration_stops_the_run_with_its_path_and_line() {
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    std::fs::write(seed.path().join(".github/harden.yml"), "pull_request:\n  brnach: mine\n").unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (code, printed) = harden_pr_exit(&sandbox, false);
    assert_eq!(code, Some(2), "a configuration error: {printed}");
    assert!(printed.contains("harden pr: .github/harden.yml:2: "), "{printed}");
    assert!(writes(data.path()).is_empty() && pulls(&sandbox).await.is_empty());
}

#[test]
fn the_demo_can_keep_its_forge_serving_and_the_branch_clones() {
    use std::io::{BufRead, BufReader};
    let mut demo = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["demo", "--serve", "--docker", "/nonexistent/docker"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
    let clone = lines
        .by_ref()
        .map_while(Result::ok)
        .skip_while(|l| !l.starts_with("harden demo: serving until stopped"))
        .nth(1)
        .expect("the clone command");
    let work = tempfile::tempdir().unwrap();
    let args: Vec<&str> = clone.split_whitespace().skip(1).collect();
    let (ok, log) = git(work.path(), &[&args[..], &["hello"]].concat());
    let _ = demo.kill();
    let _ = demo.wait();
    assert!(ok, "{clone}: {log}");
    let dockerfile = std::fs::read_to_string(work.path().join("hello/Dockerfile")).unwrap();
    assert!(dockerfile.contains("USER 65532:65532"), "the branch holds the hardened Dockerfile");
}

#[tokio::test]
async fn with_github_the_outputs_name_the_pull_request_and_the_summary_says_what_was_done() {
    let (data, seed, runner) = (tempfile::tempdir().unwrap(), service(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (output, summary) = (runner.path().join("output"), runner.path().join("summary.md"));
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["pr", "--github", "--verify", "false", "--repo", REPO, "--api-url", &sandbox.api()])
        .args(["--mutation-gap-ms", "20"])
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    let pull = &pulls(&sandbox).await[0];
    let outputs = std::fs::read_to_string(&output).unwrap();
    let url = pull["html_url"].as_str().unwrap();
    for line in ["pr-number=1", &format!("pr-url={url}"), r#"changed-files=["Dockerfile","deploy/app.yaml"]"#] {
        assert!(outputs.lines().any(|l| l == line), "{line} in\n{outputs}");
    }
    assert!(!outputs.contains("bytes-saved"), "no proof, no sizes:\n{outputs}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with(&format!("### harden pr\n\nopened pull request #1 {url} ")), "{summary}");
    assert!(pull["body"].as_str().unwrap().contains("The build proof was skipped: it was turned off (--verify false)"));
}

/// The service with its base image moved where no registry here serves it, so the original does
/// not build here either.
fn unreachable_base() -> tempfile::TempDir {
    let seed = service();
    let dockerfile = seed.path().join("Dockerfile");
    let text = std::fs::read_to_string(&dockerfile)
        .unwrap()
        .replace("FROM golang:1.22", "FROM registry.invalid/acme/golang:1.22");
    std::fs::write(dockerfile, text).unwrap();
    seed
}

#[tokio::test]
async fn a_proof_that_cannot_run_here_is_proposed_as_skipped_unless_the_configuration_requires_it() {
    if !docker_available() {
        return;
    }
    let (data, seed) = (tempfile::tempdir().unwrap(), unreachable_base());
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (ok, printed) = harden_pr(&sandbox, true);
    assert!(ok && printed.contains("opened pull request #1"), "{printed}");
    let body = pulls(&sandbox).await[0]["body"].as_str().unwrap_or_default().to_string();
    assert!(
        body.contains("`Dockerfile` skipped: the original Dockerfile does not build here either: a base image cannot be pulled here"),
        "{body}"
    );
    assert!(!body.contains("failed"), "a proof that cannot run is no failed proof:\n{body}");

    let (data, seed) = (tempfile::tempdir().unwrap(), unreachable_base());
    std::fs::write(seed.path().join(".github/harden.yml"), "proof: required\n").unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (ok, printed) = harden_pr(&sandbox, true);
    assert!(ok, "{printed}");
    assert!(
        printed.contains("nothing written: the configuration requires the build proof (proof: required)"),
        "{printed}"
    );
    assert!(writes(data.path()).is_empty() && pulls(&sandbox).await.is_empty());
}

#[tokio::test]
async fn build_flags_alone_make_no_pull_request_unless_the_configuration_asks_for_all() {
    let hardened_but_flags = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /server .\n\nFROM gcr.io/distroless/static-debian13:nonroot\nCOPY --from=build /server /server\nUSER 65532:65532\nENTRYPOINT [\"/server\"]\n";
    let seed = tempfile::tempdir().unwrap();
    for file in ["go.mod", "main.go"] {
        std::fs::copy(project("examples/naive").join(file), seed.path().join(file)).unwrap();
    }
    std::fs::write(seed.path().join("Dockerfile"), hardened_but_flags).unwrap();
    let data = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok, "{printed}");
    assert!(
        printed.contains("nothing written: nothing to change that is a security change: 1 file would only get"),
        "{printed}"
    );
    assert!(writes(data.path()).is_empty() && pulls(&sandbox).await.is_empty());

    std::fs::write(seed.path().join(".harden.yml"), "propose: all\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("opened pull request #1"), "{printed}");
}

/// With `pull_request.dashboard_issue: true`, harden keeps exactly one issue listing its findings
/// and its pull request: opened once, rewritten only when what it says changes (a person's edit
/// is put back), and a second one carrying the marker is closed.
#[tokio::test]
async fn the_dashboard_issue_is_one_issue_kept_up_to_date() {
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    std::fs::write(seed.path().join(".github/harden.yml"), "pull_request:\n  dashboard_issue: true\n").unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let issues = || async {
        let (status, list) = get(&format!("{}/repos/{REPO}/issues?state=all", sandbox.api()), Some(TOKEN)).await;
        assert_eq!(status, 200);
        list.as_array().unwrap().clone()
    };
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok, "{printed}");
    let first = issues().await;
    assert_eq!(first.len(), 1, "{first:?}");
    let body = first[0]["body"].as_str().unwrap().to_string();
    assert_eq!(first[0]["title"], harden::propose::dashboard_issue::TITLE);
    assert!(body.contains(harden::propose::dashboard_issue::MARKER), "{body}");
    assert!(body.contains("**Pull request:** [#1]("), "{body}");
    assert!(body.contains("### `Dockerfile`") && body.contains("- [x] **HD106**"), "{body}");
    // A second run with nothing new writes nothing to the issue.
    let before = writes(data.path()).len();
    assert!(harden_pr(&sandbox, false).0);
    let issue_writes: Vec<String> =
        writes(data.path())[before..].iter().filter(|w| w.contains("/issues")).cloned().collect();
    assert!(issue_writes.is_empty(), "{issue_writes:?}");
    // A person edits it (the marker kept), and someone (a second run at once) opened another:
    // harden puts its words back in the first and closes the other.
    let number = first[0]["number"].as_u64().unwrap();
    let url = format!("{}/repos/{REPO}/issues", sandbox.api());
    let edited = json!({"body": format!("my notes\n{}", harden::propose::dashboard_issue::MARKER)});
    let (status, _) = send(reqwest::Method::PATCH, &format!("{url}/{number}"), edited).await;
    assert_eq!(status, 200);
    let extra = json!({"title": "harden: hardening dashboard", "body": format!("old\n{}", harden::propose::dashboard_issue::MARKER)});
    assert_eq!(send(reqwest::Method::POST, &url, extra).await.0, 201);
    assert!(harden_pr(&sandbox, false).0);
    let all = issues().await;
    let open: Vec<&Value> = all.iter().filter(|i| i["state"] == "open").collect();
    assert_eq!(open.len(), 1, "never more than one: {all:?}");
    assert_eq!((open[0]["number"].as_u64(), open[0]["body"].as_str()), (Some(number), Some(body.as_str())));
}

#[tokio::test]
async fn a_project_its_readme_calls_retired_gets_no_pull_request_nobody_asked_for() {
    let (data, seed) = (tempfile::tempdir().unwrap(), service());
    std::fs::write(seed.path().join("README.md"), "# svc\n\n> This project is no longer maintained: use svc2.\n")
        .unwrap();
    let sandbox = Sandbox::start(data.path(), &[&format!("{REPO}={}", seed.path().display())]);
    let (ok, printed) = harden_pr(&sandbox, false);
    assert!(ok && printed.contains("the README says the project is retired (README.md:3: "), "{printed}");
    assert!(pulls(&sandbox).await.is_empty());
    assert!(writes(data.path()).is_empty(), "not a single write");
}
