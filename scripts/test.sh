#!/usr/bin/env bash
# Installs what is missing, builds, and runs the CPU test suite (ctest label "cpu").
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh"
ctest --test-dir "${STYLIZE_BUILD_DIR:-$repo/build}" -L cpu --output-on-failure
