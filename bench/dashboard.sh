#!/usr/bin/env bash
# Benchmark: the dashboard over a large campaign. benches/dashboard.rs writes a state of 1,000
# repositories (every tenth private), 5,000 pull requests and three sweeps of 1,000 results
# through the store, then times the real binary: `harden serve` answering GET / (median of 25
# requests on fresh connections; goal: under 100 ms) and `harden dashboard --out` writing the
# whole site with the private repositories (median of 5 runs; goal: under 2 s).
# Usage: bench/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench dashboard
