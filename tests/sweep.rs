//! `harden sweep` end to end: the real binary against the real sandbox, over organisations of
//! real git repositories. The sandbox's request log (`DATA/requests.log`: method, path, status)
//! is the witness of what the sweep asked and wrote; the forge's pull requests and branches are
//! the witness of what it left.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Org, Sandbox, TOKEN, copy, get, project};
use serde_json::{Value, json};

const ORG: &str = "acme";

/// The organisation of the end-to-end test: one repository of each kind a sweep meets.
fn mixed_org() -> Org {
    // Already hardened: what `harden fix --write` made of the naive service.
    let hardened = tempfile::tempdir().unwrap();
    copy(&project("examples/naive"), hardened.path());
    let fixed = Command::new(env!("CARGO_BIN_EXE_harden")).arg("fix").arg("--write").arg(hardened.path()).output();
    assert!(fixed.unwrap().status.success());
    let naive = project("examples/naive");
    let naive = Some(naive.as_path());
    Org::new()
        .repo("api", naive, &[], json!({"topics": ["service"]}))
        .repo("hardened", Some(hardened.path()), &[], json!({}))
        .repo(
            "site",
            None,
            &[("Dockerfile", "FROM nginx:1.27\nCOPY index.html /usr/share/nginx/html/\n"), ("index.html", "hi\n")],
            json!({"language": "HTML"}),
        )
        .repo("lib", None, &[("go.mod", "module example.com/lib\n\ngo 1.22\n"), ("lib.go", "package lib\n")], json!({}))
        .repo("legacy", naive, &[], json!({"archived": true}))
        .repo("upstream-fork", naive, &[], json!({"fork": true}))
        .repo("empty", None, &[], json!({"empty": true}))
        .repo("quiet", naive, &[(".github/harden.yml", "sweep:\n  enabled: false\n")], json!({}))
        .repo("shell", Some(&project("tests/verify/needs-shell")), &[], json!({}))
}

/// True when the test rig's Docker engine is there for build proofs.
fn docker() -> bool {
    if std::env::var_os("HARDEN_SKIP_DOCKER").is_some() {
        eprintln!("HARDEN_SKIP_DOCKER is set: the build proofs of this test are SKIPPED");
        return false;
    }
    assert!(
        std::env::var_os("HARDEN_DOCKER").is_some(),
        "HARDEN_DOCKER is not set: run tests/rig/up.sh and source its env file (or set HARDEN_SKIP_DOCKER=1)"
    );
    true
}

/// `harden sweep ARGS` against the sandbox with `--format json`, the state in `state`.
fn sweep(sandbox: &Sandbox, state: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = harden(sandbox, state, &[&["sweep", "--format", "json"][..], args].concat()).output().unwrap();
    let (code, stdout, stderr) = parts(&out);
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("no JSON summary:\n{stdout}\n{stderr}"));
    (code, summary, stderr)
}

/// The command `harden ARGS` against the sandbox, with the test token and `--state`.
fn harden(sandbox: &Sandbox, state: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
    command.args(args).args(["--api-url", &sandbox.api(), "--mutation-gap-ms", "20"]).arg("--state").arg(state);
    command.env("GITHUB_TOKEN", TOKEN).env_remove("HARDEN_LOG");
    command
}

fn parts(out: &Output) -> (Option<i32>, String, String) {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the token appears in harden's output");
    (out.status.code(), stdout.into_owned(), stderr.into_owned())
}

/// The lines of the sandbox's request log.
fn journal(data: &Path) -> Vec<String> {
    let log = std::fs::read_to_string(data.join("requests.log")).unwrap_or_default();
    log.lines().filter(|l| l.contains(" /api/v3/")).map(str::to_string).collect()
}

