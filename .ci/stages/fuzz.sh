#!/usr/bin/env bash
# fuzz.sh: bounded fuzzing. Builds the libFuzzer targets of tests/fuzz with
# clang, ASan and UBSan (build-fuzz), replays their corpora (ctest -L fuzz:
# seeds and past crashes), then fuzzes each target for PARLUA_FUZZ_TIME
# seconds (default 75) from the seed corpus, two at a time on the 2 cores:
#   npy    par.load on arbitrary bytes          (tests/fuzz/fuzz_npy.c)
#   csv    par.loadtxt on arbitrary text        (tests/fuzz/fuzz_csv.c)
#   array  constructors from fuzzed Lua values  (tests/fuzz/fuzz_array.c)
#   frontend  the kernel compiler's lexer and parser on generated and
#             mutated Lua source (tests/lua/fuzz_frontend.lua, in Lua:
#             libFuzzer only sees C coverage), from a fresh seed
# A crash fails the stage and prints the reproducer (file, bytes, command).
# Budget: 12 minutes (measured: build under a minute, fuzzing 2 x 75 s).
#
# Usage: .ci/stages/fuzz.sh
# Environment: PARLUA_FUZZ_TIME (seconds per target), PARLUA_FUZZ_BUILD.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stage_begin fuzz 720 "$@"

build=${PARLUA_FUZZ_BUILD:-build-fuzz}
secs=${PARLUA_FUZZ_TIME:-75}
need clang clang
need cmake cmake
clang -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q / || {
  echo "libFuzzer missing (libclang-rt-14-dev)" >&2; exit 2; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DPARLUA_FUZZ=ON -DPARLUA_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j2 --target fuzz_npy fuzz_csv fuzz_array parlua_exe

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure -L fuzz

work=$build/fuzz-work
rm -rf "$work"
mkdir -p "$work"

# fuzz_target NAME: runs build/tests/fuzz/fuzz_NAME for $secs seconds,
# new inputs into $work/NAME, crashes as $work/NAME-crash-*.
fuzz_target() {
  local name=$1 dict=()
  mkdir -p "$work/$name"
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  "$build/tests/fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$work/$name-" \
    "$work/$name" "tests/fuzz/corpus/$name" > "$work/$name.log" 2>&1
}

fuzz_frontend() {
  local seed
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  PARLUA_FUZZ_SECONDS=$secs PARLUA_FUZZ_SEED=$seed PARLUA_FUZZ_OUT=$work \
    "$build/parlua" -t 1 tests/lua/fuzz_frontend.lua > "$work/frontend.log" 2>&1
}

# report NAME STATUS: the end of the log; for a crash, each reproducer.
report() {
  local name=$1 rc=$2 f
  echo "== fuzz $name: $([ "$rc" -eq 0 ] && echo clean || echo "FAILED (status $rc)")"
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)|inputs in' \
    "$work/$name.log" || true
  [ "$rc" -eq 0 ] && return 0
  tail -n 60 "$work/$name.log"
  for f in "$work/$name"-crash-* "$work/$name"-leak-* "$work/$name"-timeout-* \
           "$work/$name"-oom-* "$work/frontend-"*.lua; do
    [ -f "$f" ] || continue
    [ "$name" = frontend ] && [[ "$f" != */frontend-* ]] && continue
    [ "$name" != frontend ] && [[ "$f" == */frontend-* ]] && continue
    echo "-- reproducer $f ($(stat -c %s "$f") bytes):"
    head -c 512 "$f" | od -An -c | head -n 20
    if [ "$name" = frontend ]; then
      echo "   replay: $build/parlua -e \"print(require'par.jit.parser'.parse(io.open('$f','rb'):read('a'), '=fuzz'))\""
    else
      echo "   replay: $build/tests/fuzz/fuzz_$name $f"
      echo "   keep it: cp $f tests/fuzz/corpus/$name/ and add a case to tests/lua/catalogue.lua"
    fi
  done
  return 1
}

# run NAME: one target in the background.
run() {
  if [ "$1" = frontend ]; then fuzz_frontend; else fuzz_target "$1"; fi
}

failed=0
for pair in "npy csv" "array frontend"; do
  read -r a b <<< "$pair"
  rc1=0 rc2=0
  run "$a" & p1=$!
  run "$b" & p2=$!
  wait $p1 || rc1=$?
  wait $p2 || rc2=$?
  report "$a" $rc1 || failed=1
  report "$b" $rc2 || failed=1
done
exit $failed
