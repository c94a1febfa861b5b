#!/usr/bin/env bash
# Installs what is missing, configures and builds into build/. The executable ends up at build/mtag.
# Extra arguments go to CMake's configure step, e.g. scripts/build.sh -DMTAG_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$root/build" -j "$jobs"