/// The lines of a result file (`--results`), each checked against its published JSON Schema.
fn result_lines(path: &Path) -> Vec<Value> {
    let schema: Value = serde_json::from_str(include_str!("../schema/sweep-result.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    for line in &lines {
        let errors: Vec<String> =
            validator.iter_errors(line).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{line} does not follow schema/sweep-result.schema.json: {errors:#?}");
    }
    lines
}

/// The repositories' outcomes, from the per-repository JSON log lines.
fn outcomes(stderr: &str) -> BTreeMap<String, String> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "repository done")
        .map(|l| (l["fields"]["repo"].as_str().unwrap().into(), l["fields"]["outcome"].as_str().unwrap().into()))
        .collect()
}

/// Every pull request of the organisation's repositories `names`, as `repo#number state`.
async fn pulls(sandbox: &Sandbox, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let (status, list) = get(&format!("{}/repos/{ORG}/{name}/pulls?state=all", sandbox.api()), Some(TOKEN)).await;
        if status == 404 {
            continue;
        }
        for pull in list.as_array().unwrap() {
            out.push(format!("{name}#{} {}", pull["number"], pull["state"].as_str().unwrap()));
        }
    }
    out
}

/// The branches of a repository other than `main`.
async fn branches(sandbox: &Sandbox, name: &str) -> Vec<String> {
    let (_, refs) = get(&format!("{}/repos/{ORG}/{name}/git/matching-refs/heads/", sandbox.api()), Some(TOKEN)).await;
    let refs = refs.as_array().cloned().unwrap_or_default();
    refs.iter().filter_map(|r| r["ref"].as_str()).filter(|r| *r != "refs/heads/main").map(str::to_string).collect()
}

const MIXED: &[&str] = &["api", "hardened", "site", "lib", "legacy", "upstream-fork", "empty", "quiet", "shell"];

