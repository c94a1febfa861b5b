#!/usr/bin/env bash
# Installs every Debian 12 package mtag's build, tests and demo need. Idempotent; quiet when all are present.
#   scripts/setup.sh          build + tests + demo (the Python module `import mtag` and its pytest tests,
#                             python3-torch for mtag.torch and the example CI trains; cairo draws mtag
#                             plot's figures with DejaVu fonts; the suite opens mtag report's HTML in
#                             headless chromium)
#   scripts/setup.sh --bench  also the Python reference oracles (PyTorch, torchaudio, scikit-learn) and
#                             libjemalloc2, the allocator `mtag bench train` tries for PyTorch (LD_PRELOAD)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsndfile1-dev libmpg123-dev libflac-dev libfftw3-dev libsamplerate0-dev libsoxr-dev libopenblas-dev
  nlohmann-json3-dev catch2 libcli11-dev
  libfluidsynth-dev timgm6mb-soundfont
  openmpi-bin libopenmpi-dev
  libhdf5-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  pybind11-dev python3-dev python3-numpy python3-pytest
  python3-torch
  libcairo2-dev fonts-dejavu-core
  chromium
)
# --fuzz: clang-19 + libclang-rt-19-dev: the compiler and sanitizer runtimes of test.sh's asan, tsan and fuzz
# parts, and libFuzzer for scripts/fuzz.sh. Debian 12's default clang 14 cannot compile nn/optim (double
# non-type template parameters need clang >= 18).
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang-19 libclang-rt-19-dev)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3 python3-torchaudio python3-sklearn python3-h5py python3-soundfile libjemalloc2)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup.sh: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
