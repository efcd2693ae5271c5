#!/usr/bin/env bash
# Tiled evaluation: exactness, seconds per evaluation and peak memory
# (docs/BENCHMARKS.md "Tiles"). One JSON line per measurement on stdout.
# Needs a build (scripts/build.sh) and models/vgg19-random.pt. About 15
# minutes on a 2-core machine; QUICK=1 skips 4096 px.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${STYLIZE_BUILD_DIR:-$repo/build}/stylize_bench"
model="${STYLIZE_MODEL:-$repo/models/vgg19-random.pt}"
run() { "$bench" --model "$model" --json "$@" | tail -n 1; }

# Exactness: one evaluation untiled and in tiles, Winograd (the default)
# and direct convolutions; --tile 0 compares Winograd with direct untiled.
for a in "--size 512 --tile 256" "--size 512 --tile 256 --conv-algorithm direct" "--size 512 --tile 0" \
         "--size 512 --tile 256 --pooling avg" "--size 1024 --tile 512" "--size 1024 --tile 512 --conv-algorithm direct" \
         "--size 512 --tile 256 --tile-halo 48" "--size 512 --tile 256 --tile-halo 16" "--size 512 --tile 256 --tile-halo 0"; do
  # shellcheck disable=SC2086
  run --tile-exactness $a
done
# Seconds per evaluation and peak RSS, each configuration in its own process.
run --size 1024 --warmup 1 --evaluations 3
run --size 1024 --warmup 1 --evaluations 3 --tile 512
run --size 2048 --warmup 1 --evaluations 2
run --size 2048 --warmup 1 --evaluations 2 --tile 1024
run --size 2048 --warmup 1 --evaluations 2 --tile 1024 --tile-halo 32
if [ "${QUICK:-0}" != 1 ]; then
  run --size 4096 --warmup 1 --evaluations 1 --tile 1024
fi
