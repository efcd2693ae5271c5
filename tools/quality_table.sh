#!/usr/bin/env bash
# Issue 3's before/after table: runs each quality feature on a sample pair with
# the full-size model at a modest size, and prints a markdown table of final
# losses and time (from the --sidecar provenance) plus the images' paths.
#   tools/quality_table.sh [OUTDIR] [SIZE] [ITERATIONS]
# Losses are comparable only between variants that keep the same targets:
# --colors luminance/match/histogram change the style targets themselves.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/out/quality}" size="${2:-256}" n="${3:-100}"
exe="$repo/build/stylize"
"$repo/scripts/fetch_samples.sh" >/dev/null
c="$repo/samples/fruits.jpg" s="$repo/samples/starry_night.jpg" s2="$repo/samples/building.jpg"
mkdir -p "$out"
run() {  # name, extra args...
  local name="$1"; shift
  "$exe" "$c" "$s" -o "$out/$name.png" -s "$size" -n "$n" --threads "${THREADS:-0}" --sidecar -q "$@" 2>/dev/null
}
run baseline
run luminance --colors luminance
run match --colors match
run histogram --colors histogram
run normgrad --normalize-gradients
run avgpool --pooling avg
run adam --optimizer adam --learning-rate 0.02
run adam-ema --optimizer adam --learning-rate 0.02 --ema-decay 0.98
# Equal pixel-evaluation budget: coarse scales at 1/2 and 1/sqrt2 of the side
# cost 1/4 and 1/2 of a final-scale evaluation.
coarse=$(( n / 4 ))
run multiscale --scales 3 --scale-iterations "$coarse" -n $(( n - (coarse * 3 + 3) / 4 ))
run earlystop --early-stop 0.01 --early-stop-window 20
"$exe" "$c" "$s" "$s2" -o "$out/blend.png" -s "$size" -n "$n" --style-blend 0.5,0.5 --sidecar -q 2>/dev/null
echo "| variant | evaluations | content | style | tv | total | seconds | image |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
for f in "$out"/*.png.json; do
  /usr/bin/python3 - "$f" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1]))
l = d["losses"]
name = os.path.basename(sys.argv[1])[:-len(".png.json")]
print(f"| {name} | {d['evaluations']} | {l['content']:.4g} | {l['style']:.4g} | {l['tv']:.3g} | {l['total']:.4g} | {d['seconds']:.1f} | {name}.png |")
PY
done
