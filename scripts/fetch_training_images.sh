#!/usr/bin/env bash
# Photographs for fast mode's example and measurements (docs/guides/fast-mode.md),
# from Debian's opencv-doc package (downloaded with apt, no root needed):
# 20 into training/train, 4 held out into training/heldout. A good network
# needs far more (COCO's 80,000 images, or a few thousand of your own);
# these are enough to see it learn a style's colours and textures.
#   scripts/fetch_training_images.sh [DEST]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo/training}"
train=(aero1.jpg aero3.jpg aloeL.jpg apple.jpg baboon.jpg basketball1.png board.jpg box_in_scene.png
       chicky_512.png ela_original.jpg graf1.png home.jpg leuvenA.jpg orange.jpg pca_test1.jpg
       rubberwhale1.png smarties.png squirrel_cls.jpg stuff.jpg HappyFish.jpg)
heldout=(fruits.jpg building.jpg butterfly.jpg messi5.jpg)
if [ -f "$dest/train/${train[-1]}" ] && [ -f "$dest/heldout/${heldout[-1]}" ]; then
  echo "training images: already in $dest"; exit 0
fi
tmp="$(mktemp -d)"
chmod 755 "$tmp"  # apt downloads as user _apt
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download opencv-doc >/dev/null)
dpkg-deb -x "$tmp"/opencv-doc_*.deb "$tmp/x"
data="$tmp/x/usr/share/doc/opencv-doc/examples/data"
mkdir -p "$dest/train" "$dest/heldout"
for f in "${train[@]}"; do cp "$data/$f" "$dest/train/$f"; done
for f in "${heldout[@]}"; do cp "$data/$f" "$dest/heldout/$f"; done
echo "training images: ${#train[@]} in $dest/train, ${#heldout[@]} held out in $dest/heldout (from Debian's opencv-doc)"
