//! The `harden` binary end to end: formats, exit codes, `--write`, errors with lines.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const NAIVE: &str = "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o server .\nCMD [\"./server\"]\n";

fn harden(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_harden")).args(args).current_dir(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn json_report_has_the_documented_shape() {
    let dir = repo(&[
        ("svc/Dockerfile", NAIVE),
        ("svc/go.mod", "module example.com/svc\n\ngo 1.22\n"),
        ("web/Dockerfile", "FROM node:20\nCMD [\"node\", \"x.js\"]\n"),
        ("bad/Dockerfile", "FROM golang:1.22\nRUN <<EOF\ngo build .\n"),
    ]);
    let (code, stdout, _) = harden(&["scan", "--format", "json"], dir.path());
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let by_path = |p: &str| files.iter().find(|f| f["path"] == p).unwrap_or_else(|| panic!("{p} in {stdout}"));
    let svc = by_path("svc/Dockerfile");
    assert_eq!(svc["kind"], "dockerfile");
    assert_eq!(svc["status"], "changed");
    let finding = &svc["findings"][0];
    for key in ["rule", "severity", "line", "message", "fixed"] {
        assert!(finding.get(key).is_some(), "finding lacks {key}: {finding}");
    }
    assert!(svc["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "HD106" && f["fixed"] == true));
    assert_eq!(by_path("web/Dockerfile")["status"], "skipped");
    let bad = by_path("bad/Dockerfile");
    assert_eq!(bad["status"], "error");
    assert!(bad["reason"].as_str().unwrap().contains("line"), "{bad}");
}

#[test]
fn fail_on_counts_what_remains() {
    let dir = repo(&[("Dockerfile", NAIVE), ("go.mod", "module x\n\ngo 1.22\n")]);
    assert_eq!(harden(&["scan", "--fail-on", "error"], dir.path()).0, 1, "HD106 is an error before the fix");
    assert_eq!(harden(&["fix", "--fail-on", "error"], dir.path()).0, 0, "the fix resolves every error");
    assert_eq!(harden(&["fix", "--fail-on", "info"], dir.path()).0, 1, "the base images stay unpinned");
    // A here-document that never ends: BuildKit refuses the file too.
    let bad = repo(&[("Dockerfile", "FROM golang\nRUN <<EOF\ngo build .\n")]);
    assert_eq!(harden(&["scan", "--fail-on", "error"], bad.path()).0, 1, "a file that cannot be parsed is an error");
}

#[test]
fn fix_prints_a_diff_and_write_applies_it_once() {
    let dir = repo(&[("Dockerfile", NAIVE), ("go.mod", "module x\n\ngo 1.22\n")]);
    let (_, diff, notes) = harden(&["fix"], dir.path());
    assert!(diff.starts_with("--- a/Dockerfile\n+++ b/Dockerfile\n"), "{diff}");
    // The diff alone on standard output; what it does not show, on standard error.
    assert!(notes.starts_with("1 file: 1 changed, 0 unchanged, 0 skipped, 0 errors;"), "{notes}");
    assert!(notes.contains("(`harden scan` says why each file is left as it is)"), "{notes}");
    assert!(diff.contains("+FROM gcr.io/distroless/static-debian13:nonroot"));
    assert_eq!(std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(), NAIVE, "no --write, no change");

    let (code, _, _) = harden(&["fix", "--write"], dir.path());
    assert_eq!(code, 0);
    let written = std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap();
    assert!(written.contains("USER 65532:65532"));
    let (_, again, _) = harden(&["fix", "--format", "json"], dir.path());
    let doc: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(doc["files"][0]["status"], "unchanged");
}

#[test]
fn a_rewrite_of_build_edits_only_says_pr_holds_it_back() {
    let built = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n\n\
                 FROM gcr.io/distroless/static-debian13:nonroot\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n";
    let dir = repo(&[("flags/Dockerfile", built), ("root/Dockerfile", NAIVE), ("go.mod", "module x\n\ngo 1.22\n")]);
    let (_, report, _) = harden(&["scan"], dir.path());
    let status =
        |path: &str| report.lines().find(|l| l.starts_with(path)).unwrap_or_else(|| panic!("{path}: {report}"));
    assert!(status("flags/Dockerfile:").contains("build edits only: `harden pr` proposes them beside"), "{report}");
    assert_eq!(status("root/Dockerfile:"), "root/Dockerfile: can be fixed", "a security change says nothing more");
}

#[test]
fn sarif_carries_every_finding_with_a_location() {
    let dir = repo(&[("Dockerfile", NAIVE)]);
    let (_, json, _) = harden(&["scan", "--format", "json"], dir.path());
    let findings = serde_json::from_str::<Value>(&json).unwrap()["files"][0]["findings"].as_array().unwrap().len();
    let (_, sarif, _) = harden(&["scan", "--format", "sarif"], dir.path());
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "harden");
    let rules: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], r["ruleId"].as_str().unwrap());
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let location = &r["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "Dockerfile");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
    }
}

