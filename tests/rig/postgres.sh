#!/usr/bin/env bash
# A PostgreSQL server of its own for the tests (harden serve's shared state), from Debian's
# `postgresql` package: `postgres.sh up` makes a cluster in $HARDEN_PG_DIR (default
# /tmp/harden-pg) owned by the `postgres` user, listening on 127.0.0.1 only (port
# $HARDEN_PG_PORT, default 15432: below the kernel's ephemeral range, 32768-60999, where a client
# connection of the moment, such as the rig's pushes to its registry, can hold the port),
# trusting loopback connections, and writes
# HARDEN_TEST_POSTGRES=postgres://harden@127.0.0.1:PORT/postgres to $HARDEN_PG_DIR/env;
# `postgres.sh down` stops it by its pid.
set -euo pipefail
dir="${HARDEN_PG_DIR:-/tmp/harden-pg}"
port="${HARDEN_PG_PORT:-15432}"
bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -1)"
as_postgres() { runuser -u postgres -- "$@"; }
case "${1:-}" in
  up)
    if [ -f "$dir/data/postmaster.pid" ] && kill -0 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null; then
      echo "postgres: already running ($dir/env)"
      exit 0
    fi
    mkdir -p "$dir"
    chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$dir/data" -U harden --auth=trust -E UTF8 >/dev/null
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=100" start >/dev/null
    echo "export HARDEN_TEST_POSTGRES=postgres://harden@127.0.0.1:$port/postgres" >"$dir/env"
    echo "postgres: ready ($dir/env)"
    ;;
  down)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *)
    echo "usage: postgres.sh up|down" >&2
    exit 2
    ;;
esac
