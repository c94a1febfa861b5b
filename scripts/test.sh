#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (Catch2 tests and CLI smoke tests through ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$@"
jobs=$(nproc 2>/dev/null || echo 2)
cd "$root/build"
ctest --output-on-failure -j "$jobs"
