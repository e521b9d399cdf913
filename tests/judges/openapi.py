#!/usr/bin/env python3
"""Judge: every answer `harden sandbox` gives matches GitHub's official OpenAPI description.

Starts the sandbox (seeded with examples/naive), walks the calls `harden pr` makes, and
validates each answer's status and body against the schema GitHub publishes for that operation
(npm package @octokit/openapi, file generated/api.github.com.deref.json).

Usage: openapi.py HARDEN_BINARY SPEC_JSON
"""
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema

TOKEN = "openapi-judge-token"


def nullable_to_json_schema(node):
    """OpenAPI 3.0 says `nullable: true`; JSON Schema says the type includes null."""
    if isinstance(node, list):
        return [nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: nullable_to_json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = node["enum"] + [None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def schema_for(spec, path, method, status):
    operation = spec["paths"][path][method]
    response = operation["responses"].get(str(status))
    if response is None:
        raise AssertionError(f"{method.upper()} {path}: GitHub never answers {status}")
    content = response.get("content", {}).get("application/json")
    return nullable_to_json_schema(content["schema"]) if content else None


def call(base, method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + "/api/v3" + url, data=data, method=method.upper())
    request.add_header("Authorization", f"token {TOKEN}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as answer:
            raw = answer.read()
            return answer.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw else None)


def main():
    harden, spec_path = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_path).read_text())
    seed = Path(__file__).resolve().parents[2] / "examples" / "naive"
    failures, checked = [], 0
    with tempfile.TemporaryDirectory() as data:
        sandbox = subprocess.Popen(
            [harden, "sandbox", "--listen", "127.0.0.1:0", "--data", data, "--token", TOKEN,
             "--seed", f"acme/naive={seed}"],
            stdout=subprocess.PIPE, text=True)
        try:
            base = sandbox.stdout.readline().strip().removeprefix("sandbox: listening on ")
            repo = "/repos/acme/naive"
            template = "/repos/{owner}/{repo}"
            steps = []

            def check(method, path, url, expected, body=None):
                nonlocal checked
                status, answer = call(base, method, url, body)
                checked += 1
                if status != expected:
                    failures.append(f"{method.upper()} {url}: status {status}, expected {expected}: {answer}")
                    return answer
                schema = schema_for(spec, path, method, status)
                if schema is not None:
                    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(answer), key=str)
                    for error in errors[:5]:
                        where = "/".join(str(p) for p in error.absolute_path)
                        failures.append(f"{method.upper()} {path} {status} at `{where}`: {error.message[:200]}")
                steps.append(f"{method.upper()} {path} {status}")
                return answer

            check("get", template, repo, 200)
            main_ref = check("get", template + "/git/ref/{ref}", repo + "/git/ref/heads/main", 200)
            base_sha = main_ref["object"]["sha"]
            commit = check("get", template + "/git/commits/{commit_sha}", f"{repo}/git/commits/{base_sha}", 200)
            tree_sha = commit["tree"]["sha"]
            check("get", template + "/git/trees/{tree_sha}", f"{repo}/git/trees/{tree_sha}?recursive=1", 200)
            blob = check("post", template + "/git/blobs", repo + "/git/blobs",
                         201, {"content": "FROM scratch\n", "encoding": "utf-8"})
            check("get", template + "/git/blobs/{file_sha}", f"{repo}/git/blobs/{blob['sha']}", 200)
            tree = check("post", template + "/git/trees", repo + "/git/trees", 201,
                         {"base_tree": tree_sha,
                          "tree": [{"path": "Dockerfile", "mode": "100644", "type": "blob", "sha": blob["sha"]}]})
            new = check("post", template + "/git/commits", repo + "/git/commits", 201,
                        {"message": "harden", "tree": tree["sha"], "parents": [base_sha]})
            check("post", template + "/git/refs", repo + "/git/refs", 201,
                  {"ref": "refs/heads/harden/all", "sha": new["sha"]})
            check("post", template + "/git/refs", repo + "/git/refs", 422,
                  {"ref": "refs/heads/harden/all", "sha": new["sha"]})
            check("patch", template + "/git/refs/{ref}", repo + "/git/refs/heads/harden/all", 200,
                  {"sha": new["sha"], "force": False})
            check("post", template + "/pulls", repo + "/pulls", 201,
                  {"title": "Harden", "head": "acme:harden/all", "base": "main", "body": "b"})
            check("post", template + "/pulls", repo + "/pulls", 422,
                  {"title": "Harden", "head": "acme:harden/all", "base": "main", "body": "b"})
            check("get", template + "/pulls", repo + "/pulls?state=all&head=acme:harden/all", 200)
            check("get", template + "/pulls/{pull_number}", repo + "/pulls/1", 200)
            check("patch", template + "/pulls/{pull_number}", repo + "/pulls/1", 200, {"body": "c"})
            check("post", template + "/issues/{issue_number}/comments", repo + "/issues/1/comments", 201,
                  {"body": "notice"})
            check("get", template + "/issues/{issue_number}/comments", repo + "/issues/1/comments", 200)
            check("post", template + "/issues/{issue_number}/labels", repo + "/issues/1/labels", 200,
                  {"labels": ["security", "harden"]})
            check("post", template + "/pulls/{pull_number}/requested_reviewers",
                  repo + "/pulls/1/requested_reviewers", 201, {"reviewers": ["octocat"], "team_reviewers": ["platform"]})
            check("get", template + "/pulls/{pull_number}", repo + "/pulls/1", 200)
            check("get", template, "/repos/acme/absent", 404)
        finally:
            sandbox.kill()
            sandbox.wait()
    for line in failures:
        print(f"FAIL {line}")
    print(f"{checked} answers checked against GitHub's OpenAPI description, {len(failures)} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
