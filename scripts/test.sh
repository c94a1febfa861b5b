#!/usr/bin/env bash
# The CI entry (.ci/run): installs, builds and runs every test part, printing how long each took.
#   release  Release build (build/) and the whole suite: Catch2, CLI, Python, MPI tests through ctest
#   asan     one clang-19 build (build-asan/, -O1, line tables only) with AddressSanitizer +
#            UndefinedBehaviorSanitizer of the whole suite AND the libFuzzer targets (MTAG_FUZZ=ON: every
#            library carries libFuzzer's coverage instrumentation, which the tests do not notice), then the
#            whole suite under it. Without the Python module: a CPython extension under ASan needs the
#            runtime preloaded into python3 itself; the Python tests run in the release part
#   tsan     ThreadSanitizer on the multi-threaded code's tests: thread pool, batch loader, tagger, extract
#            (build-tsan/, -O1, only their own executable test_tsan and the libraries it links)
#   fuzz     every libFuzzer target of tests/fuzz for FUZZ_SECONDS (default 30) each, two at a time
#            (scripts/fuzz.sh); it reuses the asan part's fuzz targets when that part ran, else it builds
#            its own (build-fuzz/)
# All four are the default (CI's budget: 45 minutes on 2 cores from a clean clone; the measured time of each
# part is in README, "Tests and CI"). TEST_PARTS="release tsan" chooses parts. Extra arguments go to the
# release configure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
parts=${TEST_PARTS:-release asan tsan fuzz}
summary=()
asan_built=0
total_start=$(date +%s)

run_part() {
  local name=$1
  shift
  local start
  start=$(date +%s)
  echo "==== test.sh: part $name ===="
  "$@"
  local seconds=$(( $(date +%s) - start ))
  summary+=("$(printf '%-8s %3d min %02d s' "$name" $((seconds / 60)) $((seconds % 60)))")
  echo "==== test.sh: part $name passed in $((seconds / 60)) min $((seconds % 60)) s ===="
}

release() {
  "$root/scripts/build.sh" "$@"
  (cd "$root/build" && ctest --output-on-failure --no-tests=error -j "$jobs")
}

# Sanitizer builds: -O1 and line tables only (file:line in every report, a fraction of -g's debug info to
# compile and link), clang-19 (faster to compile than g++ 12, and libFuzzer's compiler). No Python module, no
# LTO. The libraries compile 8 sources per translation unit (MTAG_UNITY): the headers are parsed and
# instrumented once per batch instead of once per file. asan builds for the CPU it runs on (-march=native);
# tsan builds for plain x86-64, which proves that the AVX-512 and AVX2 kernels compile through their target
# attributes alone (a CPU without AVX-512 once could not build mtag: lambdas inside those kernels lacked the
# attribute).
sanitizer_configure() {
  local dir=$1
  shift
  cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
        -DMTAG_PYTHON=OFF -DMTAG_UNITY=ON "$@" >/dev/null
}
symbolizer=$(command -v llvm-symbolizer-19 || command -v llvm-symbolizer || true)

asan() {
  "$root/scripts/setup.sh" --fuzz
  sanitizer_configure build-asan -DMTAG_SANITIZE=ON -DMTAG_FUZZ=ON -DMTAG_NATIVE=ON
  cmake --build "$root/build-asan" -j "$jobs"
  asan_built=1
  # Leaks inside Open MPI and hwloc are theirs (tests/sanitizers/lsan.supp); UBSan stops at its first report.
  (cd "$root/build-asan" &&
     ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer" \
     LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0" \
     ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=0:abort_on_error=0" \
     UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
     ctest --output-on-failure --no-tests=error -j "$jobs")
}

tsan() {
  "$root/scripts/setup.sh" --fuzz
  sanitizer_configure build-tsan -DMTAG_TSAN=ON -DMTAG_MPI=OFF -DMTAG_NATIVE=OFF
  cmake --build "$root/build-tsan" -j "$jobs" --target test_tsan
  # OpenBLAS's own threads are not instrumented: one BLAS thread keeps its work on mtag's (instrumented) threads.
  (cd "$root/build-tsan" &&
     OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp" \
     ctest --output-on-failure --no-tests=error -j "$jobs" -R '^tsan:')
}

# Two targets at a time: each libFuzzer process uses one core.
fuzz() {
  "$root/scripts/setup.sh" --fuzz
  if [[ $asan_built == 1 ]]; then
    FUZZ_BUILD="$root/build-asan" FUZZ_JOBS=$jobs "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"
  else
    FUZZ_JOBS=$jobs "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"
  fi
}

for part in $parts; do
  case $part in
    release) run_part release release "$@" ;;
    asan) run_part asan asan ;;
    tsan) run_part tsan tsan ;;
    fuzz) run_part fuzz fuzz ;;
    *) echo "test.sh: unknown part '$part' (release, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done
total=$(( $(date +%s) - total_start ))
echo "==== test.sh: all parts passed ===="
printf '  %s\n' "${summary[@]}"
printf '  total    %3d min %02d s\n' $((total / 60)) $((total % 60))
