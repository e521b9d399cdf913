#!/usr/bin/env bash
# Runs a fuzz target for SECONDS (default 60): `parse_and_fix` (Dockerfiles, the default) or
# `manifest_fix` (Kubernetes YAML), seeded with the fixture inputs and the inputs the fuzzer
# once broke harden with (regressions/, also run by `cargo test`).
# Needs cargo-fuzz; on a stable toolchain RUSTC_BOOTSTRAP=1 lets it use the sanitizer flags.
# Usage: fuzz/run.sh [SECONDS] [TARGET]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
target="${2:-parse_and_fix}"
corpus="corpus/$target"
mkdir -p "$corpus"
case "$target" in
  parse_and_fix) pattern='../tests/fixtures/*/input/Dockerfile' ;;
  manifest_fix) pattern='../tests/fixtures/k8s-*/input/*.y*ml' ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
for input in $pattern; do
  cp "$input" "$corpus/$(basename "$(dirname "$(dirname "$input")")")-$(basename "$input")"
done
cp regressions/* "$corpus/"
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -max_len=8192
