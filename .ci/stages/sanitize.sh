#!/usr/bin/env bash
# sanitize.sh: the whole test suite under AddressSanitizer +
# UndefinedBehaviorSanitizer, leak detection on (Debug build in build-asan;
# generated kernels get the same sanitizers, see CMakeLists.txt). The build
# collects all garbage before every new array (PARLUA_GC_STRESS), so C code
# that uses an array it no longer anchors on the Lua stack is caught.
# Budget: 12 minutes (measured on the 2-core CI machine: build under a
# minute, suite ~2.3 min).
#
# Tests labelled 'uninstrumented-host' load par.so into a program that was
# not built with the sanitizers (the stock lua5.4): they run afterwards with
# the sanitizer runtime preloaded (ASan must come first in the library
# list). All tests run with leaks detected (par.so stays loaded when that
# host closes its state, so libgomp's allocations are not reported as
# leaks of an unmapped module).
#
# Usage: .ci/stages/sanitize.sh [extra ctest arguments]
# Environment: PARLUA_ASAN_BUILD (build folder), CC (compiler, default cc).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stage_begin sanitize 720 "$@"

build=${PARLUA_ASAN_BUILD:-build-asan}
cc=${CC:-cc}
need "$cc" build-essential
need cmake cmake

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$cc" \
  -DPARLUA_SANITIZE=address,undefined -DPARLUA_GC_STRESS=ON -DPARLUA_FUZZ=OFF >/dev/null
cmake --build "$build" -j2

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PARLUA_SANITIZED=address,undefined
rc=0
ctest --test-dir "$build" --output-on-failure -j2 -LE uninstrumented-host "$@" || rc=1

# The ASan runtime of this compiler, for hosts built without it.
if "$cc" --version | grep -q clang; then
  runtime=$("$cc" -print-file-name=libclang_rt.asan-x86_64.so)
else
  runtime=$("$cc" -print-file-name=libasan.so)
fi
[ -f "$runtime" ] || { echo "ASan runtime not found ($runtime)" >&2; exit 2; }
LD_PRELOAD=$runtime \
  ctest --test-dir "$build" --output-on-failure -L uninstrumented-host \
  --no-tests=ignore "$@" || rc=1
exit $rc
