#!/usr/bin/env python3
"""checkov judges every Kubernetes workload harden rewrote in the fixtures.

For each fixture YAML whose expected file differs from its input (but a Helm chart's
values.yaml, which checkov could judge only through Helm), checkov (run offline with
--skip-download) must pass CKV_K8S_20, 22, 23, 28, 29, 30, 31, 37 and 40 on every workload in
it, except where harden itself reports the matching finding as not fixed (it says why) or the
workload or one of its containers was left alone on request.

A manifest that a kustomization beside it lists as a resource and patches with strategic merge
patches is judged as kustomize builds it (the patches merged in), since harden leaves to such a
patch what it sets (it neither reports those fields missing nor adds them to the base).

Usage: manifests.py HARDEN_BINARY CHECKOV_BINARY FIXTURES_DIR
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

CHECKS = ["CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_29",
          "CKV_K8S_30", "CKV_K8S_31", "CKV_K8S_37", "CKV_K8S_40"]
# checkov check -> the harden rules whose unfixed finding explains a failure (a container left
# alone fails every check: HK216, it runs an official image that starts as root; HK219, it
# listens on a port below 1024; HK221, its shell command writes where nothing is mounted; HK222,
# its image, built here, keeps root; HK224, a data store with no volume; HK225, another
# project's image; HK227, its binary's file capabilities need new privileges; HK229, it opens a
# raw block device; HK231, it reads an inline CSI volume whose files its driver owns; HK233, it
# mounts a volume in root's home; HK234, it writes to an NFS share, which takes no fsGroup).
EXPLAINED_BY = {
    "CKV_K8S_20": {"HK205", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_22": {"HK207", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_23": {"HK201", "HK215", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_28": {"HK206", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_29": {"HK201", "HK202", "HK203", "HK204", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_30": {"HK205", "HK206", "HK207", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_31": {"HK204", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_37": {"HK206", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
    "CKV_K8S_40": {"HK202", "HK215", "HK216", "HK219", "HK221", "HK222", "HK224", "HK225", "HK227", "HK229", "HK231", "HK233", "HK234"},
}


# checkov's Seccomp check (CKV_K8S_31) reads securityContext.seccompProfile only for Pod,
# Deployment, StatefulSet, DaemonSet, Job, ReplicaSet and CronJob; for a ReplicationController it
# looks only at the alpha annotation Kubernetes removed. harden writes the real field; the
# check cannot see it there, so that one pair is not judged.
CHECKOV_BLIND = {("ReplicationController", "CKV_K8S_31")}
# Workload kinds checkov does not read whose pod template is a Deployment's (Argo Rollouts'
# Rollout): they are judged as Deployments, and their results named by their own kind again.
AS_DEPLOYMENT = {"Rollout"}


def as_deployment(text):
    """`text` with each document of a kind in AS_DEPLOYMENT turned into a Deployment; and the names of those."""
    out, names = [], set()
    for doc in text.split("\n---"):
        lines = doc.splitlines()
        kind = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("kind:")), None)
        if kind in AS_DEPLOYMENT and "  template:" in lines:  # one by workloadRef has no pod to judge
            name = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("  name:")), None)
            names.add((kind, name))
            lines = ["apiVersion: apps/v1" if l.startswith("apiVersion:") else "kind: Deployment" if l.startswith("kind:") else l
                     for l in lines]
        out.append("\n".join(lines))
    return "\n---".join(out) + "\n", names


def merge(base, patch):
    """A strategic merge of `patch` into `base`, as kustomize does it for what the fixtures hold:
    mappings merged key by key, lists of named items (containers) merged by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(patch, list) and all(isinstance(i, dict) and "name" in i for i in base + patch):
        out = [dict(i) for i in base]
        for item in patch:
            at = next((n for n, b in enumerate(out) if b["name"] == item["name"]), None)
            if at is None:
                out.append(item)
            else:
                out[at] = merge(out[at], item)
        return out
    return patch


def kustomized(path):
    """The text of `path` as the kustomization beside it builds it: its strategic merge patches
    merged into the documents they name; `None` where none lists it and patches it."""
    kustomization = path.parent / "kustomization.yaml"
    if not kustomization.exists():
        return None
    k = yaml.safe_load(kustomization.read_text()) or {}
    if path.name not in (k.get("resources") or []):
        return None
    entries = [e.get("path") for e in k.get("patches") or [] if isinstance(e, dict) and "target" not in e]
    entries += k.get("patchesStrategicMerge") or []
    patches = [d for e in entries if e for d in yaml.safe_load_all((path.parent / e).read_text()) if isinstance(d, dict)]
    if not patches:
        return None
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for patch in patches:
        for n, doc in enumerate(docs):
            if (doc.get("kind"), doc.get("metadata", {}).get("name")) == (patch.get("kind"), patch.get("metadata", {}).get("name")):
                docs[n] = merge(doc, patch)
    return yaml.safe_dump_all(docs, sort_keys=False)


