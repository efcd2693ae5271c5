#!/usr/bin/env bash
# Puts sample images into samples/ (or the folder given): starry_night.jpg,
# fruits.jpg and building.jpg from Debian's opencv-doc package, downloaded
# with apt (no root needed) and unpacked in a temporary folder.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo/samples}"
mkdir -p "$dest"
if [ -f "$dest/starry_night.jpg" ] && [ -f "$dest/fruits.jpg" ] && [ -f "$dest/building.jpg" ]; then
  echo "samples: already in $dest"; exit 0
fi
tmp="$(mktemp -d)"
chmod 755 "$tmp"  # apt downloads as user _apt
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download opencv-doc >/dev/null)
dpkg-deb -x "$tmp"/opencv-doc_*.deb "$tmp/x"
for f in starry_night.jpg fruits.jpg building.jpg; do
  cp "$tmp/x/usr/share/doc/opencv-doc/examples/data/$f" "$dest/$f"
done
echo "samples: starry_night.jpg fruits.jpg building.jpg in $dest (from Debian's opencv-doc)"
