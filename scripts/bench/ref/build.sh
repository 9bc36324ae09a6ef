#!/bin/sh
# Builds the reference kernels with the flags of generated kernels (strict:
# -O2 -march=native -mprefer-vector-width=512 -ffp-contract=off
# -fno-math-errno; grid also with
# -ffast-math), linked with parlua's runtime for its engine and RNG tables.
# usage: scripts/bench/ref/build.sh [build-folder] [output-folder]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$build/bench-ref}
mkdir -p "$out"
cc=${CC:-cc}
flags="-O2 -march=native -mprefer-vector-width=512 -ffp-contract=off -fno-math-errno -fopenmp -I$root/src -I$here $(pkg-config --cflags lua5.4)"
libs="-L$build -Wl,-rpath,$build -lparlua -lm"
for k in wealth pi grid; do
  $cc $flags "$here/${k}_ref.c" -o "$out/${k}_ref" $libs
done
$cc $flags -ffast-math "$here/grid_ref.c" -o "$out/grid_ref_fast" $libs
echo "$out"
