# Sourced by the CLI fault scripts (faults.sh, sweep.sh, model_check.sh, odd_paths.sh, output_lock.sh):
# `enter_scratch DIR LABEL` empties and enters the test's scratch folder; `fail MESSAGE` ends the test,
# naming LABEL, so a ctest log says which case broke; `tiny_cnn1d_config` and `low_high_manifest` (below)
# print the small training config and manifest several scripts train on.
enter_scratch() {
  rm -rf "$1"
  mkdir -p "$1"
  cd "$1"
  scratch_label=$2
}
fail() { echo "FAIL ($scratch_label): $*" >&2; exit 1; }

# `tiny_cnn1d_config BATCH [FIELDS]` prints the small cnn1d training config the scripts train (16-band
# log-mel at 16 kHz, two 8-channel convolutions); FIELDS adds top-level fields, e.g. '"epochs": 2'.
tiny_cnn1d_config() {
  cat <<JSON
{"model": {"preset": "cnn1d", "n_mels": 16, "input_frames": 32, "channels": [8, 8], "kernel_sizes": [3, 3],
           "pools": [2, 1], "dense": [8]},
 "features": {"kind": "logmel", "sample_rate": 16000, "n_fft": 256, "hop_length": 64, "n_mels": 16, "fmax": 4000},
 "batch_size": $1, "evaluation": {"eval_chunks": 2}${2:+, $2}}
JSON
}

# `low_high_manifest COUNT FIRST_VALID PATH_FORMAT` prints a CSV manifest of clips 1..COUNT, tagged low (odd)
# or high (even), train below FIRST_VALID and valid from it; PATH_FORMAT is printf's, e.g. audio/t%02d.wav.
low_high_manifest() {
  echo "path,tags,split"
  local i tags split
  for ((i = 1; i <= $1; i++)); do
    if (( i % 2 )); then tags=low; else tags=high; fi
    if (( i < $2 )); then split=train; else split=valid; fi
    printf "$3,%s,%s\n" "$i" "$tags" "$split"
  done
}
