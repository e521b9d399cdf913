#!/usr/bin/env python3
"""Judge: every answer `harden sandbox` gives matches GitHub's official OpenAPI description.

Starts the sandbox (seeded with examples/naive), walks the calls `harden pr` makes, and
validates each answer's status and body against the schema GitHub publishes for that operation
(npm package @octokit/openapi, file generated/api.github.com.deref.json).

Usage: openapi.py HARDEN_BINARY SPEC_JSON
"""
import base64
import json
import subprocess
import sys
import tempfile
import time
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


def known_inaccuracies(node):
    """GitHub's description has a few known mistakes; each is undone here, and only it.
    An installation's `account` is a user or an enterprise; some operations (GET
    /app/installations) describe it as `allOf` both, which no real answer satisfies
    (github/rest-api-description#2497): it is `anyOf`, as in the `installation` component."""
    if isinstance(node, list):
        return [known_inaccuracies(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: known_inaccuracies(v) for k, v in node.items()}
    parts = node.get("allOf")
    if parts and sorted(p.get("title", "") for p in parts) == ["Enterprise", "Simple User"]:
        node["anyOf"] = node.pop("allOf")
    return node


def schema_for(spec, path, method, status):
    operation = spec["paths"][path][method]
    response = operation["responses"].get(str(status))
    if response is None:
        raise AssertionError(f"{method.upper()} {path}: GitHub never answers {status}")
    content = response.get("content", {}).get("application/json")
    return nullable_to_json_schema(known_inaccuracies(content["schema"])) if content else None


def call(base, method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + "/api/v3" + url, data=data, method=method.upper())
    request.add_header("Authorization", f"token {TOKEN}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as answer:
            raw = answer.read()
            return answer.status, (json.loads(raw) if raw else None), answer.headers
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw else None), error.headers


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def app_jwt(key, app_id):
    """A GitHub App JWT (RS256), signed by openssl with the App's private key."""
    now = int(time.time())
    signing_input = (b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "."
                     + b64url(json.dumps({"iat": now - 60, "exp": now + 540, "iss": app_id}).encode()))
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                               capture_output=True, check=True).stdout
    return signing_input + "." + b64url(signature)


