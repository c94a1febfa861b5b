# Sourced by the CLI fault scripts (faults.sh, sweep.sh, model_check.sh, odd_paths.sh, output_lock.sh):
# `enter_scratch DIR LABEL` empties and enters the test's scratch folder; `fail MESSAGE` ends the test,
# naming LABEL, so a ctest log says which case broke.
enter_scratch() {
  rm -rf "$1"
  mkdir -p "$1"
  cd "$1"
  scratch_label=$2
}
fail() { echo "FAIL ($scratch_label): $*" >&2; exit 1; }
