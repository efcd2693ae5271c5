#!/bin/bash
# The soak at full size: a batch of about JOBS jobs (tiny images, two
# evaluations each, hostile files mixed in) killed with SIGKILL KILLS times
# and resumed with --skip-existing until done, checked byte for byte against
# an uninterrupted run; two processes on one output folder; a disk that
# fills part-way (a tmpfs: needs root); a 16-frame video and a 24-step
# training run, each killed KILLS times and resumed to the same bytes. CI
# runs the same tests at 200 jobs and 8 kills (ctest entry cli_soak).
#
#   tools/soak.sh [JOBS] [KILLS]      (default 1000 20; needs a build/)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-1000}
kills=${2:-20}
[ -x build/tests/stylize_cli_tests ] || { echo "soak: build first (scripts/build.sh)" >&2; exit 2; }
start=$SECONDS
STYLIZE_SOAK_JOBS=$jobs STYLIZE_SOAK_KILLS=$kills OMP_NUM_THREADS=1 \
    build/tests/stylize_cli_tests "-#" "[#test_soak]" 2> >(grep -v ' Killed ' >&2)
echo "soak: passed in $((SECONDS - start)) s"
