# shellcheck shell=bash
# lib.sh: shared by the CI stage scripts (sourced, not run).
# stage_begin NAME SECONDS "$@": re-runs the calling script under
# `timeout SECONDS` from the repository root, and fails the stage with a
# message naming the budget when it runs over.

stage_begin() {
  local name=$1 budget=$2
  shift 2
  cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
  if [ -z "${PARLUA_STAGE_TIMED:-}" ]; then
    local start=$SECONDS rc=0
    PARLUA_STAGE_TIMED=1 timeout -k 20 "$budget" bash "$0" "$@" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      echo "== stage $name: FAILED: over its budget of $budget s" >&2
    elif [ "$rc" -ne 0 ]; then
      echo "== stage $name: FAILED (status $rc) after $((SECONDS - start)) s" >&2
    else
      echo "== stage $name: passed in $((SECONDS - start)) s (budget $budget s)"
    fi
    exit "$rc"
  fi
}

# need TOOL PACKAGE: fails the stage when a required tool is missing.
need() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -e "$1" ]; then
    echo "== required tool '$1' is missing (Debian package $2)" >&2
    exit 2
  fi
}
