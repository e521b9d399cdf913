#!/usr/bin/env bash
# Stops what tests/rig/up.sh started (the engine and the registry), by their pids, after
# dropping the BuildKit cache the tests filled when the disk runs short (under
# HARDEN_RIG_KEEP_GB free, default 40, or always with HARDEN_RIG_PRUNE=1): on the vfs storage
# driver (up.sh's fallback where no overlay mounts) every cached step is a full copy of its image,
# and a few runs fill a disk, but deleting
# those copies takes minutes, which a machine thrown away after the run does not need. The base
# images and the registry's storage stay, so the next up.sh is quick.
set -u
state="${HARDEN_RIG_STATE:-/tmp/harden-rig}"
free_gb="$(df --output=avail -BG / | tail -1 | tr -dc '0-9')"
if [ "${HARDEN_RIG_PRUNE:-0}" = 1 ] || [ "${free_gb:-0}" -lt "${HARDEN_RIG_KEEP_GB:-40}" ]; then
  /usr/bin/docker builder prune -af >/dev/null 2>&1 || true
fi
for name in registry dockerd; do
  pidfile="$state/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null && for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  rm -f "$pidfile"
done
