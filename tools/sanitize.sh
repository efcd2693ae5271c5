#!/usr/bin/env bash
# Builds the library-level tests (the engine, losses, tiles, models, image
# I/O, fast-mode training: ctest label "lib") with AddressSanitizer +
# UndefinedBehaviorSanitizer (preset "asan", in build-asan/) and runs them.
#
# Only the library's tests: the command-line tests spend their time inside
# LibTorch, which the sanitizers do not instrument, and build the CLI for
# nothing; they run in the plain build (scripts/test.sh). Leak checking is
# off because LibTorch's process-lifetime singletons would be reported.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cmake --preset asan >/dev/null
cmake --build --preset asan --parallel "$(nproc)"
ctest --preset asan
