#!/usr/bin/env bash
# tsan.sh: the parallel tests under ThreadSanitizer: every C unit test and
# every Lua script on 2 threads (lua.*.t2), kernels' tests included as they
# land. Budget: 10 minutes (measured: build under a minute, three rounds
# ~2.5 min).
#
# OpenMP setup: clang with LLVM's libomp (Debian clang-14, libomp-14-dev),
# not GCC's libgomp. libomp ships Archer (libarcher.so), an OMPT tool that
# tells TSan about OpenMP's barriers, locks and task edges; libgomp's
# synchronisation is invisible to TSan and gives false reports. Archer is
# loaded through OMP_TOOL_LIBRARIES; as Archer asks, TSan ignores accesses
# made inside modules that are not instrumented (libomp itself, liblua,
# OpenBLAS). No suppression file is needed: every report is a real race.
#
# Left out: the CLI tests. TSan defers a signal until the thread that got
# it calls an intercepted function, and a Lua loop in the uninstrumented
# liblua never does, so Ctrl-C tests would hang for reasons of TSan's own.
# The tests run three times (PARLUA_TSAN_ROUNDS): races between a worker
# and the main thread show up in a fraction of the runs only.
#
# Usage: .ci/stages/tsan.sh [extra ctest arguments]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stage_begin tsan 600 "$@"

build=${PARLUA_TSAN_BUILD:-build-tsan}
need clang clang
need cmake cmake

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DPARLUA_SANITIZE=thread -DPARLUA_FUZZ=OFF >/dev/null
grep -q 'OpenMP_C_FLAGS:STRING=.*libomp' "$build/CMakeCache.txt" || {
  echo "clang does not use LLVM's libomp (install libomp-14-dev)" >&2; exit 2; }
cmake --build "$build" -j2

# libarcher.so sits next to the libomp.so clang links against.
libomp=$(grep -oE '^OpenMP_omp_LIBRARY:FILEPATH=.*' "$build/CMakeCache.txt" | cut -d= -f2)
archer=$(dirname "$(readlink -f "$libomp")")/libarcher.so
[ -f "$archer" ] || { echo "Archer not found at $archer (libomp-14-dev)" >&2; exit 2; }

export OMP_TOOL_LIBRARIES=$archer
export TSAN_OPTIONS="halt_on_error=1:ignore_noninstrumented_modules=1:allocator_may_return_null=1:second_deadlock_stack=1"
export PARLUA_SANITIZED=thread
ctest --test-dir "$build" --output-on-failure -j2 -R '^unit\.|\.t2$' \
  --repeat "until-fail:${PARLUA_TSAN_ROUNDS:-3}" "$@"
