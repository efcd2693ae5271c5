#!/usr/bin/env bash
# The installed tool, as a user or a distribution gets it:
#   install_check.sh BUILD_DIR WORK_DIR [MODEL]
# `cmake --install` into a prefix (binary, bash completion, man page when
# help2man was found, the model folder), the completion script completes,
# `cpack -G DEB` makes a package whose unpacked binary runs, and a program
# that links the installed library through find_package(stylize) builds and
# (given MODEL) stylizes.
set -euo pipefail
build="$1" work="$2" model="${3:-}"
rm -rf "$work" && mkdir -p "$work"
fail() { echo "install_check: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
[ -x "$work/prefix/bin/stylize" ] || fail "no bin/stylize"
grep -q '^stylize ' <<< "$("$work/prefix/bin/stylize" --version)" || fail "the installed binary does not run"
comp="$work/prefix/share/bash-completion/completions/stylize"
[ -f "$comp" ] || fail "no bash completion"
[ -d "$work/prefix/share/stylize/models" ] || fail "no model folder"
if grep -q '^STYLIZE_HELP2MAN:FILEPATH=/' "$build/CMakeCache.txt"; then
  [ -f "$work/prefix/share/man/man1/stylize.1" ] || fail "no man page"
  grep -qF 'style\-weight' "$work/prefix/share/man/man1/stylize.1" || fail "the man page lacks the options"
fi

# (Output is captured before grep -q: with pipefail, grep -q closing the pipe
# early would fail the pipeline by SIGPIPE.)
# The completion: commands after `stylize`, a command's options, an option's choices.
complete_words() {  # WORD... -> what _stylize offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _stylize; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$comp" "$@"
}
grep -qx batch <<< "$(complete_words stylize ba)" || fail "completion: no 'batch' for 'ba'"
grep -qx -- --shard <<< "$(complete_words stylize batch --sha)" || fail "completion: no --shard after batch"
grep -qx -- --list-jobs <<< "$(complete_words stylize batch --list)" || fail "completion: no --list-jobs after batch"
grep -qx -- --style-loss <<< "$(complete_words stylize --style-lo)" || fail "completion: no --style-loss"
grep -qx mean-cov <<< "$(complete_words stylize a.jpg b.jpg --style-loss m)" || fail "completion: no mean-cov choice"
grep -qx -- --temporal-weight <<< "$(complete_words stylize video --temporal)" || fail "completion: no --temporal-weight"

# The Debian package.
(cd "$build" && cpack -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/pkg/*.deb)
deb=${debs[0]}
[ -f "$deb" ] || fail "no .deb"
grep -q '^ Depends: .*libtorch' <<< "$(dpkg-deb -I "$deb")" || fail "the package does not depend on LibTorch"
dpkg-deb -x "$deb" "$work/root"
bin=$(find "$work/root" -path '*/bin/stylize' -print -quit)
grep -q '^stylize ' <<< "$("$bin" --version)" || fail "the packaged binary does not run"
[ -n "$(find "$work/root" -path '*bash-completion/completions/stylize')" ] || fail "the package has no completion"

# The library: headers, static libraries and the CMake package.
[ -f "$work/prefix/include/stylize/engine.hpp" ] || fail "no headers"
cfg=$(find "$work/prefix" -name stylizeConfig.cmake -print -quit)
[ -n "$cfg" ] || fail "no stylizeConfig.cmake"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$here/consumer" -B "$work/consumer" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/consumer.log" 2>&1 || { cat "$work/consumer.log" >&2; fail "find_package(stylize) failed"; }
cmake --build "$work/consumer" >> "$work/consumer.log" 2>&1 || { cat "$work/consumer.log" >&2; fail "the consumer does not build"; }
if [ -n "$model" ]; then
  out=$("$work/consumer/consumer" "$model") || fail "the consumer does not run: $out"
  grep -q '^consumer: 3 evaluations' <<< "$out" || fail "the consumer: $out"
fi
echo "install_check: ok ($(basename "$deb"), find_package(stylize))"