#[test]
fn rules_lists_the_catalogue() {
    let (code, text, _) = harden(&["rules"], Path::new("."));
    assert_eq!(code, 0);
    for rule in harden::rules::ALL {
        assert!(text.contains(rule.id) && text.contains(rule.name), "{} missing", rule.id);
    }
    let (_, json, _) = harden(&["rules", "--format", "json"], Path::new("."));
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap().as_array().unwrap().len(), harden::rules::ALL.len());
}

#[test]
fn a_bad_config_is_reported_with_its_line_and_nothing_is_rewritten() {
    let dir = repo(&[("Dockerfile", NAIVE), (".harden.yml", "ignore: []\nruntimes: {}\n")]);
    let (_, json, _) = harden(&["fix", "--write", "--format", "json"], dir.path());
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["files"][0]["status"], "error");
    assert!(doc["files"][0]["reason"].as_str().unwrap().contains(".harden.yml:2"), "{json}");
    assert_eq!(std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(), NAIVE);
}

#[test]
fn disabled_rules_and_ignored_paths_are_honoured() {
    let config = "disable: [HD110]\nignore: [legacy/]\n";
    let dir = repo(&[("Dockerfile", NAIVE), ("legacy/Dockerfile", NAIVE), (".github/harden.yml", config)]);
    let (_, json, _) = harden(&["scan", "--format", "json"], dir.path());
    let doc: Value = serde_json::from_str(&json).unwrap();
    let files: Vec<&Value> = doc["files"].as_array().unwrap().iter().filter(|f| f["kind"] == "dockerfile").collect();
    assert_eq!(files.len(), 1, "legacy/ is ignored: {json}");
    assert!(files[0]["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "HD110"));
}

#[test]
fn vendored_code_is_left_alone_unless_the_configuration_asks() {
    let files =
        [("Dockerfile", NAIVE), ("vendor/github.com/x/y/Dockerfile", NAIVE), ("pkg/testdata/Dockerfile", NAIVE)];
    let paths = |dir: &Path| -> Vec<String> {
        let (_, json, _) = harden(&["scan", "--format", "json"], dir);
        let doc: Value = serde_json::from_str(&json).unwrap();
        doc["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect()
    };
    // The directories passed over are listed as such, so the report says what it did not read.
    assert_eq!(paths(repo(&files).path()), ["Dockerfile", "pkg/testdata/", "vendor/"]);
    let mut walked = files.to_vec();
    walked.push((".harden.yml", "default_ignores: false\n"));
    let all = paths(repo(&walked).path());
    assert_eq!(all.iter().filter(|p| p.ends_with("Dockerfile")).count(), 3, "{all:?}");
    assert!(!all.iter().any(|p| p.ends_with('/')), "every directory is walked: {all:?}");
}

#[test]
fn the_readme_documents_every_rule() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for rule in harden::rules::ALL {
        let row = format!("| {} | {} | {} |", rule.id, rule.name, rule.severity.as_str());
        assert!(readme.contains(&row), "README lacks the row for {}: {row}", rule.id);
    }
}

#[test]
fn the_readme_shows_every_example_workflow_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for entry in std::fs::read_dir(root.join("examples/workflows")).unwrap() {
        let path = entry.unwrap().path();
        let workflow = std::fs::read_to_string(&path).unwrap();
        assert!(readme.contains(&format!("```yaml\n{workflow}```")), "README lacks {} as it is", path.display());
    }
}

#[cfg(unix)]
#[test]
fn a_directory_that_cannot_be_listed_is_an_error_entry_and_the_walk_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo(&[("svc/Dockerfile", NAIVE), ("locked/Dockerfile", NAIVE)]);
    // The checks run as an unprivileged user: root reads any directory. Both the tree and a
    // copy of the binary are made reachable for that user.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary = dir.path().join("harden-bin");
    // A hard link when the tree shares the build's file system (a debug binary is large).
    std::fs::hard_link(env!("CARGO_BIN_EXE_harden"), &binary)
        .or_else(|_| std::fs::copy(env!("CARGO_BIN_EXE_harden"), &binary).map(drop))
        .unwrap();
    std::fs::set_permissions(dir.path().join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let uid = Command::new("id").arg("-u").output().unwrap();
    let mut command = if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(&binary);
        c
    } else {
        Command::new(&binary)
    };
    let out =
        command.args(["scan", "--format", "json", "--fail-on", "error"]).current_dir(dir.path()).output().unwrap();
    std::fs::set_permissions(dir.path().join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    let locked = files.iter().find(|f| f["path"] == "locked").unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(locked["status"], "error");
    assert!(locked["reason"].as_str().unwrap().contains("cannot list this directory"), "{locked}");
    assert!(files.iter().any(|f| f["path"] == "svc/Dockerfile" && f["status"] == "changed"), "{stdout}");
}

/// The README's table: 0 nothing to report or done, 1 findings at `--fail-on` remain, 2 the
/// command line or a configuration is wrong, 3 the forge or the engine failed; for every command.
#[test]
fn exit_codes_mean_the_same_for_every_command() {
    let clean = repo(&[("README.md", "no container here\n")]);
    let naive = repo(&[("Dockerfile", NAIVE), ("go.mod", "module x\n\ngo 1.22\n")]);
    let misconfigured = repo(&[("Dockerfile", NAIVE), (".harden.yml", "runtimes: {}\n")]);
    let here = Path::new(".");
    assert_eq!(harden(&["scan", "--fail-on", "info"], clean.path()).0, 0, "nothing to report");
    assert_eq!(harden(&["rules"], here).0, 0);
    assert_eq!(harden(&["scan", "--fail-on", "warning"], naive.path()).0, 1, "findings remain");
    assert_eq!(harden(&["fix", "--fail-on", "info"], naive.path()).0, 1, "unpinned bases remain");
    assert_eq!(harden(&["fix", "--write", "--fail-on", "error"], naive.path()).0, 0, "done: every error fixed");

    assert_eq!(harden(&[], here).0, 2, "no command");
    for command in ["scan", "fix", "verify", "pr", "sandbox", "demo", "rules"] {
        assert_eq!(harden(&[command, "--no-such-flag"], here).0, 2, "harden {command} --no-such-flag");
    }
    for args in [&["scan"][..], &["fix"], &["verify", "--docker", "/nonexistent/docker"]] {
        let (code, _, stderr) = harden(args, misconfigured.path());
        assert_eq!(code, 2, "harden {args:?} with an invalid .harden.yml: {stderr}");
    }
    let elsewhere = misconfigured.path().join(".harden.yml");
    let (code, stdout, _) = harden(&["scan", "--config", elsewhere.to_str().unwrap()], clean.path());
    assert_eq!(code, 2, "an invalid --config file: {stdout}");
    assert_eq!(harden(&["pr", "--repo", "no-slash", "--token", "t"], here).0, 2, "--repo without OWNER/");
    let pr = ["pr", "--repo", "acme/svc", "--token", "t", "--mutation-gap-ms", "0"];

    let (code, _, stderr) = harden(&["verify", "--docker", "/nonexistent/docker"], naive.path());
    assert_eq!(code, 3, "no engine: {stderr}");
    let (code, _, stderr) = harden(&[&pr[..], &["--verify", "true", "--docker", "/nonexistent/docker"]].concat(), here);
    assert_eq!(code, 3, "--verify true without an engine: {stderr}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let api = format!("http://{closed}/api/v3");
    let (code, _, stderr) = harden(&[&pr[..], &["--verify", "false", "--api-url", &api]].concat(), here);
    assert_eq!(code, 3, "no forge answers: {stderr}");
    // `fix --pin` whose registry does not answer: the diff stands, and stderr names the image.
    let unreachable = format!(
        "FROM {closed}/library/golang:1.24 AS build\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/app .\n\nFROM {closed}/distroless/static-debian13:nonroot\nCOPY --from=build /out/app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n"
    );
    let hardened = repo(&[("Dockerfile", &unreachable), ("go.mod", "module x\n\ngo 1.24\n")]);
    let (code, _, stderr) = harden(&["fix", "--pin"], hardened.path());
    assert_eq!(code, 3, "no registry answers: {stderr}");
    assert!(stderr.contains(&format!("Dockerfile: not pinned by digest: {closed}/library/golang:1.24 (")), "{stderr}");
    assert_eq!(harden(&["fix"], hardened.path()).0, 0, "no pin asked for");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let (code, _, stderr) = harden(&["sandbox", "--listen", &listen, "--data", data.path().to_str().unwrap()], here);
    assert_eq!(code, 3, "the sandbox cannot listen: {stderr}");
}

#[test]
fn with_github_a_scan_annotates_sets_outputs_writes_the_summary_and_the_sarif() {
    let dir = repo(&[("svc/Dockerfile", NAIVE), ("svc/go.mod", "module x\n\ngo 1.22\n")]);
    let runner = tempfile::tempdir().unwrap();
    let (output, summary, sarif) =
        (runner.path().join("output"), runner.path().join("summary.md"), runner.path().join("harden.sarif"));
    std::fs::write(&summary, "an earlier step's summary\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["scan", "--github", "--fail-on", "error", "--sarif-category", "svc", "--sarif"])
        .arg(&sarif)
        .current_dir(dir.path())
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "HD106 is an error");
    let (_, json, _) = harden(&["scan", "--format", "json"], dir.path());
    let findings = serde_json::from_str::<Value>(&json).unwrap()["files"][0]["findings"].as_array().unwrap().clone();
    let root = findings.iter().find(|f| f["rule"] == "HD106").unwrap();

    let stdout = String::from_utf8(out.stdout).unwrap();
    // The report, which prints the repository's paths, is fenced off from the runner's commands.
    let token = stdout.lines().next().and_then(|l| l.strip_prefix("::stop-commands::")).expect(&stdout);
    let (report, after) = stdout.split_once(&format!("\n::{token}::\n")).expect(&stdout);
    assert!(report.contains("svc/Dockerfile: can be fixed") && !after.contains("can be fixed"), "{stdout}");
    let annotation = format!("::error file=svc/Dockerfile,line={},title=HD106::", root["line"]);
    assert!(after.lines().any(|l| l.starts_with(&annotation)), "{annotation} in\n{stdout}");
    let shown: usize = ["error", "warning", "info"]
        .iter()
        .map(|level| findings.iter().filter(|f| f["severity"] == *level).count().min(10))
        .sum();
    assert_eq!(after.lines().filter(|l| l.starts_with("::")).count(), shown, "{stdout}");

    let outputs = std::fs::read_to_string(&output).unwrap();
    let fixable = findings.iter().filter(|f| f["fixed"] == true).count();
    for line in [
        format!("findings={}", findings.len()),
        format!("fixable={fixable}"),
        r#"changed-files=["svc/Dockerfile"]"#.to_string(),
        format!("sarif-file={}", sarif.display()),
    ] {
        assert!(outputs.lines().any(|l| l == line), "{line} in\n{outputs}");
    }
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("an earlier step's summary\n### harden scan\n"), "appended:\n{summary}");
    assert!(summary.contains(&format!("| `svc/Dockerfile` | {} | HD106 runs-as-root | error |", root["line"])));

    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(log["runs"][0]["automationDetails"]["id"], "svc/");
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), findings.len());
}