#[tokio::test]
async fn an_organisation_sweep_opens_exactly_the_pull_requests_it_should_and_a_repeat_costs_nothing() {
    let proof = docker();
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let org = mixed_org();
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let db = state.path().join("harden.db");
    let verify = if proof { "true" } else { "false" };

    let results = state.path().join("results.jsonl");
    let (code, summary, stderr) =
        sweep(&sandbox, &db, &["--org", ORG, "--verify", verify, "--results", results.to_str().unwrap()]);
    let seen = outcomes(&stderr);
    // The result file says the same as the log, in its published shape, one line a repository.
    let lines = result_lines(&results);
    let written: BTreeMap<String, String> = lines
        .iter()
        .map(|l| (l["repo"].as_str().unwrap().to_string(), l["outcome"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!((written, lines.len()), (seen.clone(), MIXED.len()));
    let api = lines.iter().find(|l| l["repo"] == "acme/api").unwrap();
    assert_eq!((api["pull"].as_u64(), api["shard"].as_str(), api["org"].as_str()), (Some(1), Some("1/1"), Some(ORG)));
    let expect = |name: &str| seen.get(&format!("{ORG}/{name}")).map(String::as_str);
    assert_eq!(expect("api"), Some("opened"), "{stderr}");
    assert_eq!(expect("hardened"), Some("nothing_to_do"));
    assert_eq!(expect("site"), Some("nothing_to_do"));
    assert_eq!(expect("lib"), Some("no_candidates"));
    assert_eq!(expect("legacy"), Some("skipped"));
    assert_eq!(expect("upstream-fork"), Some("skipped"));
    assert_eq!(expect("empty"), Some("skipped"));
    assert_eq!(expect("quiet"), Some("skipped"));
    // The service whose hardened image cannot start (it needs a shell) fails its proof: no pull
    // request, and the sweep says so in its exit code. Without an engine the proof is skipped.
    assert_eq!(expect("shell"), Some(if proof { "failed" } else { "opened" }), "{stderr}");
    assert_eq!(code, Some(if proof { 1 } else { 0 }), "{summary}");
    assert_eq!(summary["repositories"], 9, "{summary}");
    let opened: Vec<String> =
        if proof { vec!["api#1 open".into()] } else { vec!["api#1 open".into(), "shell#1 open".into()] };
    assert_eq!(pulls(&sandbox, MIXED).await, opened);
    assert!(summary["skipped"].as_object().unwrap().keys().any(|k| k.starts_with("archived")), "{summary}");
    assert_eq!(summary["skipped"]["opted out by its configuration"], 1, "{summary}");

    // A second sweep: nothing changed, so it writes nothing and every request is a free 304.
    let before = journal(data.path()).len();
    let (code, summary, stderr) = sweep(&sandbox, &db, &["--org", ORG, "--verify", verify]);
    assert_eq!(code, Some(0), "{stderr}");
    let second = journal(data.path())[before..].to_vec();
    assert!(!second.is_empty());
    assert!(second.iter().all(|l| l.starts_with("GET ") && l.ends_with(" 304")), "{second:#?}");
    assert_eq!(summary["rate_limit_spent"], 0, "{summary}");
    assert_eq!(summary["outcomes"]["opened"], Value::Null, "{summary}");

    // The state is only a cache: without it, the sweep finds harden's pull request again from its
    // branch and opens no other.
    std::fs::remove_file(&db).unwrap();
    let before = journal(data.path()).len();
    let (_, _, stderr) = sweep(&sandbox, &db, &["--org", ORG, "--verify", verify]);
    assert_eq!(outcomes(&stderr).get("acme/api").map(String::as_str), Some("up_to_date"), "{stderr}");
    let writes: Vec<String> =
        journal(data.path())[before..].iter().filter(|l| !l.starts_with("GET ")).cloned().collect();
    assert!(writes.is_empty(), "{writes:#?}");
    assert_eq!(pulls(&sandbox, MIXED).await, opened);

    // The campaign: status lists it; close withdraws it, with a comment, and deletes the branch.
    let out = harden(&sandbox, &db, &["sweep", "status", "--org", ORG, "--format", "json"]).output().unwrap();
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, Some(0), "{stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    let listed: Vec<String> = status["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}#{} {}",
                p["repo"].as_str().unwrap().trim_start_matches("acme/"),
                p["number"],
                p["state"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(listed, opened);
    let out = harden(&sandbox, &db, &["sweep", "close", "--org", ORG]).output().unwrap();
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("closed {} pull request(s) in acme", opened.len())), "{stdout}");
    let closed: Vec<String> = opened.iter().map(|p| p.replace(" open", " closed")).collect();
    assert_eq!(pulls(&sandbox, MIXED).await, closed);
    assert!(branches(&sandbox, "api").await.is_empty(), "the branch is deleted with the pull request");
    let (_, comments) = get(&format!("{}/repos/{ORG}/api/issues/1/comments", sandbox.api()), Some(TOKEN)).await;
    assert!(comments[0]["body"].as_str().unwrap().contains("no longer runs harden"), "{comments}");
}

#[tokio::test]
async fn pacing_opens_the_hours_budget_and_schedules_the_rest_in_order() {
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let org = Org::new().services(5);
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let db = state.path().join("harden.db");
    let args = ["--org", ORG, "--verify", "false", "--per-hour", "2"];
    // A folder that does not exist yet is made, as for --state.
    let results = state.path().join("out/results.jsonl");
    let (code, summary, stderr) =
        sweep(&sandbox, &db, &[&args[..], &["--results", results.to_str().unwrap()]].concat());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!((summary["outcomes"]["opened"].as_u64(), summary["outcomes"]["scheduled"].as_u64()), (Some(2), Some(3)));
    assert_eq!(result_lines(&results).iter().filter(|l| l["outcome"] == "scheduled" && l["pull"].is_null()).count(), 3);
    let names = ["svc-1", "svc-2", "svc-3", "svc-4", "svc-5"];
    assert_eq!(pulls(&sandbox, &names).await.len(), 2);
    let estimates: Vec<String> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["outcome"] == "scheduled")
        .map(|l| l["fields"]["detail"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(estimates.len(), 3);
    assert!(estimates.iter().all(|e| e.contains("2 pull requests an hour at most: about ")), "{estimates:#?}");
    // In order: the first waits for the first opening to be an hour old, the third for a second hour.
    assert!(estimates[0] <= estimates[1] && estimates[1] < estimates[2], "{estimates:#?}");

    // Within the hour, the next sweep opens nothing more, and still says when.
    let (_, summary, _) = sweep(&sandbox, &db, &args);
    assert_eq!(summary["outcomes"]["scheduled"].as_u64(), Some(3), "{summary}");
    assert_eq!(pulls(&sandbox, &names).await.len(), 2);
}

#[tokio::test]
async fn shards_take_each_repository_once_and_their_merge_equals_one_sweep() {
    let org = Org::new().services(4).repo("lib", None, &[("go.mod", "module x\n")], json!({}));
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG), "--generate-org", "gen=30"]);
    let mut lines = Vec::new();
    let mut files = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let results = state.path().join(format!("shard-{}.jsonl", &shard[..1]));
        let db = state.path().join(format!("shard-{}.db", &shard[..1]));
        let args = ["--org", "gen", "--verify", "false", "--shard", shard, "--results", results.to_str().unwrap()];
        let (code, _, stderr) = sweep(&sandbox, &db, &args);
        assert_eq!(code, Some(0), "{stderr}");
        let written = result_lines(&results);
        assert!(written.iter().all(|l| l["shard"] == shard), "{written:#?}");
        lines.extend(written.iter().map(|l| l["repo"].as_str().unwrap().to_string()));
        files.push(results);
    }
    let mut repos = lines.clone();
    repos.sort();
    repos.dedup();
    assert_eq!(repos.len(), lines.len(), "a repository in two shards");
    assert_eq!(repos.len(), 30, "every repository in one shard");

    let mut merge = Command::new(env!("CARGO_BIN_EXE_harden"));
    merge.args(["sweep", "merge", "--format", "json", "--state"]).arg(state.path().join("merged.db"));
    let out = merge.args(&files).output().unwrap();
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, Some(0), "{stderr}");
    let merged: Value = serde_json::from_str(&stdout).unwrap();

    // One sweep of the same organisation on a fresh forge.
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--generate-org", "gen=30"]);
    let (_, single, _) = sweep(&sandbox, &state.path().join("one.db"), &["--org", "gen", "--verify", "false"]);
    for key in ["repositories", "outcomes", "skipped", "candidates"] {
        assert_eq!(merged[key], single[key], "{key}: {merged} != {single}");
    }
    assert_eq!(single["outcomes"]["opened"], 2, "svc-0000 and svc-0020 have a Dockerfile to harden: {single}");
}

