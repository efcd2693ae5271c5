#!/usr/bin/env bash
# Installs everything stylize needs from Debian packages. Idempotent: re-running
# only installs what is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  # Compiler cache for repeated builds (optional: the build uses it when present).
  ccache
  # The man page (made from --help at build time) and the Debian package check.
  help2man dpkg-dev
  libtorch-dev libopencv-dev libcli11-dev libspdlog-dev catch2 nlohmann-json3-dev
  # SHA-256 of the model's parameters at every start (libcrypto: ~20x faster
  # than a portable implementation on CPUs with SHA instructions).
  libssl-dev
  # Debian's LibTorch does mm/matmul through the system libblas.so.3; the
  # reference BLAS a fresh machine has is ~14x slower than OpenBLAS.
  libopenblas0-pthread
  # oneDNN's headers for the Winograd convolutions (~1.8x faster evaluations
  # on AVX-512 CPUs); LibTorch already links its library. Its CMake config
  # needs the OpenCL headers.
  libdnnl-dev ocl-icd-opencl-dev
  # Model export script (Debian's interpreter is /usr/bin/python3).
  python3 python3-torch python3-torchvision
  # Fuzzing (tools/fuzz.sh): clang with libFuzzer and the sanitizer runtimes.
  clang libclang-rt-14-dev
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages already installed"
fi