#[test]
fn one_file_gets_the_answer_the_whole_repository_gets() {
    // The Compose file at the root runs the image with a shell: the runtime keeps its shell,
    // whether harden is given the repository, the service's directory or its Dockerfile.
    let dockerfile = "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/svc .\n\nFROM alpine:3.20\nCOPY --from=build /out/svc /usr/local/bin/svc\nUSER 65532:65532\nCMD [\"svc\"]\n";
    let dir = repo(&[
        ("svc/Dockerfile", dockerfile),
        ("svc/go.mod", "module example.com/svc\n\ngo 1.23\n"),
        ("svc/main.go", "package main\n\nfunc main() {}\n"),
        ("compose.yaml", "services:\n  svc:\n    build: ./svc\n    command: [\"sh\", \"-c\", \"svc --warm && svc\"]\n"),
        ("deploy/overlay/kustomization.yaml", "resources: [../base]\npatches:\n- path: patch.yaml\n"),
        ("deploy/overlay/patch.yaml", "kind: Deployment\nmetadata:\n  name: svc\nspec:\n  replicas: 2\n"),
        // A program its Dockerfile names (`./cmd/web`), not one beside it, that binds port 80.
        (
            "web/Dockerfile",
            "FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/web ./cmd/web\n\nFROM alpine:3.22\nCOPY --from=build /out/web /web\nENTRYPOINT [\"/web\"]\n",
        ),
        ("web/go.mod", "module example.com/web\n\ngo 1.26\n"),
        (
            "web/cmd/web/main.go",
            "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":80\", nil)\n}\n",
        ),
    ]);
    let runtime = |args: &[&str]| {
        let (_, out, err) = harden(args, dir.path());
        assert!(!out.contains("+FROM gcr.io/distroless"), "{args:?} moved the runtime:\n{out}{err}");
    };
    runtime(&["fix", "."]);
    runtime(&["fix", "svc"]);
    runtime(&["fix", "svc/Dockerfile"]);
    for path in ["web", "web/Dockerfile"] {
        let (_, out, _) = harden(&["scan", path], dir.path());
        let known =
            out.contains("cmd/web/main.go:6") && !out.contains("which of its programs the image runs is not known");
        assert!(known, "scan {path} did not read the program it builds:\n{out}");
    }
    let (_, out, _) = harden(&["scan", "deploy/overlay/patch.yaml"], dir.path());
    assert!(out.contains("skipped (a kustomize patch (listed in deploy/overlay/kustomization.yaml)"), "{out}");
}

