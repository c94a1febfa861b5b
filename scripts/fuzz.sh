#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan (build-fuzz/, only the targets and
# the libraries they link) and runs each for SECONDS (default 30, what CI runs; the release check is 600).
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600, scripts/fuzz.sh 60 npy safetensors
# Environment:
#   FUZZ_BUILD=DIR  use the fuzz targets of an existing MTAG_FUZZ=ON build folder (scripts/test.sh's asan part
#                   builds the test suite and the fuzz targets in one clang build, build-asan/) instead of
#                   configuring build-fuzz/
#   FUZZ_JOBS=N     run N targets at a time (default 1; each libFuzzer process uses one core)
# Seeds: tests/fuzz/corpus/<target>/ (read only). New inputs libFuzzer finds go to BUILD/corpus/<target>/,
# a crash, leak or timeout to BUILD/artifacts/<target>/ and fails the script; turn such an input into a
# regression seed under tests/fuzz/corpus/<target>/ and a unit test next to the parser's tests.
# Prints one line per target: executions, coverage (edges) and features at the end of the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
jobs=${FUZZ_JOBS:-1}

if [[ -n "${FUZZ_BUILD:-}" ]]; then
  build=$(cd "$FUZZ_BUILD" && pwd)
  grep -q '^MTAG_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null ||
    { echo "fuzz.sh: FUZZ_BUILD=$FUZZ_BUILD is not a build folder configured with -DMTAG_FUZZ=ON" >&2; exit 1; }
else
  build="$root/build-fuzz"
  # clang 19 (Debian 12's clang-19): the default clang 14 cannot compile nn/optim (double template parameters).
  cxx=${FUZZ_CXX:-clang++-19}
  cc=${FUZZ_CC:-clang-19}
  command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (scripts/setup.sh --fuzz installs clang-19)" >&2; exit 1; }
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DMTAG_FUZZ=ON -DMTAG_BUILD_TESTS=OFF \
        -DMTAG_PYTHON=OFF -DMTAG_MPI=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_all -j "$(nproc 2>/dev/null || echo 2)"

targets=("$@")
skipped=()
if [[ ${#targets[@]} -eq 0 ]]; then
  for d in "$root"/tests/fuzz/corpus/*/; do
    t=$(basename "$d")
    # A target with an open known finding (tests/fuzz/known/README.md) is skipped here, loudly.
    if [[ -d "$root/tests/fuzz/known/$t" ]]; then skipped+=("$t"); continue; fi
    targets+=("$t")
  done
fi

# Leaks are findings too; halt_on_error makes UBSan reports fatal like ASan's.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
# Only leaks inside third-party decoders whose failing open call leaks are suppressed (see the file).
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
# Reports with function names and lines (llvm-symbolizer comes with clang; 14's reads clang-19's DWARF 5).
symbolizer=$(command -v llvm-symbolizer-19 || command -v llvm-symbolizer || true)
[[ -n "$symbolizer" ]] && export ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer"
# One target: runs it, prints its line (and the log's tail on a finding) in one piece, so that targets
# running side by side do not interleave their output; returns non-zero on a finding.
run_target() {
  local t=$1
  local exe="$build/fuzz/fuzz_$t"
  local work="$build/corpus/$t"
  local artifacts="$build/artifacts/$t/"
  local log="$build/fuzz-$t.log"
  local tmp="$build/tmp/$t"
  mkdir -p "$work" "$artifacts" "$tmp"
  local start status
  start=$(date +%s)
  # -rss_limit_mb / -malloc_limit_mb: an input that makes a parser allocate more than 2 GB is a finding
  # (sizes must be checked against the file before allocating). -timeout: one input taking > 10 s hangs.
  local seeds=("$root/tests/fuzz/corpus/$t")
  [[ -d "$root/tests/fuzz/known/$t" ]] && seeds+=("$root/tests/fuzz/known/$t")
  if TMPDIR="$tmp" "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "${seeds[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  local runs cov report
  # The last count: keras_h5's forked reader children print their own (short) stats when they die.
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -oE '#[0-9]+ +DONE +cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/cov \1 ft \2/' || true)
  [[ -z "$cov" ]] && cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo "cov ?")
  report=$(printf 'fuzz %-18s %-6s %4ss  execs %-10s %s  corpus %s files' "$t" "$status" "$(( $(date +%s) - start ))" \
           "$runs" "$cov" "$(ls "$work" | wc -l)")
  if [[ $status != ok ]]; then
    report+=$'\n'"---- $log (tail) ----"$'\n'"$(tail -40 "$log")"$'\n'"$(ls "$artifacts")"
  fi
  rm -rf "$tmp"
  echo "$report"
  [[ $status == ok ]]
}

for t in "${targets[@]}"; do
  [[ -x "$build/fuzz/fuzz_$t" ]] || { echo "fuzz.sh: no target fuzz_$t" >&2; exit 1; }
done
failed=()
declare -A running=()  # pid -> target
wait_one() {
  local pid
  wait -n -p pid "${!running[@]}" && true
  local code=$?
  [[ $code -eq 0 ]] || failed+=("${running[$pid]}")
  unset "running[$pid]"
}
for t in "${targets[@]}"; do
  while (( ${#running[@]} >= jobs )); do wait_one; done
  run_target "$t" &
  running[$!]=$t
done
while (( ${#running[@]} > 0 )); do wait_one; done
rm -rf "$build/tmp"
for t in "${skipped[@]}"; do
  echo "fuzz $t: SKIPPED, known finding not fixed yet (tests/fuzz/known/README.md)"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in: ${failed[*]} (inputs under $build/artifacts/)" >&2
  exit 1
fi
