#!/usr/bin/env bash
# Runs the parse-and-fix fuzz target for SECONDS (default 60), seeded with the fixture inputs
# and the inputs it once broke harden with (regressions/, also run by `cargo test`).
# Needs cargo-fuzz; on a stable toolchain RUSTC_BOOTSTRAP=1 lets it use the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
mkdir -p corpus/parse_and_fix
for input in ../tests/fixtures/*/input/Dockerfile; do
  cp "$input" "corpus/parse_and_fix/$(basename "$(dirname "$(dirname "$input")")")"
done
cp regressions/* corpus/parse_and_fix/
RUSTC_BOOTSTRAP=1 cargo fuzz run parse_and_fix corpus/parse_and_fix -- -max_total_time="$seconds" -max_len=4096