#[test]
fn a_bundle_too_large_to_read_is_named_by_the_render_that_writes_it() {
    let mut bundle = String::from("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: controller\n");
    while bundle.len() < 1_100_000 {
        bundle.push_str("# padding for a bundle of many custom resource definitions\n");
    }
    let dir = repo(&[
        ("Makefile", "manifests:\n\tkustomize build config/default > dist/install.yaml\n"),
        ("config/default/kustomization.yaml", "resources: []\n"),
        ("dist/install.yaml", &bundle),
    ]);
    let (_, stdout, _) = harden(&["scan", "--format", "text"], dir.path());
    let line = stdout.lines().find(|l| l.starts_with("dist/install.yaml: ")).unwrap_or_default();
    assert!(line.contains("skipped (rendered by `kustomize build` in Makefile:2"), "{stdout}");
}

#[test]
fn a_retired_project_is_said_to_get_no_unasked_pull_request() {
    let dir = repo(&[
        ("README.md", "# Relay\n\n**This project is no longer maintained.** Use its successor.\n"),
        ("Dockerfile", NAIVE),
        ("go.mod", "module example.com/relay\n\ngo 1.22\n"),
    ]);
    let (_, _, stderr) = harden(&["fix"], dir.path());
    assert!(stderr.contains("README.md:3 says the project is retired"), "{stderr}");
    let live = repo(&[("README.md", "# Relay\n\nA relay.\n"), ("Dockerfile", NAIVE)]);
    let (_, _, stderr) = harden(&["scan"], live.path());
    assert!(!stderr.contains("retired"), "{stderr}");
}
