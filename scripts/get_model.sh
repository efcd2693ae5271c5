#!/usr/bin/env bash
# Makes the VGG19 model stylize needs, in models/ (the CLI's default search place).
#   scripts/get_model.sh            random weights, offline (models/vgg19-random.pt)
#   scripts/get_model.sh --imagenet torchvision's ImageNet weights (models/vgg19.pt;
#                                   downloads ~550 MB once, needs internet)
# Existing files are kept; delete one to remake it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${STYLIZE_PYTHON:-/usr/bin/python3}"
case "${1:-}" in
  --imagenet) out="$repo/models/vgg19.pt"; args=(--weights imagenet) ;;
  ""|--random) out="$repo/models/vgg19-random.pt"; args=(--weights random --seed 0) ;;
  *) echo "usage: $0 [--random|--imagenet]" >&2; exit 2 ;;
esac
if [ -f "$out" ]; then echo "model: $out already exists"; exit 0; fi
"$python" "$repo/scripts/export_vgg19.py" "${args[@]}" -o "$out"
