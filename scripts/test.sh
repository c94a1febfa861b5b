#!/usr/bin/env bash
# The CI entry (.ci/run): installs, builds and runs every test part, printing how long each took.
#   release  Release build (build/) and the whole suite: Catch2, CLI, Python, MPI tests through ctest
#   asan     the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, -O1,
#            without the Python module: a CPython extension under ASan needs the runtime preloaded into
#            python3 itself; the Python tests run in the release part)
#   tsan     ThreadSanitizer on the multi-threaded code's tests: thread pool, batch loader, tagger, extract
#            (build-tsan/, -O1, only test_nn and test_data are built)
#   fuzz     every libFuzzer target of tests/fuzz for FUZZ_SECONDS (default 30) each (scripts/fuzz.sh)
# TEST_PARTS="release asan tsan fuzz" chooses the parts. The default is release alone: CI's budget is 45
# minutes on 2 cores from a clean clone, and the sanitizer and fuzz parts (tsan ~13 min, fuzz ~12 min, asan ~45 min of
# which 41 min build, all measured under load; README, "Tests and CI") have not yet been shown to fit beside it. Extra arguments go to
# the release configure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
parts=${TEST_PARTS:-release}
summary=()
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

# Sanitizer builds: -O1 keeps them fast to build and to run (MTAG_NATIVE stays on: the AVX-512 kernels
# need -march=native to compile).
sanitizer_configure() {
  local dir=$1
  shift
  cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DMTAG_PYTHON=OFF -DMTAG_NATIVE=ON "$@" >/dev/null
}

asan() {
  "$root/scripts/setup.sh"
  sanitizer_configure build-asan -DMTAG_SANITIZE=ON
  cmake --build "$root/build-asan" -j "$jobs"
  # Leaks inside Open MPI and hwloc are theirs (tests/sanitizers/lsan.supp); UBSan stops at its first report.
  (cd "$root/build-asan" &&
     LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0" \
     ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=0:abort_on_error=0" \
     UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
     ctest --output-on-failure --no-tests=error -j "$jobs")
}

tsan() {
  "$root/scripts/setup.sh"
  sanitizer_configure build-tsan -DMTAG_TSAN=ON -DMTAG_MPI=OFF
  cmake --build "$root/build-tsan" -j "$jobs" --target test_nn test_data
  # OpenBLAS's own threads are not instrumented: one BLAS thread keeps its work on mtag's (instrumented) threads.
  (cd "$root/build-tsan" &&
     OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp" \
     ctest --output-on-failure --no-tests=error -j "$jobs" -R '^(nn:threads|data:batch_loader|data:tagger|data:extract):')
}

fuzz() {
  "$root/scripts/setup.sh" --fuzz
  "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"
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
