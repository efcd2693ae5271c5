#!/usr/bin/env bash
# From a fresh clone: installs dependencies, builds, makes the offline model
# (random weights unless models/vgg19.pt exists), fetches sample images and
# stylizes fruits.jpg with starry_night.jpg at 512 px into out/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh"
[ -f "$repo/models/vgg19.pt" ] || "$repo/scripts/get_model.sh"
"$repo/scripts/fetch_samples.sh"
mkdir -p "$repo/out"
"$repo/build/stylize" "$repo/samples/fruits.jpg" "$repo/samples/starry_night.jpg" \
  -o "$repo/out/fruits_starry_night.png" --size 512 --iterations "${ITERATIONS:-100}" "$@"
echo "quickstart: wrote $repo/out/fruits_starry_night.png"
