#!/usr/bin/env bash
# Stops what tests/rig/up.sh started (the engine and the registry), by their pids, after
# dropping the BuildKit cache the tests filled: on the vfs storage driver every cached step is a
# full copy of its image, and a few runs fill a disk. The base images and the registry's
# storage stay, so the next up.sh is quick.
set -u
state="${HARDEN_RIG_STATE:-/tmp/harden-rig}"
/usr/bin/docker builder prune -af >/dev/null 2>&1 || true
for name in registry dockerd; do
  pidfile="$state/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null && for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  rm -f "$pidfile"
done
