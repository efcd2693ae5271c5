#!/usr/bin/env bash
# Installs what is missing, builds, and runs the CPU test suite (ctest label "cpu").
# Every ctest entry has a timeout (STYLIZE_TEST_TIMEOUT, 600 s); a JUnit
# report with each entry's time is written to <build>/ctest-junit.xml.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${STYLIZE_BUILD_DIR:-$repo/build}"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh"
ctest --test-dir "$build" -L cpu --output-on-failure --output-junit "$build/ctest-junit.xml"