def harden_report(harden, case_input):
    """harden's report of the case, run as tests/fixtures.rs runs it: on a copy that is a
    repository of its own (`repo/` with a `.git`), not a directory inside this one."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(case_input, repo)
        (repo / ".git").mkdir()
        out = subprocess.run([harden, "fix", "--format", "json", str(repo)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["files"]


def checkov(binary, paths):
    """Runs checkov once over copies of `paths`; returns {path: (passed, failed)} of (workload, check)."""
    with tempfile.TemporaryDirectory() as tmp:
        names, renamed = {}, {}
        for i, path in enumerate(paths):
            name = f"f{i}{path.suffix}"
            text, kinds = as_deployment(path.read_text())
            (Path(tmp) / name).write_text(text)
            names[name] = path
            renamed[path] = {n: k for k, n in kinds}
        out = subprocess.run(
            [binary, "-d", tmp, "--framework", "kubernetes", "--skip-download", "-o", "json", "--check", ",".join(CHECKS)],
            capture_output=True, text=True)
    data = json.loads(out.stdout or "{}")
    reports = data if isinstance(data, list) else [data]
    results = {path: ([], []) for path in paths}

    def workload(r, path):  # resource "Deployment.default.api" -> workload id "Deployment/api"
        kind, _, name = r["resource"].split(".", 2)
        if kind == "Deployment" and name in renamed[path]:
            kind = renamed[path][name]
        return f"{kind}/{name}"

    for report in reports:
        for key, index in (("passed_checks", 0), ("failed_checks", 1)):
            for r in report.get("results", {}).get(key, []):
                path = names[Path(r["file_path"]).name]
                results[path][index].append((workload(r, path), r["check_id"]))
    return results


def main():
    harden, checkov_bin, fixtures = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    cases = []  # (name, expected path, harden's report of the file)
    for case in sorted(p for p in fixtures.iterdir() if p.is_dir() and p.name.startswith("k8s-")):
        reports = harden_report(harden, case / "input")
        for expected in sorted((case / "expected").rglob("*.y*ml")):
            rel = expected.relative_to(case / "expected")
            if (case / "input" / rel).read_bytes() == expected.read_bytes():
                continue
            # A chart's values.yaml is no manifest: checkov would need Helm, which is not here,
            # to render the chart (the fixtures and unit tests of src/kubernetes/chart.rs check it).
            if expected.name in ("values.yaml", "values.yml") and (expected.parent / "Chart.yaml").exists():
                continue
            # ko's configuration names the base its images run on: no manifest either (its
            # fixtures and the unit tests of src/ko.rs check it).
            if expected.name in (".ko.yaml", ".ko.yml"):
                continue
            # A chart's Chart.yaml, whose version harden raises with its values, is no manifest.
            if expected.name in ("Chart.yaml", "Chart.yml"):
                continue
            report = next((f for f in reports if f["path"].endswith(str(rel))), None)
            cases.append((f"{case.name}/{rel}", expected, report))
    built = tempfile.TemporaryDirectory()
    judged_paths = []  # what checkov reads for each case: the file, or kustomize's build of it
    for n, (_, expected, _) in enumerate(cases):
        text = kustomized(expected)
        if text is None:
            judged_paths.append(expected)
        else:
            judged_paths.append(Path(built.name) / f"k{n}{expected.suffix}")
            judged_paths[-1].write_text(text)
    by_path = checkov(checkov_bin, judged_paths)
    judged = {expected: by_path[path] for (_, expected, _), path in zip(cases, judged_paths)}
    passed_n, failed_n = 0, 0
    for name, expected, report in cases:
        passed, failed = judged[expected]
        problems = []
        if report is None:
            problems.append("harden did not report the file")
        elif not passed and not failed:
            problems.append("checkov judged nothing")
        else:
            unfixed = {}
            for f in report["findings"]:
                if not f["fixed"]:
                    unfixed.setdefault(f["message"].split(" ", 1)[0], set()).add(f["rule"])
            left_alone = (report.get("reason") or "").split("left alone as asked", 1)[-1]
            for workload, check in failed:
                if (workload.split("/", 1)[0], check) in CHECKOV_BLIND:
                    continue
                explained = EXPLAINED_BY[check] & unfixed.get(workload, set())
                if not explained and f" {workload}" not in left_alone and f"{workload}/" not in left_alone:
                    problems.append(f"{workload} fails {check}")
        if problems:
            failed_n += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            passed_n += 1
            print(f"ok   {name} ({len(passed)} checks passed, {len(failed)} failures harden explains)")
    print(f"{passed_n} passed, {failed_n} failed")
    return 1 if failed_n or not passed_n else 0


if __name__ == "__main__":
    sys.exit(main())
