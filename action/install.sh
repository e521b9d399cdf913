#!/usr/bin/env bash
# Finds harden for the action, in this order: the `binary` input (HARDEN_BINARY); harden on PATH;
# the release asset of this action's own version for the runner's platform, named in
# action/release.sha256 with its SHA-256 sum (the release workflow commits that file into the
# tagged commit, and an immutable release keeps the asset from changing); a build of the action's
# own source with `cargo install --locked`. A downloaded asset whose sum differs is refused, never
# used and never replaced by a build. Sets the step output `path` and puts its directory on PATH
# for the job's later steps.
set -euo pipefail
action="$(cd "$(dirname "$0")/.." && pwd)"
tools="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/harden-action"

use() {
  local bin
  bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  echo "harden: using $bin ($("$bin" --version))"
  echo "path=$bin" >>"${GITHUB_OUTPUT:?}"
  dirname "$bin" >>"${GITHUB_PATH:?}"
  exit 0
}

if [ -n "${HARDEN_BINARY:-}" ]; then use "$HARDEN_BINARY"; fi
if command -v harden >/dev/null 2>&1; then use "$(command -v harden)"; fi

sums="$action/action/release.sha256"
asset="harden-$(uname -m)-$(uname -s | tr '[:upper:]' '[:lower:]')"
if [ -f "$sums" ]; then
  url="$(sed -n 's/^url //p' "$sums")"
  expected="$(awk -v asset="$asset" '$2 == asset { print $1 }' "$sums")"
  if [ -n "$url" ] && [ -n "$expected" ]; then
    mkdir -p "$tools/bin"
    if curl --fail --silent --show-error --location --retry 3 --output "$tools/$asset" "$url/$asset"; then
      actual="$(sha256sum "$tools/$asset" | cut -d ' ' -f 1)"
      if [ "$actual" != "$expected" ]; then
        echo "::error title=harden::$url/$asset has SHA-256 $actual," \
          "not $expected as action/release.sha256 says: refused"
        rm -f "$tools/$asset"
        exit 3
      fi
      install -m 0755 "$tools/$asset" "$tools/bin/harden"
      use "$tools/bin/harden"
    fi
    echo "::warning title=harden::could not download $url/$asset; building harden from the action's source"
  fi
fi

cargo install --locked --path "$action" --root "$tools"
use "$tools/bin/harden"
