#!/usr/bin/env bash
# Configures and builds stylize (Release) in build/ with Ninja.
# Extra arguments go to cmake, e.g. -DCMAKE_PREFIX_PATH=/path/to/libtorch.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${STYLIZE_BUILD_DIR:-$repo/build}"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" --parallel "$(nproc)"
