#!/usr/bin/env bash
# Benchmark: `harden sweep` over a generated organisation of 1,000 repositories in the sandbox
# (every twentieth a Go service with a Dockerfile to harden: 5% with candidates), without builds
# (--verify false), at the default pace (10 pull requests an hour: 10 open, the other 40 are
# scheduled) and without the 1 s gap between writes (--mutation-gap-ms 0: the sandbox has no
# secondary limit; on GitHub add a second a write, about 7 a pull request).
# Measures the first sweep and a repeat sweep: wall time (goal: the first under 60 s on 2
# cores), API requests per repository (goal: at most 2 on the first sweep for a repository with
# no candidate; at most 1 and no rate limit on the repeat, 2 where harden has a pull request to
# watch), and peak memory. Side by side, the
# peers' way (Renovate and multi-gitter clone every repository): a shallow `git clone` of each
# of the 1,000, timed the same way, and the ratio.
# Usage: bench/sweep.sh [N]   (default N=1000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
count="${1:-1000}"
cargo build --release -q
work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
token="bench-token"
./target/release/harden sandbox --listen 127.0.0.1:0 --data "$work/forge" --token "$token" \
  --generate-org "bench=$count" >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 600); do grep -q "listening on" "$work/sandbox.out" 2>/dev/null && break; sleep 0.2; done
url="$(sed -n 's/^sandbox: listening on //p' "$work/sandbox.out")"
[ -n "$url" ] || { cat "$work/sandbox.err"; exit 1; }
python3 - "$work" "$url" "$token" "$count" <<'PY'
import json, os, re, subprocess, sys, time
work, url, token, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
journal = os.path.join(work, "forge", "requests.log")

def lines():
    if not os.path.exists(journal):  # written from the first request on
        return []
    with open(journal) as f:
        return [l for l in f.read().splitlines() if " /api/v3/" in l]

def sweep():
    before = len(lines())
    start = time.perf_counter()
    run = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "./target/release/harden", "sweep", "--org", "bench", "--api-url", f"{url}/api/v3",
         "--state", os.path.join(work, "state.db"), "--verify", "false", "--mutation-gap-ms", "0", "--format", "json"],
        env={**os.environ, "GITHUB_TOKEN": token, "HARDEN_LOG": "warn"}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"harden sweep failed ({run.returncode}):\n{run.stderr[-3000:]}")
    peak_kib = int(run.stderr.strip().splitlines()[-1])
    new = lines()[before:]
    return wall, peak_kib, json.loads(run.stdout), new

def per_repo(journal_lines):
    """Requests per repository, from the forge's own log (listing pages count for nobody)."""
    counts = {}
    for line in journal_lines:
        m = re.search(r" /api/v3/repos/bench/(svc-\d+)/", line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts

first_wall, first_peak, first, first_lines = sweep()
repeat_wall, repeat_peak, repeat, repeat_lines = sweep()
services = {f"svc-{i:04}" for i in range(0, count, 20)}
first_counts = per_repo(first_lines)
plain = [n for c, n in ((first_counts.get(f"svc-{i:04}", 0), f"svc-{i:04}") for i in range(count)) if n not in services]
worst_plain = max(first_counts.get(n, 0) for n in plain)
repeat_counts = per_repo(repeat_lines)
# A repository where harden has a pull request also reads its pull requests (a second 304 when
# no one touched it), to see whether someone merged or closed it.
with_pull = {repo.split("/")[1] for repo, _, _ in first["pull_requests"]}
worst_repeat = max(repeat_counts.get(f"svc-{i:04}", 0) for i in range(count) if f"svc-{i:04}" not in with_pull)
worst_with_pull = max((repeat_counts.get(n, 0) for n in with_pull), default=0)
spent_repeat = sum(1 for l in repeat_lines if not l.endswith(" 304"))

# The peers' way: a shallow clone of every repository.
clones = os.path.join(work, "clones")
os.makedirs(clones)
start = time.perf_counter()
auth = url.replace("http://", f"http://x-access-token:{token}@", 1)
for i in range(count):
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"{auth}/bench/svc-{i:04}.git", os.path.join(clones, str(i))],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
clone_wall = time.perf_counter() - start

print(f"organisation: {count} repositories, {len(services)} with a Dockerfile to harden")
print(f"first sweep   {first_wall:7.1f} s  {len(first_lines)} requests ({len(first_lines) / count:.2f} a repository), "
      f"peak {first_peak / 1024:.0f} MiB  (goal: under 60 s)")
print(f"              a repository without candidates: at most {worst_plain} requests (goal: at most 2)")
print(f"repeat sweep  {repeat_wall:7.1f} s  {len(repeat_lines)} requests ({len(repeat_lines) / count:.2f} a repository), "
      f"{spent_repeat} spent rate limit, peak {repeat_peak / 1024:.0f} MiB  (goal: at most 1 a repository, none spent)")
print(f"              a repository: at most {worst_repeat} requests; one with harden's pull request: at most {worst_with_pull}")
print(f"clone all     {clone_wall:7.1f} s  (git clone --depth 1 of every repository, as Renovate and multi-gitter do)")
print(f"the first sweep takes {first_wall / clone_wall:.2f}x the time of cloning everything; the repeat {repeat_wall / clone_wall:.3f}x")
print(f"summary of the first sweep: {json.dumps(first['outcomes'])}")
ok = first_wall < 60 and worst_plain <= 2 and worst_repeat <= 1 and worst_with_pull <= 2 and spent_repeat == 0
print("goals met" if ok else "GOALS NOT MET")
sys.exit(0 if ok else 1)
PY
