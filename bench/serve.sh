#!/usr/bin/env bash
# Benchmark: `harden serve` under bursts of webhook deliveries on loopback (the client is
# benches/serve.rs, on a Tokio runtime of its own). Rounds of 200 concurrent, signed
# `issue_comment` deliveries (GitHub's example payload from npm @octokit/webhooks-examples, each a
# new `/harden` comment, so each queues a job): 200 connections opened first, then released
# together. Measures deliveries accepted per second, the answer time (p50, p99, max; goal: p99
# under 50 ms), that none is lost (every one answered 202 and its job is in the state), and the
# server's memory at rest (before the load) and after it. The jobs themselves are not the
# subject: the server's forge takes connections and never answers, so its one worker holds a job
# (as during a build) while the deliveries arrive.
# State: the SQLite file; with HARDEN_TEST_POSTGRES set (tests/rig/postgres.sh up), PostgreSQL
# too, side by side.
# Usage: bench/serve.sh [ROUNDS]   (default 5 rounds of 200)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rounds="${1:-5}"
examples="${HARDEN_WEBHOOK_EXAMPLES:-$HOME/.cache/harden/octokit-webhooks-examples/package/api.github.com/index.json}"
[ -f "$examples" ] || { echo "bench/serve.sh: $examples: run .ci/run once (it fetches npm @octokit/webhooks-examples)" >&2; exit 2; }
export HARDEN_WEBHOOK_EXAMPLES="$examples" HARDEN_BENCH_ROUNDS="$rounds"
if [ -n "${HARDEN_TEST_POSTGRES:-}" ]; then
  db="harden_bench_$$"
  psql -q "$HARDEN_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  trap 'psql -q "$HARDEN_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
  export HARDEN_BENCH_POSTGRES="${HARDEN_TEST_POSTGRES%/*}/$db"
fi
cargo bench --quiet --bench serve
