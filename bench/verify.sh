#!/usr/bin/env bash
# Benchmark: `harden verify` (two builds sharing the engine's cache, measurements and the smoke
# run) against one plain `docker build` of the original, on the same service, one run each.
# Each gets its own copy of the service with a different nonce file, so neither reuses the
# other's source layers. Needs the rig: bash tests/rig/up.sh. Goal: verify within 2.2x.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck disable=SC1091
source "${HARDEN_RIG_STATE:-/tmp/harden-rig}/env"
service="${1:-tests/verify/naive}"
cargo build --release -q
work="$(mktemp -d)"
trap 'rm -rf "$work"; "$HARDEN_DOCKER" image rm -f harden-bench/plain >/dev/null 2>&1 || true' EXIT
for copy in verify plain; do
  cp -r "$service" "$work/$copy"
  date +%s%N >"$work/$copy/nonce.txt"
  git init -q "$work/$copy"
done
python3 - "$work" "$HARDEN_DOCKER" <<'PY'
import os, subprocess, sys, time
work, docker = sys.argv[1], sys.argv[2]
def timed(cmd, **kw):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start
verify = timed(["./target/release/harden", "verify", f"{work}/verify"])
plain = timed([docker, "build", "--network", "none", "-q", "-t", "harden-bench/plain", f"{work}/plain"],
              env={**os.environ, "DOCKER_BUILDKIT": "1"})
print(f"harden verify  {verify:7.1f} s")
print(f"docker build   {plain:7.1f} s")
print(f"verify takes {verify / plain:.2f}x one plain build (goal: at most 2.2x)")
PY
