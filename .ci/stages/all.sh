#!/usr/bin/env bash
# all.sh: runs every CI stage after the normal suite, each under its own
# budget (see README), continuing after a failure; fails if any failed.
# Budget: the sum of the stages' budgets, 34 minutes.
# Usage: .ci/stages/all.sh [stage ...]   (default: sanitize tsan fuzz)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(sanitize tsan fuzz)
failed=()
for s in "${stages[@]}"; do
  echo "== stage $s"
  ".ci/stages/$s.sh" || failed+=("$s")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "== failed stages: ${failed[*]}" >&2
  exit 1
fi
echo "== all stages passed: ${stages[*]}"
