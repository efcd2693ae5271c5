#!/usr/bin/env bash
# Builds the tests with AddressSanitizer + UndefinedBehaviorSanitizer (preset
# "asan", in build-asan/) and runs the CPU test suite under them. LibTorch
# itself is not instrumented; leak checking is off because LibTorch's
# process-lifetime singletons would be reported.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cmake --preset asan >/dev/null
cmake --build --preset asan --parallel "$(nproc)"
ctest --preset asan
