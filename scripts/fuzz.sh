#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan (build-fuzz/, only the targets and
# the libraries they link) and runs each for SECONDS (default 30, what CI runs; the release check is 600).
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600, scripts/fuzz.sh 60 npy safetensors
# Seeds: tests/fuzz/corpus/<target>/ (read only). New inputs libFuzzer finds go to build-fuzz/corpus/<target>/,
# a crash, leak or timeout to build-fuzz/artifacts/<target>/ and fails the script; turn such an input into a
# regression seed under tests/fuzz/corpus/<target>/ and a unit test next to the parser's tests.
# Prints one line per target: executions, coverage (edges) and features at the end of the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
build="$root/build-fuzz"

# clang 19 (Debian 12's clang-19): the default clang 14 cannot compile nn/optim (double template parameters).
cxx=${FUZZ_CXX:-clang++-19}
cc=${FUZZ_CC:-clang-19}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (scripts/setup.sh --fuzz installs clang-19)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DMTAG_FUZZ=ON -DMTAG_BUILD_TESTS=OFF \
      -DMTAG_PYTHON=OFF -DMTAG_MPI=OFF >/dev/null
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
failed=()
for t in "${targets[@]}"; do
  exe="$build/fuzz/fuzz_$t"
  [[ -x "$exe" ]] || { echo "fuzz.sh: no target fuzz_$t" >&2; exit 1; }
  work="$build/corpus/$t"
  artifacts="$build/artifacts/$t/"
  mkdir -p "$work" "$artifacts"
  log="$build/fuzz-$t.log"
  mkdir -p "$build/tmp"
  start=$(date +%s)
  # -rss_limit_mb / -malloc_limit_mb: an input that makes a parser allocate more than 2 GB is a finding
  # (sizes must be checked against the file before allocating). -timeout: one input taking > 10 s hangs.
  seeds=("$root/tests/fuzz/corpus/$t")
  [[ -d "$root/tests/fuzz/known/$t" ]] && seeds+=("$root/tests/fuzz/known/$t")
  if TMPDIR="$build/tmp" "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "${seeds[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -oE '#[0-9]+ +DONE +cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/cov \1 ft \2/' || true)
  [[ -z "$cov" ]] && cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo "cov ?")
  printf 'fuzz %-18s %-6s %4ss  execs %-10s %s  corpus %s files\n' "$t" "$status" "$(( $(date +%s) - start ))" \
         "$runs" "$cov" "$(ls "$work" | wc -l)"
  if [[ $status != ok ]]; then
    echo "---- $log (tail) ----"; tail -40 "$log"; ls "$artifacts"
  fi
  mkdir -p "$build/tmp"
done
rm -rf "$build/tmp"
for t in "${skipped[@]}"; do
  echo "fuzz $t: SKIPPED, known finding not fixed yet (tests/fuzz/known/README.md)"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in: ${failed[*]} (inputs under build-fuzz/artifacts/)" >&2
  exit 1
fi