/// Kills the sweep again and again (SIGKILL, at different points) until a run finishes.
#[tokio::test]
async fn a_sweep_killed_at_any_point_finishes_with_every_repository_done_once() {
    let org = Org::new().services(6);
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Slow writes, so that some kills land in the middle of opening a pull request.
    let faults = ["--fault", "slow:POST:/git/refs", "--fault", "slow:POST:/pulls", "--fault", "slow:POST:/git/commits"];
    let sandbox = Sandbox::start_with(data.path(), &[], &[&["--seed-org", &org.seed(ORG)][..], &faults[..]].concat());
    let db = state.path().join("harden.db");
    let results = state.path().join("results.jsonl");
    let args = ["sweep", "--org", ORG, "--verify", "false", "--format", "json", "--results", results.to_str().unwrap()];
    let mut kills = 0;
    let finished = loop {
        let mut child = harden(&sandbox, &db, &args).stdout(std::process::Stdio::piped()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700 + 400 * kills));
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        assert!(kills < 40, "the sweep never finished");
    };
    assert!(kills >= 2, "the sweep was not killed mid-run");
    assert_eq!(finished.status.code(), Some(0));
    let text = std::fs::read_to_string(&results).unwrap();
    let mut done: Vec<String> =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["repo"].as_str().unwrap().to_string()).collect();
    done.sort();
    let expected: Vec<String> = (1..=6).map(|i| format!("{ORG}/svc-{i}")).collect();
    assert_eq!(done, expected, "the finished run accounts for every repository exactly once");
    let names: Vec<String> = (1..=6).map(|i| format!("svc-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let open = pulls(&sandbox, &names).await;
    assert_eq!(open, names.iter().map(|n| format!("{n}#1 open")).collect::<Vec<_>>(), "one pull request each");
    for name in &names {
        assert_eq!(branches(&sandbox, name).await, ["refs/heads/harden/all"], "{name}: an orphan or missing branch");
    }
}

#[tokio::test]
async fn faults_leave_no_duplicate_and_no_orphan() {
    let org = Org::new().services(3);
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let faults = [
        "--fault",
        "secondary:POST:/pulls",
        "--fault",
        "502-after:POST:/git/refs",
        "--fault",
        "drop-after:POST:/pulls",
        "--fault",
        "502-after:GET:/git/trees/main",
    ];
    let sandbox = Sandbox::start_with(data.path(), &[], &[&["--seed-org", &org.seed(ORG)][..], &faults[..]].concat());
    let db = state.path().join("harden.db");
    let (code, summary, stderr) = sweep(&sandbox, &db, &["--org", ORG, "--verify", "false"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["outcomes"]["opened"], 3, "{summary}");
    let names = ["svc-1", "svc-2", "svc-3"];
    assert_eq!(pulls(&sandbox, &names).await, ["svc-1#1 open", "svc-2#1 open", "svc-3#1 open"]);
    for name in names {
        assert_eq!(branches(&sandbox, name).await, ["refs/heads/harden/all"], "{name}");
    }
    let log = journal(data.path());
    assert!(log.iter().any(|l| l.starts_with("POST") && l.ends_with(" 403")), "the secondary limit fired: {log:#?}");
}

#[tokio::test]
async fn an_app_sweeps_its_installations_and_a_file_names_repositories() {
    let (_keys, key, public) = common::app_keys();
    let org = Org::new().services(2);
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = ["--app-id", "42", "--app-public-key", public.to_str().unwrap(), "--seed-org", &org.seed(ORG)];
    let sandbox = Sandbox::spawn(data.path(), &[], &app);
    let mut command = harden(&sandbox, &state.path().join("app.db"), &["sweep", "--installation", "--format", "json"]);
    command
        .args(["--verify", "false", "--app-id", "42", "--app-key", key.to_str().unwrap()])
        .env_remove("GITHUB_TOKEN");
    let (code, stdout, stderr) = parts(&command.output().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["outcomes"]["opened"], 2, "{summary}");
    assert!(journal(data.path()).iter().any(|l| l.starts_with("GET /api/v3/installation/repositories")));

    // A file of names: just those, through a token.
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let list: PathBuf = state.path().join("repos.txt");
    std::fs::write(&list, "# the pilot\nacme/svc-2\n").unwrap();
    let (code, summary, stderr) =
        sweep(&sandbox, &state.path().join("file.db"), &["--repos", list.to_str().unwrap(), "--verify", "false"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!((summary["repositories"].as_u64(), summary["outcomes"]["opened"].as_u64()), (Some(1), Some(1)));
    assert_eq!(pulls(&sandbox, &["svc-1", "svc-2"]).await, ["svc-2#1 open"]);
}

#[tokio::test]
async fn a_wrong_configuration_is_reported_with_its_line_and_costs_only_its_repository() {
    // A repository's own broken configuration: that repository fails with the file and line,
    // the others are done.
    let org = Org::new().services(2).repo(
        "broken",
        Some(&project("examples/naive")),
        &[(".github/harden.yml", "propose: security\nsweep:\n  mode: sometimes\n")],
        json!({}),
    );
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let (code, summary, stderr) = sweep(&sandbox, &state.path().join("a.db"), &["--org", ORG, "--verify", "false"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(summary["outcomes"]["opened"], 2, "{summary}");
    let failures = summary["failures"].to_string();
    assert!(failures.contains("acme/broken") && failures.contains(".github/harden.yml:3"), "{summary}");

    // The organisation's broken configuration: nothing is swept (whether a repository opted in
    // cannot be known), exit 2, and the file and line are said.
    let org = Org::new().services(2).repo(".github", None, &[("harden.yml", "sweep:\n  mode: sometimes\n")], json!({}));
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let out =
        harden(&sandbox, &state.path().join("b.db"), &["sweep", "--org", ORG, "--verify", "false"]).output().unwrap();
    let (code, _, stderr) = parts(&out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("acme/.github/harden.yml:2"), "{stderr}");
    assert!(journal(data.path()).iter().all(|l| l.starts_with("GET ")), "nothing is written");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_leaves_the_state_as_it_was() {
    let org = Org::new().services(2);
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let db = state.path().join("harden.db");
    let args = ["--org", ORG, "--verify", "false"];
    let (code, summary, stderr) = sweep(&sandbox, &db, &[&args[..], &["--dry-run"]].concat());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!((summary["dry_run"].as_bool(), summary["candidates"].as_u64()), (Some(true), Some(2)), "{summary}");
    assert!(journal(data.path()).iter().all(|l| l.starts_with("GET ")), "a dry run writes nothing");
    assert!(pulls(&sandbox, &["svc-1", "svc-2"]).await.is_empty());
    let said: Vec<String> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "repository done")
        .map(|l| l["fields"]["detail"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(said, ["dry run: harden's pull request would be opened (2 file(s))"; 2], "{stderr}");

    // The real sweep after it is not misled by what the dry run saw: it opens both.
    let (code, summary, stderr) = sweep(&sandbox, &db, &args);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["outcomes"]["opened"], 2, "{summary}");
    assert_eq!(pulls(&sandbox, &["svc-1", "svc-2"]).await, ["svc-1#1 open", "svc-2#1 open"]);

    // `close --dry-run` says what it would close and closes nothing.
    let before = journal(data.path()).len();
    let out = harden(&sandbox, &db, &["sweep", "close", "--org", ORG, "--dry-run"]).output().unwrap();
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("svc-1") && stdout.contains("svc-2"), "{stdout}");
    assert!(journal(data.path())[before..].iter().all(|l| l.starts_with("GET ")));
    assert_eq!(pulls(&sandbox, &["svc-1", "svc-2"]).await, ["svc-1#1 open", "svc-2#1 open"]);
}

#[tokio::test]
async fn a_truncated_tree_is_listed_in_parts_and_its_candidates_found() {
    // The service sits two directories down, beside docs the forge lists first; the forge cuts
    // the recursive tree after 3 entries, as GitHub does past its limit.
    let naive = project("examples/naive");
    let text = |name: &str| std::fs::read_to_string(naive.join(name)).unwrap();
    let (dockerfile, go_mod, main_go) = (text("Dockerfile"), text("go.mod"), text("main.go"));
    let files = [
        ("docs/a.md", "a\n"),
        ("docs/b.md", "b\n"),
        ("docs/c.md", "c\n"),
        ("services/api/Dockerfile", dockerfile.as_str()),
        ("services/api/go.mod", go_mod.as_str()),
        ("services/api/main.go", main_go.as_str()),
    ];
    let org = Org::new().repo("mono", None, &files, json!({}));
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG), "--tree-limit", "3"]);
    let (code, summary, stderr) = sweep(&sandbox, &state.path().join("t.db"), &["--org", ORG, "--verify", "false"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["outcomes"]["opened"], 1, "{summary}\n{stderr}");
    let parts = journal(data.path())
        .iter()
        .filter(|l| l.starts_with("GET /api/v3/repos/acme/mono/git/trees/") && !l.contains("recursive"))
        .count();
    assert!(parts >= 3, "the root, services/ and services/api/ were listed one by one ({parts})");
}

#[tokio::test]
async fn a_wrong_command_line_exits_2_with_what_is_wrong() {
    let org = Org::new().services(1);
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let db = state.path().join("w.db");
    let list = state.path().join("repos.txt");
    std::fs::write(&list, "acme/svc-1\njust-a-name\n").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--org", ORG, "--include", "[oops"], "--include/--exclude"),
        (&["--repos", list.to_str().unwrap()], "just-a-name: expected OWNER/NAME"),
        (&["--repos", "/nonexistent/repos.txt"], "--repos /nonexistent/repos.txt"),
        (&["--installation"], "--installation needs a GitHub App"),
    ];
    for (args, says) in cases {
        let out = harden(&sandbox, &db, &[&["sweep"][..], args, &["--verify", "false"]].concat()).output().unwrap();
        let (code, _, stderr) = parts(&out);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(journal(data.path()).iter().all(|l| l.starts_with("GET ")), "nothing is written");
}

#[tokio::test]
async fn a_changed_organisation_configuration_is_applied_to_unchanged_repositories() {
    let org = Org::new().services(2).repo(".github", None, &[("harden.yml", "sweep:\n  mode: opt-in\n")], json!({}));
    let (data, state, work) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let db = state.path().join("c.db");
    let args = ["--org", ORG, "--verify", "false"];
    // Opt-in, and no repository opted in: nothing opens, and a repeat costs only 304s.
    let (_, summary, stderr) = sweep(&sandbox, &db, &args);
    assert_eq!(summary["outcomes"]["opened"], Value::Null, "{summary}\n{stderr}");
    let (_, summary, _) = sweep(&sandbox, &db, &args);
    assert_eq!(summary["rate_limit_spent"], 0, "{summary}");

    // The organisation turns to opt-out: its services' trees did not change, yet both open now.
    let dir = work.path().join("dotgithub");
    let (ok, log) =
        common::git(work.path(), &["clone", "-q", &sandbox.git_url("acme/.github", TOKEN), dir.to_str().unwrap()]);
    assert!(ok, "{log}");
    std::fs::write(dir.join("harden.yml"), "sweep:\n  mode: opt-out\n").unwrap();
    assert!(common::git(&dir, &["commit", "-qam", "sweep every repository"]).0);
    assert!(common::git(&dir, &["push", "-q", "origin", "HEAD"]).0);
    let (code, summary, stderr) = sweep(&sandbox, &db, &args);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["outcomes"]["opened"], 2, "{summary}\n{stderr}");
}

#[tokio::test]
async fn a_chart_whose_values_would_be_hardened_gets_a_pull_request_and_one_whose_schema_refuses_them_does_not() {
    let chart = project("tests/fixtures/k8s-helm-values/input");
    // The schema keeps the pod's securityContext to what it lists, so harden's fields fail it.
    let closed = "{\"type\": \"object\", \"properties\": {\"podSecurityContext\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {\"fsGroup\": {\"type\": \"integer\"}}}}}\n";
    let org = Org::new().repo("ledger", Some(&chart), &[], json!({})).repo(
        "schema",
        Some(&chart),
        &[("chart/values.schema.json", closed)],
        json!({}),
    );
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = Sandbox::start_with(data.path(), &[], &["--seed-org", &org.seed(ORG)]);
    let (code, summary, stderr) = sweep(&sandbox, &state.path().join("c.db"), &["--org", ORG, "--verify", "false"]);
    assert_eq!(code, Some(0), "{stderr}");
    let seen = outcomes(&stderr);
    // The look reads the chart's templates with its values.yaml; the pull request changes values.yaml.
    assert_eq!(seen.get("acme/ledger").map(String::as_str), Some("opened"), "{stderr}");
    assert_eq!(seen.get("acme/schema").map(String::as_str), Some("nothing_to_do"), "{summary}");
    let (_, pull) = get(&format!("{}/repos/{ORG}/ledger/pulls/1", sandbox.api()), Some(TOKEN)).await;
    let head = pull["head"]["ref"].as_str().unwrap();
    let values = |reference: &str| {
        let url = format!("{}/repos/{ORG}/ledger/contents/chart/values.yaml?ref={reference}", sandbox.api());
        async move {
            let (_, file) = get(&url, Some(TOKEN)).await;
            let content: String = file["content"].as_str().unwrap().split_whitespace().collect();
            String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, content).unwrap())
                .unwrap()
        }
    };
    let (before, after) = (values("main").await, values(head).await);
    assert!(!before.contains("seccompProfile") && after.contains("seccompProfile"), "{after}");
    let hardened =
        std::fs::read_to_string(project("tests/fixtures/k8s-helm-values/expected/chart/values.yaml")).unwrap();
    assert_eq!(after, hardened, "the pull request proposes what harden fix writes");
}
