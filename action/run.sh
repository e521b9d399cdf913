#!/usr/bin/env bash
# The action's step: turns its inputs (HARDEN_* variables, set by action.yml) into one harden
# command with --github; harden itself prints the annotations and writes the step outputs and
# the job summary. The exit code is harden's (0 done, 1 findings remain, 2 usage, 3 forge or
# engine failed); with a build proof as well, the higher of the two.
set -euo pipefail
harden="${HARDEN:?the install step sets HARDEN}"
read -r -a paths <<< "$(printf '%s' "${HARDEN_PATHS:-.}" | tr '\n' ' ')"
config=()
if [ -n "${HARDEN_CONFIG:-}" ]; then config=(--config "$HARDEN_CONFIG"); fi

case "${HARDEN_VERIFY:-false}" in
  true) prove=true ;;
  auto) if docker info >/dev/null 2>&1; then prove=true; else prove=false; fi ;;
  false) prove=false ;;
  *) echo "::error title=harden::verify must be auto, true or false, not ${HARDEN_VERIFY}"; exit 2 ;;
esac

case "${HARDEN_MODE:-scan}" in
  scan | fix)
    status=0
    # The proof builds what the fix would change, so it runs before a fix writes anything.
    if [ "$prove" = true ]; then
      "$harden" verify --github "${config[@]}" -- "${paths[@]}" || status=$?
    fi
    sarif="${HARDEN_SARIF:-${RUNNER_TEMP:-/tmp}/harden.sarif}"
    command=("$HARDEN_MODE" --github "${config[@]}" --sarif "$sarif" --sarif-category "${HARDEN_CATEGORY:-harden}")
    if [ "$HARDEN_MODE" = fix ]; then command+=(--write); fi
    if [ -n "${HARDEN_FAIL_ON:-}" ]; then command+=(--fail-on "$HARDEN_FAIL_ON"); fi
    "$harden" "${command[@]}" -- "${paths[@]}" || { code=$?; if [ "$code" -gt "$status" ]; then status=$code; fi; }
    exit "$status"
    ;;
  pr)
    command=(pr --github "${config[@]}" --repo "${HARDEN_REPOSITORY:?}" --verify "${HARDEN_VERIFY:-false}")
    if [ -n "${HARDEN_API_URL:-}" ]; then command+=(--api-url "$HARDEN_API_URL"); fi
    if [ -n "${HARDEN_BASE:-}" ]; then command+=(--base "$HARDEN_BASE"); fi
    GITHUB_TOKEN="${HARDEN_TOKEN:-}" exec "$harden" "${command[@]}"
    ;;
  install) ;; # harden is on PATH for the job's later steps (harden sweep, say)
  *)
    echo "::error title=harden::mode must be scan, fix, pr or install, not ${HARDEN_MODE}"
    exit 2
    ;;
esac