def main():
    harden, spec_path = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_path).read_text())
    seed = Path(__file__).resolve().parents[2] / "examples" / "naive"
    failures, checked = [], 0
    with tempfile.TemporaryDirectory() as data:
        key, public = Path(data) / "app.pem", Path(data) / "app.pub.pem"
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", key, "2048"], capture_output=True, check=True)
        subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", public], capture_output=True, check=True)
        sandbox = subprocess.Popen(
            [harden, "sandbox", "--listen", "127.0.0.1:0", "--data", Path(data) / "forge", "--token", TOKEN,
             "--seed", f"acme/naive={seed}", "--app-id", "42", "--app-public-key", public,
             "--collaborator", "alice=maintain", "--user", "alice=alice-token", "--member", "acme=alice",
             # Nothing listens there: the delivery fails and is listed as failed.
             "--webhook", "http://127.0.0.1:9/webhook", "--webhook-secret", "s"],
            stdout=subprocess.PIPE, text=True)
        try:
            base = sandbox.stdout.readline().strip().removeprefix("sandbox: listening on ")
            repo = "/repos/acme/naive"
            template = "/repos/{owner}/{repo}"
            steps = []

            def check(method, path, url, expected, body=None, headers=None):
                nonlocal checked
                status, answer, _ = call(base, method, url, body, headers)
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
            # Trees answer with an ETag; sending it back costs a 304 and no rate limit.
            tree_url = f"{repo}/git/trees/{tree_sha}"
            status, _, headers = call(base, "get", tree_url)
            etag, used = headers["ETag"], int(headers["x-ratelimit-used"])
            status, answer, headers = call(base, "get", tree_url, headers={"If-None-Match": etag})
            checked += 1
            if status != 304 or answer is not None or int(headers["x-ratelimit-used"]) != used:
                failures.append(f"GET {tree_url} with If-None-Match: {status}, used {headers['x-ratelimit-used']} after {used}")
            contents = template + "/contents/{path}"
            check("get", contents, repo + "/contents/Dockerfile?ref=main", 200)
            check("get", contents, repo + "/contents/deploy", 200)
            check("get", contents, repo + "/contents/absent", 404)
            comment = check("get", template + "/issues/{issue_number}/comments", repo + "/issues/1/comments", 200)[0]
            reactions = template + "/issues/comments/{comment_id}/reactions"
            url = f"{repo}/issues/comments/{comment['id']}/reactions"
            check("post", reactions, url, 201, {"content": "rocket"})
            check("post", reactions, url, 200, {"content": "rocket"})
            check("get", reactions, url, 200)
            permission = template + "/collaborators/{username}/permission"
            answer = check("get", permission, repo + "/collaborators/alice/permission", 200)
            if (answer["permission"], answer["role_name"]) != ("write", "maintain"):
                failures.append(f"alice's permission: {answer['permission']}/{answer['role_name']}")
            check("put", template + "/pulls/{pull_number}/merge", repo + "/pulls/1/merge", 200, {"merge_method": "merge"})
            check("put", template + "/pulls/{pull_number}/merge", repo + "/pulls/1/merge", 405, {})
            merged = check("get", template + "/pulls/{pull_number}", repo + "/pulls/1", 200)
            if not merged["merged"] or merged["merge_commit_sha"] != call(base, "get", repo + "/git/ref/heads/main")[1]["object"]["sha"]:
                failures.append("the merge did not move main to the merge commit")
            check("get", "/orgs/{org}/repos", "/orgs/acme/repos", 200)
            # What the dashboard's sign-in asks with a person's token: who they are, and whether
            # they are a member of an organisation.
            alice = {"Authorization": "token alice-token"}
            if check("get", "/user", "/user", 200, headers=alice).get("login") != "alice":
                failures.append("GET /user does not name alice")
            membership = "/user/memberships/orgs/{org}"
            if check("get", membership, "/user/memberships/orgs/acme", 200, headers=alice).get("state") != "active":
                failures.append("alice's membership of acme is not active")
            check("get", membership, "/user/memberships/orgs/other", 404, headers=alice)
            jwt = {"Authorization": f"Bearer {app_jwt(key, 42)}"}
            installation = check("get", template + "/installation", repo + "/installation", 200, headers=jwt)
            token = check("post", "/app/installations/{installation_id}/access_tokens",
                          f"/app/installations/{installation['id']}/access_tokens", 201, {}, headers=jwt)
            check("get", "/installation/repositories", "/installation/repositories", 200,
                  headers={"Authorization": f"token {token['token']}"})
            # What harden sweep reads besides: the App's installations, an organisation's, the
            # tree of a branch by name, harden's branches by prefix; and `sweep close` deletes one.
            check("get", "/app/installations", "/app/installations", 200, headers=jwt)
            check("get", "/orgs/{org}/installation", "/orgs/acme/installation", 200, headers=jwt)
            check("get", template + "/git/trees/{tree_sha}", f"{repo}/git/trees/main?recursive=1", 200)
            check("get", template + "/git/matching-refs/{ref}", repo + "/git/matching-refs/heads/harden", 200)
            check("delete", template + "/git/refs/{ref}", repo + "/git/refs/heads/harden/all", 204)
            check("get", template + "/git/matching-refs/{ref}", repo + "/git/matching-refs/heads/harden", 200)
            check("delete", template + "/git/refs/{ref}", repo + "/git/refs/heads/harden/all", 422)
            # What harden serve meets: a person's issue and comment, the App's webhook deliveries
            # (the comment's, failed: nothing listens), and a redelivery.
            alice = {"Authorization": "token alice-token"}
            issue = check("post", template + "/issues", repo + "/issues", 201, {"title": "smaller?"}, headers=alice)
            check("get", template + "/issues/{issue_number}", f"{repo}/issues/{issue['number']}", 200)
            # The dashboard issue: listed, rewritten, and a duplicate closed.
            listed = check("get", template + "/issues", repo + "/issues?state=open&per_page=100", 200)
            if issue["number"] not in [i["number"] for i in listed]:
                failures.append("the open issue is not listed")
            check("patch", template + "/issues/{issue_number}", f"{repo}/issues/{issue['number']}", 200,
                  {"body": "dashboard <!-- harden:dashboard -->"})
            closed = check("patch", template + "/issues/{issue_number}", f"{repo}/issues/{issue['number']}", 200,
                           {"state": "closed", "state_reason": "not_planned"})
            if closed.get("state") != "closed":
                failures.append("PATCH state closed did not close the issue")
            check("patch", template + "/issues/{issue_number}", f"{repo}/issues/{issue['number']}", 200,
                  {"state": "open"})
            check("post", template + "/issues/{issue_number}/comments", f"{repo}/issues/{issue['number']}/comments",
                  201, {"body": "/harden"}, headers=alice)
            deliveries = []
            for _ in range(100):
                status, deliveries, _ = call(base, "get", "/app/hook/deliveries", headers=jwt)
                if deliveries:
                    break
                time.sleep(0.05)
            check("get", "/app/hook/deliveries", "/app/hook/deliveries?per_page=100", 200, headers=jwt)
            if deliveries:
                check("post", "/app/hook/deliveries/{delivery_id}/attempts",
                      f"/app/hook/deliveries/{deliveries[0]['id']}/attempts", 202, {}, headers=jwt)
            else:
                failures.append("the sandbox listed no webhook delivery for a person's comment")
        finally:
            sandbox.kill()
            sandbox.wait()
    for line in failures:
        print(f"FAIL {line}")
    print(f"{checked} answers checked against GitHub's OpenAPI description, {len(failures)} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
