#!/usr/bin/env bash
# The same bytes for any thread count: runs one job at every size of a sweep
# with each thread count and compares the written PNGs byte for byte
# (docs/BENCHMARKS.md "Same bytes for 1, 2 and 3 threads at every size").
# One line per size on stdout: size, then "same" or the PSNR of each thread
# count against the first. Exits 1 if any size differs.
#
#   SIZES="64 80 ... 512"  THREADS="1 2 3"  EVALS=20  EXTRA="--conv-algorithm direct"
#
# Needs a build (scripts/build.sh), models/vgg19-random.pt and a content and
# a style image (CONTENT, STYLE; default: the first of each in
# ../shared/images). About 25 minutes on a 2-core machine for the default sweep.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stylize="${STYLIZE_BUILD_DIR:-$repo/build}/stylize"
model="${STYLIZE_MODEL:-$repo/models/vgg19-random.pt}"
images="${STYLIZE_IMAGES:-$repo/../shared/images}"
content="${CONTENT:-$(find "$images/content" -type f | sort | head -n 1)}"
style="${STYLE:-$(find "$images/style" -type f | sort | head -n 1)}"
sizes="${SIZES:-$(seq -s ' ' 64 16 512)}"
threads="${THREADS:-1 2 3}"
evals="${EVALS:-20}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores;" \
     "$(basename "$content") x $(basename "$style"), $evals evaluations, threads: $threads ${EXTRA:-}"
status=0
for s in $sizes; do
  line="$s"
  first=""
  for j in $threads; do
    # shellcheck disable=SC2086
    "$stylize" "$content" "$style" --model "$model" -s "$s" -n "$evals" -j "$j" --progress none -q \
      -o "$out/j$j.png" ${EXTRA:-} 2>"$out/log" || { cat "$out/log" >&2; exit 2; }
    if [ -z "$first" ]; then
      first="$j"
    elif cmp -s "$out/j$first.png" "$out/j$j.png"; then
      line="$line j$j:same"
    else
      psnr="$("$stylize" compare "$out/j$first.png" "$out/j$j.png" --json 2>/dev/null | sed -n 's/.*"psnr": *\([^,}]*\).*/\1/p')"
      line="$line j$j:psnr=$psnr"
      status=1
    fi
  done
  echo "$line"
done
exit "$status"
