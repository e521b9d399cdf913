#!/usr/bin/env bash
# What tests/browser/dashboard.py needs: Debian's headless Chromium and its chromedriver, and
# axe-core (npm), the accessibility rules engine, kept in ${HOME}/.cache/harden/axe-core.
# Installs only what is missing, so a second run is quick; prints the path of axe.min.js,
# ready for `dashboard.py --axe "$(bash tests/browser/setup.sh)"`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# apt's chatter is shown only when it fails, so stdout stays the one path callers read.
apt_install() {
  local log
  if ! log="$( (apt-get update -qq && apt-get install -y -qq "$@") 2>&1)"; then
    echo "$log" >&2
    echo "setup.sh: could not install $*" >&2
    exit 1
  fi
}
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi
axe_dir="${HOME}/.cache/harden/axe-core"
axe_js="$axe_dir/package/axe.min.js"
if [ ! -f "$axe_js" ]; then
  command -v npm >/dev/null || apt_install npm
  mkdir -p "$axe_dir"
  (cd "$axe_dir" && npm pack --silent axe-core >/dev/null && tar xzf axe-core-*.tgz)
fi
echo "$axe_js"
