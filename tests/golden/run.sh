#!/usr/bin/env bash
# Golden-output regression check, the way a user's CI would do it.
#   run.sh check  STYLIZE_EXE MODEL WORKDIR   regenerate into WORKDIR and compare with expected/
#   run.sh update STYLIZE_EXE MODEL WORKDIR   regenerate and overwrite expected/
# MODEL is the narrow test model (tests/make_fixtures.py: export_vgg19.py
# --weights random --seed 1 --width-divisor 8). All cores (the output does not
# depend on the thread count), fixed seed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="$1" exe="$2" model="$3" work="$4"
rm -rf "$work"
"$exe" batch -c "$here/inputs/content.png" --style "$here/inputs/stripes.png" "$here/inputs/checks.png" \
  -O "$work" --model "$model" --size 48 --iterations 30 --seed 0 --conv-algorithm direct --progress none -q
case "$mode" in
  check)
    # Same machine and thread count: byte-identical (PSNR inf). Another CPU or
    # LibTorch build may differ in the last bits: the thresholds allow that.
    "$exe" compare "$here/expected" "$work" --min-psnr 35 --min-ssim 0.97 ;;
  update)
    rm -f "$here/expected/"*.png
    cp "$work/"*.png "$here/expected/"
    echo "updated $here/expected" ;;
  *) echo "usage: $0 check|update STYLIZE_EXE MODEL WORKDIR" >&2; exit 2 ;;
esac
