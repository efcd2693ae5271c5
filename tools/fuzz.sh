#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz (no LibTorch needed) and runs each
# for a bounded time on a copy of its seed corpus.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
#
# Environment: FUZZ_CXX (default clang++, else clang++-14), FUZZ_BUILD_DIR (default <repo>/build-fuzz),
# FUZZ_JOBS (parallel compile jobs, default: all cores), FUZZ_TARGETS (space-
# separated subset, default: all four).
# Exits non-zero if any target crashes, leaks, times out or runs out of memory;
# the input that did it is kept under $FUZZ_BUILD_DIR/artifacts/<target>/ and
# can be replayed with: $FUZZ_BUILD_DIR/<target> <artifact file>
set -euo pipefail

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET]   (a positive whole number, default 20)" >&2
    exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$repo/build-fuzz}"
cxx="${FUZZ_CXX:-clang++}"
if [ -z "${FUZZ_CXX:-}" ] && ! command -v clang++ >/dev/null 2>&1 && command -v clang++-14 >/dev/null 2>&1; then
    cxx=clang++-14
fi
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
read -r -a targets <<<"${FUZZ_TARGETS:-fuzz_json fuzz_options fuzz_image_header fuzz_jobs_file}"

if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "fuzz.sh: $cxx not found (Debian 12: apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi

start=$SECONDS
echo "== building fuzz targets in $build (compiler: $cxx, $jobs jobs)"
mkdir -p "$build"
cmake -S "$repo/tests/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log" >&2
    exit 2
}
cmake --build "$build" --parallel "$jobs" --target "${targets[@]}"
echo "== build took $((SECONDS - start)) s; fuzzing each target for $seconds s"

work="$(mktemp -d "${TMPDIR:-/tmp}/stylize-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/logs"

failed=0
summary=()
for t in "${targets[@]}"; do
    corpus="$work/corpus/$t"
    mkdir -p "$corpus"
    # Copy the seeds so that new inputs libFuzzer saves do not land in the repo.
    if [ -d "$repo/tests/fuzz/corpus/$t" ]; then
        cp -R "$repo/tests/fuzz/corpus/$t/." "$corpus/"
    fi
    artifacts="$build/artifacts/$t"
    mkdir -p "$artifacts"
    log="$build/logs/$t.log"
    args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$artifacts/")
    if [ -f "$repo/tests/fuzz/dict/$t.dict" ]; then
        args+=(-dict="$repo/tests/fuzz/dict/$t.dict")
    fi

    t0=$SECONDS
    rc=0
    "$build/$t" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
    took=$((SECONDS - t0))

    runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    if [ -z "$runs" ]; then  # no final stats after a crash: use the last status line
        runs="$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)"
    fi
    units="$(find "$corpus" -type f | wc -l | tr -d ' ')"
    if [ "$rc" -eq 0 ]; then
        result="ok"
    else
        failed=1
        kind="$(grep -m1 -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer): [a-zA-Z-]+|runtime error: .*|property violated: .*|deadly signal|timeout after [0-9]+ seconds|out-of-memory' "$log" | sed 's/[[:space:]]*$//' || true)"
        artifact="$(sed -n "s|.*Test unit written to \(.*\)$|\1|p" "$log" | tail -n 1)"
        result="FAILED (exit $rc: ${kind:-see log}); input: ${artifact:-none}; log: $log"
        echo "---- last lines of $log" >&2
        tail -n 40 "$log" >&2
        echo "----" >&2
    fi
    summary+=("$(printf '%-18s runs=%-9s corpus=%-5s time=%ss  %s' "$t" "${runs:-?}" "$units" "$took" "$result")")
done

echo "== fuzz summary (${seconds}s per target, total $((SECONDS - start)) s)"
printf '%s\n' "${summary[@]}"
exit "$failed"
